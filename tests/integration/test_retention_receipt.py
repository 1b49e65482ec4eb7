"""The retention receipt (`X-Cutout-Retention`) through the local gateway and moto: every answer
says what its request stored and until when, and the times hold against the objects really
written (their LastModified in S3) and the rules that delete them (the sweeper, the training
store's lifecycle rule)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import boto3
import pytest
import requests
from integration_support import REGION, Gateway, bucket_keys, load_function, multipart

from cutout.data import schema
from cutout.service.receipt import (
    RESULT,
    TRAINING_INPUT,
    TRAINING_MASK,
    UPLOAD,
    lifecycle_expiry,
    parse_receipt,
)
from cutout.service.retention import RUN_TIME, SCHEDULE_LATENESS, RetentionRule, Sweeper

HEADER = "X-Cutout-Retention"
REMOVE = "/v1/remove-background"


def receipt_of(answer) -> list:
    """The answer's receipt, parsed (so every value checked here also follows the grammar)."""
    return parse_receipt(answer.headers[HEADER])


def last_modified(bucket: str, key: str) -> datetime:
    return boto3.client("s3", region_name=REGION).head_object(
        Bucket=bucket, Key=key)["LastModified"].astimezone(UTC)


def put_upload(settings, account_id: str, data: bytes, upload_id: str = "u" * 43) -> str:
    """An upload as the client's signed PUT leaves it."""
    boto3.client("s3", region_name=REGION).put_object(
        Bucket=settings.transient_bucket, Key=schema.upload_object_key(account_id, upload_id),
        Body=data, ServerSideEncryption="aws:kms", SSEKMSKeyId=settings.kms_key_id)
    return upload_id


def remove_upload(gateway, caller, upload_id: str):
    return gateway.request("POST", REMOVE, key=caller.secret,
                           headers={"Content-Type": "application/json"},
                           body=json.dumps({"upload_id": upload_id}))


def removebg(gateway, caller, image: bytes):
    body, content_type = multipart({}, {"image_file": ("image.png", image, "image/png")})
    return gateway.request("POST", "/v1.0/removebg", key=caller.secret,
                           headers={"Content-Type": content_type, "Accept": "*/*"}, body=body)


def only_key(bucket: str, prefix: str) -> str:
    keys = [key for key in bucket_keys(bucket) if key.startswith(prefix)]
    assert len(keys) == 1, keys
    return keys[0]


def test_an_inline_answer_that_stored_nothing_says_none(gateway, caller, settings, png_image):
    # When an account that has not opted in gets an inline cutout, on either route
    native = gateway.request("POST", REMOVE, key=caller.secret,
                             headers={"Content-Type": "image/png"}, body=png_image)
    removebg_answer = removebg(gateway, caller, png_image)
    # Then both answers say nothing was stored, and nothing was
    for answer in (native, removebg_answer):
        assert answer.status == 200, answer.body[:200]
        assert answer.headers[HEADER] == "none"
    assert bucket_keys(settings.transient_bucket) == []
    assert bucket_keys(settings.training_bucket) == []


def test_a_link_answer_names_its_result_and_the_sweeper_has_deleted_it_by_then(
        gateway, caller, settings, stores, png_image):
    # Given an uploaded image (its result always leaves as a signed link)
    upload_id = put_upload(settings, caller.account_id, png_image)
    # When it is cut out
    answer = remove_upload(gateway, caller, upload_id)
    assert answer.status == 200 and answer.json()["result_url"]
    # Then the receipt names one object, the result; the upload was not this request's write
    [entry] = receipt_of(answer)
    assert entry.kind == RESULT
    # And its time is the sweeper's bound from the moment S3 stamped the object: the link's
    # life, then at most one interval, the schedule's lateness and a whole run
    rule = RetentionRule.from_settings(settings)
    written = last_modified(settings.transient_bucket,
                            only_key(settings.transient_bucket, schema.RESULTS_PREFIX))
    bound = rule.result_max_age + rule.sweep_interval + SCHEDULE_LATENESS + RUN_TIME
    assert bound == timedelta(seconds=settings.result_url_ttl_seconds, minutes=66)
    assert written + bound <= entry.delete_by <= written + bound + timedelta(seconds=2)
    # And before the bucket's 1-day lifecycle rule would expire it
    assert entry.delete_by < lifecycle_expiry(written, 1)
    # And the last sweep the promise counts on (it starts one interval, its lateness and its
    # run time before the delete-by) really deletes it
    last_run = entry.delete_by - rule.sweep_interval - SCHEDULE_LATENESS - RUN_TIME
    Sweeper(stores.transient, rule, clock=lambda: last_run).sweep()
    assert [k for k in bucket_keys(settings.transient_bucket)
            if k.startswith(schema.RESULTS_PREFIX)] == []


def test_an_opted_in_account_is_told_until_when_its_training_objects_are_kept(
        gateway, caller, accounts, settings, png_image):
    # Given an account that opted in to training
    accounts.set_opt_in(caller.account_id, True, changed_by="test")
    # When it gets an inline cutout, and another by upload (a link)
    inline = gateway.request("POST", REMOVE, key=caller.secret,
                             headers={"Content-Type": "image/png"}, body=png_image)
    linked = remove_upload(gateway, caller, put_upload(settings, caller.account_id, png_image))
    on_removebg = removebg(gateway, caller, png_image)
    # Then the inline answers (either route) name the two training objects, the linked one
    # its result too
    assert [e.kind for e in receipt_of(inline)] == [TRAINING_INPUT, TRAINING_MASK]
    assert [e.kind for e in receipt_of(on_removebg)] == [TRAINING_INPUT, TRAINING_MASK]
    assert [e.kind for e in receipt_of(linked)] == [RESULT, TRAINING_INPUT, TRAINING_MASK]
    # And each training time is the training store's lifecycle expiry of the objects S3
    # holds: the retention in days from their LastModified, rounded up to midnight UTC
    days = settings.training_retention_days
    for answer in (inline, linked, on_removebg):
        folder = schema.training_object_key(caller.account_id,
                                            answer.headers["X-Request-Id"], "")
        keys = [key for key in bucket_keys(settings.training_bucket) if key.startswith(folder)]
        assert len(keys) == 2
        for key, entry in zip(sorted(keys), [e for e in receipt_of(answer) if e.kind != RESULT]):
            written = last_modified(settings.training_bucket, key)
            assert entry.delete_by.time() == datetime.min.time()  # midnight, as S3 rounds
            assert lifecycle_expiry(written, days) <= entry.delete_by
            assert entry.delete_by <= lifecycle_expiry(written + timedelta(seconds=2), days)
            assert entry.delete_by - written >= timedelta(days=days)


def test_a_zero_retention_deployment_names_only_the_result(settings, stores, caller,
                                                           png_image):
    # Given a zero-retention deployment and an upload
    from cutout.service.keys import Authenticator
    from cutout.service.removal import build_removal_service

    zero = replace(settings, zero_retention=True)
    gateway = Gateway(
        load_function("authorizer").make_handler(Authenticator(stores.accounts)),
        {"remove_background": load_function("remove_background").make_handler(
            build_removal_service(zero, stores=stores))})
    upload_id = put_upload(settings, caller.account_id, png_image)
    # When it is cut out, and an image is cut out inline
    linked = remove_upload(gateway, caller, upload_id)
    inline = gateway.request("POST", REMOVE, key=caller.secret,
                             headers={"Content-Type": "image/png"}, body=png_image)
    # Then the upload is gone, the linked answer names its result alone, the inline one none
    assert [k for k in bucket_keys(settings.transient_bucket)
            if k.startswith(schema.UPLOADS_PREFIX)] == []
    assert [e.kind for e in receipt_of(linked)] == [RESULT]
    assert inline.headers[HEADER] == "none"


def test_an_upload_link_names_the_object_it_lets_the_client_write(gateway, caller, settings,
                                                                  png_image):
    # When an account asks for an upload link
    before = datetime.now(UTC)
    answer = gateway.request("POST", "/v1/uploads", key=caller.secret)
    after = datetime.now(UTC)
    assert answer.status == 201
    upload = answer.json()
    # Then the receipt names the upload: 24 hours after the link's last moment to PUT it
    [entry] = receipt_of(answer)
    assert entry.kind == UPLOAD
    latest_put = timedelta(seconds=upload["expires_in"])
    assert before + latest_put + timedelta(hours=24) <= entry.delete_by
    assert entry.delete_by <= after + latest_put + timedelta(hours=24, seconds=1)
    # And the object the client then PUTs is under that bound by the sweeper's rule
    response = requests.put(upload["upload_url"], data=png_image, headers=upload["headers"],
                            timeout=10)
    assert response.status_code == 200
    key = schema.upload_object_key(caller.account_id, upload["upload_id"])
    written = last_modified(settings.transient_bucket, key)
    assert RetentionRule.from_settings(settings).deleted_by(key, written) <= entry.delete_by


@pytest.mark.parametrize("route", ["native", "removebg"])
def test_an_error_answer_that_wrote_nothing_says_none(gateway, caller, accounts, settings,
                                                      route):
    # Given an opted-in account (an error must not keep anything even so)
    accounts.set_opt_in(caller.account_id, True, changed_by="test")
    # When it sends bytes that are not an image
    answer = removebg(gateway, caller, b"not an image") if route == "removebg" else \
        gateway.request("POST", REMOVE, key=caller.secret,
                        headers={"Content-Type": "image/png"}, body=b"not an image")
    # Then the error (ours, or remove.bg's shape on its route) says nothing was stored
    assert 400 <= answer.status < 500
    assert ("errors" if route == "removebg" else "error") in answer.json()
    assert answer.headers[HEADER] == "none"
    assert bucket_keys(settings.training_bucket) == []


@pytest.mark.parametrize("key", [None, "co_live_not-a-key-of-anyone"])
def test_a_gateway_refusal_writes_nothing_and_says_none(gateway, png_image, key):
    # When the gateway itself refuses a request (no key: 401; an unknown key: 403)
    answer = gateway.request("POST", REMOVE, key=key, headers={"Content-Type": "image/png"},
                             body=png_image)
    # Then its answer carries the receipt `none` like every other answer
    assert answer.status in (401, 403)
    assert answer.headers[HEADER] == "none"


def test_the_routes_that_store_no_object_say_none(gateway, caller):
    # When the account, its opt-in and the privacy answers are read or changed
    answers = [gateway.request("GET", "/v1/account", key=caller.secret),
               gateway.request("PUT", "/v1/account/training-opt-in", key=caller.secret,
                               headers={"Content-Type": "application/json"},
                               body='{"opt_in": true}'),
               gateway.request("GET", "/v1/privacy", key=caller.secret),
               gateway.request("GET", "/account")]
    # Then each answer says it stored no object
    for answer in answers:
        assert answer.status == 200, answer.body[:200]
        assert answer.headers[HEADER] == "none"
