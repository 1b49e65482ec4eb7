"""Signed uploads: POST /v1/uploads, the PUT to S3, then remove-background by upload_id.

moto does not check presigned signatures or expiry (an expired or tampered link still
answers 200 there), so these tests check what is *signed* (expiry, object key, SSE headers)
rather than trusting moto to refuse anything.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qs, unquote, urlsplit

import boto3
import requests
from integration_support import REGION, assert_no_secrets, bucket_keys

from cutout.data import schema


def create_upload(gateway, caller):
    answer = gateway.request("POST", "/v1/uploads", key=caller.secret)
    assert answer.status == 201
    return answer.json()


def put_upload(upload, data: bytes) -> None:
    response = requests.put(upload["upload_url"], data=data, headers=upload["headers"], timeout=10)
    assert response.status_code == 200


def remove_by_upload(gateway, caller, upload_id, query=None):
    return gateway.request("POST", "/v1/remove-background", key=caller.secret, query=query,
                           headers={"Content-Type": "application/json"},
                           body=json.dumps({"upload_id": upload_id}))


def test_an_upload_url_is_short_lived_account_bound_and_requires_the_kms_key(gateway, caller,
                                                                             settings):
    # When an account asks for an upload
    upload = create_upload(gateway, caller)
    # Then the URL signs a PUT of one object under the account's own prefix
    url = urlsplit(upload["upload_url"])
    query = parse_qs(url.query)
    object_key = unquote(url.path).lstrip("/").removeprefix(f"{settings.transient_bucket}/")
    assert object_key == schema.upload_object_key(caller.account_id, upload["upload_id"])
    # that expires in minutes
    assert query["X-Amz-Expires"] == [str(settings.upload_url_ttl_seconds)]
    assert upload["expires_in"] == settings.upload_url_ttl_seconds <= 900
    # with the SSE-KMS headers inside the signature, so a client must send them as given
    signed = query["X-Amz-SignedHeaders"][0].split(";")
    assert "x-amz-server-side-encryption" in signed
    assert "x-amz-server-side-encryption-aws-kms-key-id" in signed
    assert upload["headers"] == {
        "x-amz-server-side-encryption": "aws:kms",
        "x-amz-server-side-encryption-aws-kms-key-id": settings.kms_key_id,
    }
    assert upload["method"] == "PUT"
    # and an id nobody can guess (256 bits)
    assert len(upload["upload_id"]) >= 43


def test_two_uploads_never_share_an_id(gateway, caller):
    ids = {create_upload(gateway, caller)["upload_id"] for _ in range(5)}
    assert len(ids) == 5


def test_an_uploaded_image_is_stored_encrypted_with_the_key(gateway, caller, settings, png_image):
    upload = create_upload(gateway, caller)
    put_upload(upload, png_image)
    head = boto3.client("s3", region_name=REGION).head_object(
        Bucket=settings.transient_bucket,
        Key=schema.upload_object_key(caller.account_id, upload["upload_id"]))
    assert head["ServerSideEncryption"] == "aws:kms"
    assert head["SSEKMSKeyId"] == settings.kms_key_id


def test_a_removal_by_upload_id_answers_a_short_lived_link(gateway, caller, settings, png_image):
    # Given an uploaded image
    upload = create_upload(gateway, caller)
    put_upload(upload, png_image)
    # When the account removes its background by upload id
    answer = remove_by_upload(gateway, caller, upload["upload_id"], query={"format": "webp"})
    # Then the answer is a signed GET for the result, valid for minutes
    assert answer.status == 200
    body = answer.json()
    assert body["content_type"] == "image/webp"
    assert (body["width"], body["height"]) == (320, 240)
    assert set(body["foreground"]) == {"left", "top", "width", "height"}
    assert body["expires_in"] == settings.result_url_ttl_seconds
    url = urlsplit(body["result_url"])
    assert parse_qs(url.query)["X-Amz-Expires"] == [str(settings.result_url_ttl_seconds)]
    assert unquote(url.path).startswith(
        f"/{settings.transient_bucket}/results/{caller.account_id}/") or \
        unquote(url.path).startswith(f"/results/{caller.account_id}/")
    assert answer.headers["X-Width"] == "320"
    # And the link serves the encrypted result
    fetched = requests.get(body["result_url"], timeout=10)
    assert fetched.status_code == 200
    assert fetched.content[:4] == b"RIFF"
    result_keys = [k for k in bucket_keys(settings.transient_bucket) if k.startswith("results/")]
    head = boto3.client("s3", region_name=REGION).head_object(
        Bucket=settings.transient_bucket, Key=result_keys[0])
    assert head["ServerSideEncryption"] == "aws:kms"


def test_one_account_can_never_use_another_accounts_upload(gateway, caller, other_caller,
                                                           settings, png_image):
    # Given an image uploaded by one account
    upload = create_upload(gateway, caller)
    put_upload(upload, png_image)
    # When another account names that upload id
    answer = remove_by_upload(gateway, other_caller, upload["upload_id"])
    # Then it is not found for them (its existence is not even confirmed)
    assert answer.status == 404
    assert answer.json()["error"]["code"] == "upload_not_found"
    # And nothing was produced for anybody
    assert not [k for k in bucket_keys(settings.transient_bucket) if k.startswith("results/")]


def test_an_upload_id_that_was_never_issued_is_404(gateway, caller, settings):
    # When an account names a well-formed upload id nobody issued
    answer = remove_by_upload(gateway, caller, "A" * 43)
    # Then it is 404 upload_not_found, and no result was written for it
    assert answer.status == 404
    assert answer.json()["error"]["code"] == "upload_not_found"
    assert not [k for k in bucket_keys(settings.transient_bucket) if k.startswith("results/")]


def test_an_upload_id_cannot_reach_outside_the_accounts_prefix(gateway, caller, other_caller):
    # An id shaped like a path is refused before any S3 read
    answer = remove_by_upload(gateway, caller, f"../{other_caller.account_id}/" + "A" * 43)
    assert answer.status == 400
    assert answer.json()["error"]["code"] == "invalid_request"


def test_upload_flow_logs_no_signed_url_and_no_key(gateway, caller, logs, png_image):
    upload = create_upload(gateway, caller)
    put_upload(upload, png_image)
    answer = remove_by_upload(gateway, caller, upload["upload_id"])
    assert answer.status == 200
    assert_no_secrets(logs.text(), caller.secret, caller.key_hash, upload["upload_url"],
                      answer.json()["result_url"], png_image)


def test_an_image_too_large_to_send_inline_goes_through_an_upload(gateway, caller, settings):
    # Given an 8 MB photo-like image, which a synchronous call refuses
    import io

    import numpy as np
    from PIL import Image

    pixels = np.random.default_rng(7).integers(0, 256, (2000, 2600, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "JPEG", quality=98)
    big = buffer.getvalue()
    assert len(big) > 6 * 1024 * 1024
    inline = gateway.request("POST", "/v1/remove-background", key=caller.secret, body=big,
                             headers={"Content-Type": "image/jpeg"})
    assert inline.status == 413
    # When it is uploaded and named instead
    upload = create_upload(gateway, caller)
    put_upload(upload, big)
    answer = remove_by_upload(gateway, caller, upload["upload_id"])
    # Then the result comes back behind a link, at full size
    assert answer.status == 200
    assert (answer.json()["width"], answer.json()["height"]) == (2600, 2000)
    assert requests.get(answer.json()["result_url"], timeout=30).status_code == 200
