"""`image_url` on both removal routes, against moto: an allow-listed object under the caller's
folder is read through a session of the image-url role whose policy names only that object
(HEAD before GET, size-bounded); the caller's own upload named as an S3 location is an
upload; anything else is refused before any read, with what is accepted."""

from __future__ import annotations

import io
import json
from urllib.parse import urlencode

import pytest
import requests
from aws_call_recorder import RECORDER
from batch_support import OUTSIDE_BUCKET, SOURCE_BUCKET, allow_listed, image, put
from integration_support import REGION, Gateway, load_function
from PIL import Image
from policy_check import IMAGE_URL_FUNCTION, IMAGE_URL_ROLE_ARN

from cutout.data.object_access import ObjectAccess
from cutout.errors import ImageTooLarge

JSON = {"Content-Type": "application/json"}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture
def url_settings(settings):
    return allow_listed(settings)


@pytest.fixture
def url_gateway(url_settings, stores, handlers) -> Gateway:
    from cutout.service.removal import build_removal_service

    function = load_function("remove_background").make_handler(
        build_removal_service(url_settings, stores=stores), settings=url_settings)
    return Gateway(handlers["authorizer"], {"remove_background": function,
                                            "uploads": handlers["uploads"]})


def native(gateway, caller, url):
    return gateway.request("POST", "/v1/remove-background", key=caller.secret, headers=JSON,
                           body=json.dumps({"image_url": url}))


def removebg(gateway, caller, url, accept="*/*"):
    return gateway.request("POST", "/v1.0/removebg", key=caller.secret,
                           headers={**FORM, "Accept": accept},
                           body=urlencode({"image_url": url, "size": "regular"}))


def session_calls(key: str) -> list:
    return [r for r in RECORDER.requests
            if r.function == IMAGE_URL_FUNCTION and r.resource.endswith(key)]


def test_an_allow_listed_object_of_the_account_is_cut_out_through_a_one_object_session(
        url_gateway, caller):
    # Given a PNG under the caller's folder in an allow-listed source bucket
    key = f"{caller.account_id}/shoes/red.png"
    put(SOURCE_BUCKET, key, image("PNG", (96, 64)))
    before = set(RECORDER.requests)  # the session's recorder: earlier tests' calls are in it
    # When the native route is asked for it by s3:// URI
    answer = native(url_gateway, caller, f"s3://{SOURCE_BUCKET}/{key}")
    # Then its cutout comes back inline, the size of the object's image
    assert answer.status == 200, answer.body
    assert Image.open(io.BytesIO(answer.body)).size == (96, 64)
    # And it was read as the image-url role, HEAD (s3:GetObject) and GET, under a session
    # policy that names that one object and nothing else
    calls = session_calls(key)
    assert {c.call for c in calls} == {"s3:HeadObject", "s3:GetObject"}
    (policy,) = {c.session_policy for c in calls}
    (statement,) = json.loads(policy)["Statement"]
    assert statement["Action"] == "s3:GetObject"
    assert statement["Resource"] == f"arn:aws:s3:::{SOURCE_BUCKET}/{key}"
    # And the API function itself never touched the bucket for this request (a batch request
    # of another test lists a source prefix with the function's own role, as it may)
    assert not [r for r in set(RECORDER.requests) - before if r.function == "remove-background"
                and SOURCE_BUCKET in r.resource and r.action.startswith("s3:")]


def test_the_https_url_of_the_object_works_on_the_removebg_route(url_gateway, caller):
    key = f"{caller.account_id}/in/a b.png"
    put(SOURCE_BUCKET, key, image("PNG", (80, 60)))
    url = f"https://{SOURCE_BUCKET}.s3.{REGION}.amazonaws.com/{caller.account_id}/in/a%20b.png"
    answer = removebg(url_gateway, caller, url)
    assert answer.status == 200, answer.body
    assert answer.headers["Content-Type"] == "image/png"
    path_style = f"https://s3.{REGION}.amazonaws.com/{SOURCE_BUCKET}/{caller.account_id}/in/a%20b.png"
    answer = removebg(url_gateway, caller, path_style, accept="application/json")
    assert answer.status == 200 and "result_b64" in answer.json()["data"]


REFUSED = {
    "the internet": lambda me: "https://example.com/a.jpg",
    "the metadata service": lambda me: "http://169.254.169.254/latest/meta-data/",
    "another account's folder": lambda me: f"s3://{SOURCE_BUCKET}/acc_someone_else/a.png",
    "a bucket off the allow-list": lambda me: f"s3://{OUTSIDE_BUCKET}/{me}/a.png",
    "the training bucket": lambda me: f"s3://cutout-test-training/training/{me}/r/input",
    "a result in the transient bucket": lambda me: f"s3://cutout-test-transient/results/{me}/r.png",
}


@pytest.mark.parametrize("url", REFUSED.values(), ids=REFUSED.keys())
def test_anything_else_is_refused_before_any_read_on_both_routes(url_gateway, caller, url):
    me = caller.account_id
    put(OUTSIDE_BUCKET, f"{me}/a.png", image("PNG", (32, 32)))
    put(SOURCE_BUCKET, "acc_someone_else/a.png", image("PNG", (32, 32)))
    before = set(RECORDER.requests)
    answer = native(url_gateway, caller, url(me))
    assert answer.status == 400, answer.body
    assert answer.json()["error"]["code"] == "image_url_not_allowed"
    assert "s3://" in answer.json()["error"]["message"]  # what is accepted
    answer = removebg(url_gateway, caller, url(me))
    assert answer.status == 400
    (error,) = answer.json()["errors"]
    assert error["code"] == "image_url_not_allowed" and error["title"] == "Image URL not allowed"
    # no S3 call and no session for it
    new = set(RECORDER.requests) - before
    assert not [r for r in new if r.action.startswith(("s3:", "sts:"))], new


def test_a_missing_object_is_not_found_and_never_listed(url_gateway, caller):
    url = f"s3://{SOURCE_BUCKET}/{caller.account_id}/missing.png"
    answer = native(url_gateway, caller, url)
    assert answer.status == 404 and answer.json()["error"]["code"] == "image_url_not_found"
    answer = removebg(url_gateway, caller, url)
    assert answer.status == 400 and answer.json()["errors"][0]["code"] == "image_url_not_found"


def test_an_object_over_the_bound_is_refused_by_its_head_before_a_byte_is_read(
        url_settings, caller, monkeypatch):
    from cutout.data import object_access

    key = f"{caller.account_id}/big.png"
    put(SOURCE_BUCKET, key, b"\x89PNG" + bytes(2048))
    calls: list[str] = []
    original = object_access.s3_client

    def session_client(**kwargs):  # the session's own client, its calls counted
        client = original(**kwargs)
        client.meta.events.register("before-call.s3.*",
                                    lambda model, **_: calls.append(model.name))
        return client

    monkeypatch.setattr(object_access, "s3_client", session_client)
    with pytest.raises(ImageTooLarge):
        ObjectAccess(IMAGE_URL_ROLE_ARN).read(caller.account_id, "req-1", SOURCE_BUCKET, key, 1024)
    assert calls == ["HeadObject"]
    # and within the bound, one GET of that version follows the HEAD
    assert ObjectAccess(IMAGE_URL_ROLE_ARN).read(caller.account_id, "req-2", SOURCE_BUCKET, key,
                                           4096).startswith(b"\x89PNG")
    assert calls == ["HeadObject", "HeadObject", "GetObject"]


def test_the_accounts_upload_named_as_an_s3_location_is_read_as_its_upload(
        url_gateway, url_settings, caller, other_caller, png_image):
    # Given an upload of the caller's, PUT through its signed URL
    upload = url_gateway.request("POST", "/v1/uploads", key=caller.secret).json()
    put_answer = requests.put(upload["upload_url"], data=png_image, headers=upload["headers"],
                              timeout=10)
    assert put_answer.status_code == 200
    url = f"s3://{url_settings.transient_bucket}/uploads/{caller.account_id}/{upload['upload_id']}"
    # When another account names it, Then it is refused (and not used up)
    answer = native(url_gateway, other_caller, url)
    assert answer.status == 400 and answer.json()["error"]["code"] == "image_url_not_allowed"
    # When the caller names it, Then it is read as its upload: the result leaves as a link
    answer = native(url_gateway, caller, url)
    assert answer.status == 200, answer.body
    assert "result_url" in answer.json()
    assert not session_calls(upload["upload_id"])  # the function's own upload read, no session


def test_sts_throttling_is_a_503_to_retry_not_a_missing_object(caller):
    # Given STS throttling the one-object session (every read takes one)
    from botocore.stub import Stubber

    from cutout.data.aws import sts_client
    from cutout.errors import ServiceUnavailable

    sts = sts_client()
    with Stubber(sts) as stub:
        stub.add_client_error("assume_role", service_error_code="Throttling",
                              http_status_code=400)
        # When an image_url read asks for its session, Then it is an outage (503, retry),
        # not image_url_not_found
        with pytest.raises(ServiceUnavailable):
            ObjectAccess(IMAGE_URL_ROLE_ARN, sts=sts).read(
                caller.account_id, "req-3", SOURCE_BUCKET, f"{caller.account_id}/a.png", 1024)


def test_an_object_replaced_between_its_head_and_get_is_a_503_to_retry(url_settings, caller,
                                                                       monkeypatch):
    # Given an allow-listed object that is replaced after the HEAD, before the GET
    from cutout.data import object_access
    from cutout.errors import ServiceUnavailable

    key = f"{caller.account_id}/changing.png"
    put(SOURCE_BUCKET, key, image("PNG", (16, 16)))
    original = object_access.s3_client

    def session_client(**kwargs):
        client = original(**kwargs)
        client.meta.events.register(
            "before-call.s3.GetObject",
            lambda **_: put(SOURCE_BUCKET, key, image("PNG", (24, 24))))
        return client

    monkeypatch.setattr(object_access, "s3_client", session_client)
    # When it is read, Then the read is refused as an outage to retry, not as a missing object
    with pytest.raises(ServiceUnavailable):
        ObjectAccess(IMAGE_URL_ROLE_ARN).read(caller.account_id, "req-4", SOURCE_BUCKET, key,
                                              4096)
    # And read again, the new version is what comes back
    monkeypatch.setattr(object_access, "s3_client", original)
    data = ObjectAccess(IMAGE_URL_ROLE_ARN).read(caller.account_id, "req-5", SOURCE_BUCKET, key,
                                                 4096)
    assert data == image("PNG", (24, 24))
