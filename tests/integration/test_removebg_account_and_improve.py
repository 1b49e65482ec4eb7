"""remove.bg's other v1.0 routes through proxy events: `GET /v1.0/account` (this month's
usage as credits, in remove.bg's shape) and `POST /v1.0/improve` (an image kept for
training only when the account opted in; otherwise 403 and nothing kept)."""

from __future__ import annotations

import base64
import json
import sys
from dataclasses import replace

import boto3
import pytest
from batch_support import OUTSIDE_BUCKET, SOURCE_BUCKET, allow_listed, put
from integration_support import (
    REGION,
    ROOT,
    Gateway,
    LocalContext,
    answer_of,
    assert_no_secrets,
    bucket_keys,
    disc_image,
    load_function,
    multipart,
)

from cutout.data.training import INPUT, SUBMISSION_NOTE
from cutout.errors import TrainingNotOptedIn
from cutout.local.events import proxy_event
from cutout.service.receipt import parse_receipt

sys.path.insert(0, str(ROOT / "tests" / "unit"))  # the hostile corpus is shared with unit tests
import hostile_images  # noqa: E402

ACCOUNT = "/v1.0/account"
IMPROVE = "/v1.0/improve"


def only_error(answer) -> dict:
    """The single error of a remove.bg error body (and nothing of our native shape)."""
    body = answer.json()
    assert set(body) == {"errors"} and len(body["errors"]) == 1
    return body["errors"][0]


def submit_file(gateway, caller, image, fields=None):
    body, content_type = multipart(fields or {}, {"image_file": ("car.jpg", image, None)})
    return gateway.request("POST", IMPROVE, key=caller.secret, body=body,
                           headers={"Content-Type": content_type})


def submit_b64(gateway, caller, image, **fields):
    document = {"image_file_b64": base64.b64encode(image).decode(), **fields}
    return gateway.request("POST", IMPROVE, key=caller.secret, body=json.dumps(document),
                           headers={"Content-Type": "application/json"})


def removebg(gateway, caller, image):
    body, content_type = multipart({}, {"image_file": ("photo.png", image, None)})
    return gateway.request("POST", "/v1.0/removebg", key=caller.secret, body=body,
                           headers={"Content-Type": content_type})


# --- GET /v1.0/account ----------------------------------------------------------------------
def test_the_account_is_remove_bgs_shape_with_this_months_removals_as_credits(
        gateway, caller, png_image):
    # Given an account that has made two cutouts this month
    for _ in range(2):
        assert removebg(gateway, caller, png_image).status == 200
    # When it reads its account the remove.bg way
    answer = gateway.request("GET", ACCOUNT, key=caller.secret)
    # Then remove.bg's shape: credits (the two removals) and the api block; nothing written
    assert answer.status == 200 and answer.headers["Cache-Control"] == "no-store"
    assert answer.headers["X-Cutout-Retention"] == "none"
    attributes = answer.json()["data"]["attributes"]
    assert attributes["credits"] == {"total": 2.0, "subscription": 0.0, "payg": 0.0,
                                     "enterprise": 2.0}
    assert attributes["api"] == {"free_calls": 0, "sizes": "all"}
    # And the same count as the native account's usage, in our own terms beside it
    native = gateway.request("GET", "/v1/account", key=caller.secret).json()["usage"]
    assert attributes["usage"] == {"month": native["month"], "requests": 2,
                                   "megapixels": native["megapixels"]}


def test_a_new_account_has_no_credits_counted(gateway, caller):
    # Given an account that made nothing yet, When it reads its account
    answer = gateway.request("GET", ACCOUNT, key=caller.secret)
    # Then zero removals, as numbers
    assert answer.status == 200
    assert answer.json()["data"]["attributes"]["credits"]["total"] == 0.0


def test_each_account_sees_only_its_own_usage(gateway, caller, other_caller, png_image):
    # Given another account's removal
    assert removebg(gateway, other_caller, png_image).status == 200
    # When this account reads its credits, Then the other's work is not counted
    answer = gateway.request("GET", ACCOUNT, key=caller.secret)
    assert answer.json()["data"]["attributes"]["credits"]["total"] == 0.0


def test_an_unknown_key_is_refused_in_remove_bgs_shape(gateway):
    # Given a key nobody issued, When it reads the account
    answer = gateway.request("GET", ACCOUNT, key="co_live_" + "x" * 43)
    # Then the gateway's refusal carries remove.bg's auth_failed
    assert answer.status == 403
    assert answer.json()["errors"][0]["code"] == "auth_failed"


# --- POST /v1.0/improve: nothing kept without the opt-in -------------------------------------
@pytest.mark.parametrize("send", [submit_file, submit_b64])
def test_a_non_opted_in_account_is_refused_and_nothing_is_kept(gateway, caller, settings,
                                                                send, jpeg_image):
    # Given an account whose AI Training Data switch is off (the default)
    # When it submits an image to the improvement program
    answer = send(gateway, caller, jpeg_image)
    # Then 403 in remove.bg's shape, pointing at the switch on the account page
    assert answer.status == 403
    error = only_error(answer)
    assert error["code"] == "training_opt_in_required"
    assert "AI Training Data" in error["detail"] and "/account" in error["detail"]
    # And no bucket holds anything at all, as the answer's retention receipt says
    assert bucket_keys(settings.training_bucket) == []
    assert bucket_keys(settings.transient_bucket) == []
    assert answer.headers["X-Cutout-Retention"] == "none"


def test_a_non_opted_in_submission_logs_no_image_bytes(gateway, caller, logs, settings,
                                                       jpeg_image):
    # Given a refused submission with a tag and a file name
    answer = submit_file(gateway, caller, jpeg_image,
                         {"tag": "batch_1", "image_filename": "secret-name.jpg"})
    assert answer.status == 403
    # Then the logs carry neither the key nor the image, nor the file name
    text = logs.text()
    assert "training_opt_in_required" in text
    assert_no_secrets(text, caller.secret, caller.key_hash, jpeg_image, "secret-name.jpg")
    assert bucket_keys(settings.training_bucket) == []


def test_an_opt_out_keeps_refusing(gateway, caller, accounts, settings, jpeg_image):
    # Given an account that opted in and then out again
    accounts.set_opt_in(caller.account_id, True, changed_by="test")
    accounts.set_opt_in(caller.account_id, False, changed_by="test")
    # When it submits, Then it is refused and nothing is kept
    assert submit_b64(gateway, caller, jpeg_image).status == 403
    assert bucket_keys(settings.training_bucket) == []


# --- POST /v1.0/improve: kept for an opted-in account -----------------------------------------
def test_an_opted_in_account_keeps_the_image_and_its_note(gateway, caller, accounts, settings,
                                                          jpeg_image):
    # Given an account that turned the AI Training Data switch on
    accounts.set_opt_in(caller.account_id, True, changed_by="test")
    # When it submits an image with remove.bg's tag and file name
    answer = submit_file(gateway, caller, jpeg_image,
                         {"tag": "batch_1_2020", "image_filename": "car.jpg"})
    # Then remove.bg's answer: the id of the submission
    assert answer.status == 200
    body = answer.json()
    submission_id = body["id"]
    assert body["data"] == {"id": submission_id} and len(submission_id) == 36
    # And exactly the image, as received, and its note are in the training store, under the
    # account's folder and that id
    folder = f"training/{caller.account_id}/{submission_id}/"
    assert sorted(bucket_keys(settings.training_bucket)) == [folder + INPUT,
                                                            folder + SUBMISSION_NOTE]
    s3 = boto3.client("s3", region_name=REGION)
    stored = s3.get_object(Bucket=settings.training_bucket, Key=folder + INPUT)
    assert stored["Body"].read() == jpeg_image and stored["ContentType"] == "image/jpeg"
    assert stored["ServerSideEncryption"] == "aws:kms"
    note = json.loads(s3.get_object(Bucket=settings.training_bucket,
                                    Key=folder + SUBMISSION_NOTE)["Body"].read())
    assert note == {"program": "improve", "tag": "batch_1_2020", "image_filename": "car.jpg"}
    # And nothing transient was written; the receipt names the two objects kept
    assert bucket_keys(settings.transient_bucket) == []
    entries = parse_receipt(answer.headers["X-Cutout-Retention"])
    assert [entry.kind for entry in entries] == ["training-input", "training-note"]


def test_opting_out_deletes_what_was_submitted(gateway, caller, accounts, settings, png_image):
    # Given an opted-in account's submission
    accounts.set_opt_in(caller.account_id, True, changed_by="test")
    assert submit_b64(gateway, caller, png_image).status == 200
    assert bucket_keys(settings.training_bucket)
    # When the switch is turned off
    answer = gateway.request("PUT", "/v1/account/training-opt-in", key=caller.secret,
                             body=json.dumps({"opt_in": False}),
                             headers={"Content-Type": "application/json"})
    # Then the submission went with the rest
    assert answer.status == 200
    assert bucket_keys(settings.training_bucket) == []


# --- POST /v1.0/improve: bounded like any input ---------------------------------------------
def not_an_image() -> bytes:
    return b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.mark.parametrize(("body", "content_type", "code"), [
    (json.dumps({"image_file_b64": base64.b64encode(not_an_image()).decode()}),
     "application/json", "unknown_format"),
    (json.dumps({"tag": "x"}), "application/json", "missing_source"),
    (json.dumps({"image_file_b64": "aGVsbG8=", "image_url": "s3://b/k"}), "application/json",
     "multiple_sources"),
    (json.dumps({"image_url": "https://example.com/a.jpg"}), "application/json",
     "image_url_not_allowed"),
    (json.dumps({"image_url": "http://169.254.169.254/latest/meta-data"}), "application/json",
     "image_url_not_allowed"),
    (json.dumps({"image_file_b64": "!!!"}), "application/json", "invalid_request"),
    (json.dumps({"image_file_b64": "aGVsbG8=", "size": "full"}), "application/json",
     "invalid_option"),
    (json.dumps({"image_file_b64": "aGVsbG8=", "tag": "a\nb"}), "application/json",
     "invalid_option"),
    (json.dumps({"image_file_b64": "aGVsbG8=", "tag": "t" * 256}), "application/json",
     "invalid_option"),
    ("x", "text/plain", "unsupported_media_type"),
])
def test_every_bad_submission_is_a_400_in_remove_bgs_shape_and_keeps_nothing(
        gateway, caller, accounts, settings, body, content_type, code):
    # Given an opted-in account (so only the input's own fault can refuse it)
    accounts.set_opt_in(caller.account_id, True, changed_by="test")
    # When it submits something that is not one bounded image
    answer = gateway.request("POST", IMPROVE, key=caller.secret, body=body,
                             headers={"Content-Type": content_type})
    # Then 400 with remove.bg's error shape and a stable code, and nothing was kept
    assert answer.status == 400, answer.body
    assert only_error(answer)["code"] == code
    assert bucket_keys(settings.training_bucket) == []


def test_more_pixels_than_the_deployment_allows_are_refused_before_they_are_kept(
        settings, stores, accounts, caller):
    # Given a deployment that allows at most 10,000 pixels, and an opted-in account
    from cutout.service.improve import build_improve_service

    accounts.set_opt_in(caller.account_id, True, changed_by="test")
    small = replace(settings, max_pixels=10_000)
    handler = load_function("remove_background").make_handler(
        settings=small, improve_service=build_improve_service(small, stores=stores))
    body = json.dumps({"image_file_b64": base64.b64encode(disc_image("PNG", (400, 400))).decode()})
    event = proxy_event("POST", IMPROVE, headers={"Content-Type": "application/json"}, body=body,
                        authorizer={"account_id": caller.account_id, "key_prefix": "p"})
    # When a bigger image is submitted
    answer = answer_of(handler(event, LocalContext()))
    # Then it is refused as remove.bg refuses a file too large, and nothing was kept
    assert answer.status == 400
    assert only_error(answer)["code"] == "file_too_large"
    assert bucket_keys(settings.training_bucket) == []


def test_a_decode_bomb_is_refused_from_its_structure_before_it_is_kept(gateway, caller,
                                                                       accounts, settings):
    # Given an opted-in account and a small PNG whose chunks promise unbounded decoding work
    accounts.set_opt_in(caller.account_id, True, changed_by="test")
    # When it is submitted
    answer = submit_file(gateway, caller, hostile_images.png_with_chunks(300_000))
    # Then it is refused (remove.bg's 400) with the stable code, and nothing was kept
    assert answer.status == 400
    assert only_error(answer)["code"] == "image_too_complex"
    assert bucket_keys(settings.training_bucket) == []


def test_an_opt_out_while_the_image_is_stored_takes_the_submission_back(settings, stores,
                                                                        accounts, caller,
                                                                        jpeg_image):
    # Given an opted-in account that opts out while its submission is being checked
    from cutout.service.improve import ImproveService, Submission
    from cutout.service.receipt import Lifetimes, Receipt
    from cutout.service.requests import InlineImage

    accounts.set_opt_in(caller.account_id, True, changed_by="test")

    def check_then_opt_out(image: bytes) -> None:
        accounts.set_opt_in(caller.account_id, False, changed_by="test")

    service = ImproveService(stores.accounts, stores.training, check_then_opt_out,
                             Lifetimes.from_settings(settings))
    receipt = Receipt()
    # When the submission completes
    with pytest.raises(TrainingNotOptedIn) as refused:
        service.submit(Submission(InlineImage(jpeg_image)), caller.account_id, "req-1",
                       receipt)
    # Then it was taken back: refused, nothing kept, nothing on the receipt
    assert "taken back" in refused.value.message
    assert bucket_keys(settings.training_bucket) == []
    assert receipt.header() == "none"


# --- POST /v1.0/improve: an image already in the account's allow-listed bucket ----------------
@pytest.fixture
def url_gateway(settings, stores, handlers):
    """The gateway with the container function on a deployment that allow-lists buckets."""
    from cutout.service.improve import build_improve_service
    from cutout.service.removal import build_removal_service

    allowed = allow_listed(settings)
    function = load_function("remove_background").make_handler(
        build_removal_service(allowed, stores=stores), settings=allowed,
        improve_service=build_improve_service(allowed, stores=stores))
    return Gateway(handlers["authorizer"], {"remove_background": function,
                                            "account": handlers["account"]})


def submit_url(gateway, caller, url):
    return gateway.request("POST", IMPROVE, key=caller.secret, body=json.dumps(
        {"image_url": url, "tag": "catalogue"}), headers={"Content-Type": "application/json"})


def test_an_allow_listed_object_is_kept_by_image_url_only_for_an_opted_in_account(
        url_gateway, caller, accounts, settings):
    # Given a PNG under the caller's folder in an allow-listed source bucket
    key = f"{caller.account_id}/shoes/red.png"
    photo = disc_image("PNG", (96, 64))
    put(SOURCE_BUCKET, key, photo)
    url = f"s3://{SOURCE_BUCKET}/{key}"
    # When an account that has not opted in names it, Then 403 and nothing kept
    refused = submit_url(url_gateway, caller, url)
    assert refused.status == 403 and only_error(refused)["code"] == "training_opt_in_required"
    assert bucket_keys(settings.training_bucket) == []
    # When the account has opted in and names it again
    accounts.set_opt_in(caller.account_id, True, changed_by="test")
    kept = submit_url(url_gateway, caller, url)
    # Then the object's bytes are what the training store keeps, and the customer's object
    # itself is untouched
    assert kept.status == 200, kept.body
    folder = f"training/{caller.account_id}/{kept.json()['id']}/"
    s3 = boto3.client("s3", region_name=REGION)
    assert s3.get_object(Bucket=settings.training_bucket,
                         Key=folder + INPUT)["Body"].read() == photo
    assert s3.get_object(Bucket=SOURCE_BUCKET, Key=key)["Body"].read() == photo


def test_an_image_url_outside_the_account_or_the_list_is_refused_and_nothing_kept(
        url_gateway, caller, other_caller, accounts, settings):
    # Given an opted-in account, another account's object and one in a bucket off the list
    accounts.set_opt_in(caller.account_id, True, changed_by="test")
    put(SOURCE_BUCKET, f"{other_caller.account_id}/a.png", disc_image("PNG"))
    put(OUTSIDE_BUCKET, f"{caller.account_id}/a.png", disc_image("PNG"))
    # When it names them, or an object that is not there, or an upload of its own
    answers = [submit_url(url_gateway, caller, url) for url in (
        f"s3://{SOURCE_BUCKET}/{other_caller.account_id}/a.png",
        f"s3://{OUTSIDE_BUCKET}/{caller.account_id}/a.png",
        f"s3://{settings.transient_bucket}/uploads/{caller.account_id}/{'u' * 43}")]
    missing = submit_url(url_gateway, caller, f"s3://{SOURCE_BUCKET}/{caller.account_id}/no.png")
    # Then each is remove.bg's 400 with a stable code that says what is accepted
    for answer in answers:
        assert answer.status == 400 and only_error(answer)["code"] == "image_url_not_allowed"
    assert "allow-listed" in only_error(answers[2])["detail"]
    assert missing.status == 400 and only_error(missing)["code"] == "image_url_not_found"
    # And nothing was kept
    assert bucket_keys(settings.training_bucket) == []
