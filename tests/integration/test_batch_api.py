"""`POST /v1/batches` and `GET /v1/batches/{id}` through the gateway, over moto's S3, with the
local runner (the Distributed Map's contract on a thread pool) and the real engine."""

from __future__ import annotations

import json

import pytest
import requests
from batch_support import (
    BROKEN,
    DESTINATION_BUCKET,
    OUTSIDE_BUCKET,
    SOURCE_BUCKET,
    batch_handler,
    batch_settings,
    head,
    image,
    keys,
    put,
    start,
    wait,
)
from integration_support import Gateway, bucket_keys, load_function


def _gateway(configured, stores) -> Gateway:
    """The authorizer and the container function only (one handler per function a test)."""
    from cutout.service.keys import Authenticator

    authorizer = load_function("authorizer").make_handler(Authenticator(stores.accounts))
    return Gateway(authorizer, {"remove_background": batch_handler(configured, stores)})


@pytest.fixture
def gateway_with_batches(settings, stores):
    return _gateway(batch_settings(settings), stores)


def test_a_job_cuts_out_every_good_image_and_reports_every_broken_one(
        gateway_with_batches, caller, settings):
    # Given a source prefix with three images (one in a sub-folder) and two broken files
    put(SOURCE_BUCKET, "shoot/a.jpg", image("JPEG", (160, 120)))
    put(SOURCE_BUCKET, "shoot/b.png", image("PNG", (120, 160)))
    put(SOURCE_BUCKET, "shoot/sub/c.webp", image("WEBP", (100, 100)))
    put(SOURCE_BUCKET, "shoot/truncated.jpg", BROKEN["truncated.jpg"]())
    put(SOURCE_BUCKET, "shoot/notes.png", BROKEN["notes.png"]())
    sources_before = {key: head(SOURCE_BUCKET, key)["ETag"] for key in keys(SOURCE_BUCKET)}

    # When a job runs to its end
    answer = start(gateway_with_batches, caller, f"s3://{SOURCE_BUCKET}/shoot/",
                   f"s3://{DESTINATION_BUCKET}/cutouts/", options={"format": "webp"})
    assert answer.status == 202, answer.body
    status = wait(gateway_with_batches, caller, answer.json()["batch_id"])

    # Then the good ones are cut out under mirrored keys, SSE-KMS, sources untouched
    assert status["state"] == "SUCCEEDED"
    assert status["totals"] == {"listed": 5, "done": 3, "skipped": 0, "failed": 2}
    assert keys(DESTINATION_BUCKET) == ["cutouts/a.webp", "cutouts/b.webp",
                                        "cutouts/sub/c.webp"]
    assert head(DESTINATION_BUCKET, "cutouts/a.webp")["ServerSideEncryption"] == "aws:kms"
    assert {key: head(SOURCE_BUCKET, key)["ETag"] for key in keys(SOURCE_BUCKET)} == \
        sources_before
    # And the broken ones are in the report behind a short-lived link, with their codes
    report = requests.get(status["report_url"], timeout=10).json()  # moto answers it
    assert report["failures"] == [
        {"key": "shoot/notes.png", "error": "undecodable_image"},
        {"key": "shoot/truncated.jpg", "error": "undecodable_image"}]
    assert 0 < status["report_expires_in"] <= 3600
    assert status["ended_at"] and status["started_at"]
    # And the transient bucket holds only the job's own report and parts
    assert all(key.startswith(f"batches/{caller.account_id}/")
               for key in bucket_keys(settings.transient_bucket))


def test_a_second_run_skips_every_output_that_exists(gateway_with_batches, caller):
    # Given a job that already ran over two images
    put(SOURCE_BUCKET, "in/a.jpg", image("JPEG", (120, 90)))
    put(SOURCE_BUCKET, "in/b.jpg", image("JPEG", (90, 120)))
    first = start(gateway_with_batches, caller, f"s3://{SOURCE_BUCKET}/in/",
                  f"s3://{DESTINATION_BUCKET}/out/")
    assert wait(gateway_with_batches, caller, first.json()["batch_id"])["totals"]["done"] == 2
    written = head(DESTINATION_BUCKET, "out/a.png")["LastModified"]

    # When the same job runs again, and once more with overwrite
    again = start(gateway_with_batches, caller, f"s3://{SOURCE_BUCKET}/in/",
                  f"s3://{DESTINATION_BUCKET}/out/")
    second = wait(gateway_with_batches, caller, again.json()["batch_id"])
    forced = start(gateway_with_batches, caller, f"s3://{SOURCE_BUCKET}/in/",
                   f"s3://{DESTINATION_BUCKET}/out/", overwrite=True)
    third = wait(gateway_with_batches, caller, forced.json()["batch_id"])

    # Then the second skips both (no report link: nothing failed); the third writes both
    assert second["totals"] == {"listed": 2, "done": 0, "skipped": 2, "failed": 0}
    assert second["report_url"] is None
    assert head(DESTINATION_BUCKET, "out/a.png")["LastModified"] >= written
    assert third["totals"]["done"] == 2


@pytest.mark.parametrize(("source", "destination", "options", "code"), [
    (f"s3://{OUTSIDE_BUCKET}/in/", f"s3://{DESTINATION_BUCKET}/out/", {}, "bucket_not_allowed"),
    (f"s3://{SOURCE_BUCKET}/in/", f"s3://{OUTSIDE_BUCKET}/out/", {}, "bucket_not_allowed"),
    (f"s3://{SOURCE_BUCKET}/in/", f"s3://{SOURCE_BUCKET}/in/out/", {},
     "destination_inside_source"),
    (f"s3://{SOURCE_BUCKET}/in/", f"s3://{SOURCE_BUCKET}/in/", {}, "destination_inside_source"),
    (f"s3://{SOURCE_BUCKET}/nothing-here/", f"s3://{DESTINATION_BUCKET}/out/", {},
     "empty_source"),
    (f"s3://{SOURCE_BUCKET}/in/", f"s3://{DESTINATION_BUCKET}/out/", {"format": "gif"},
     "invalid_option"),
    (f"s3://{SOURCE_BUCKET}/in/", f"s3://{DESTINATION_BUCKET}/out/",
     {"format": "jpg", "bg_color": "#ff000080"}, "invalid_option"),
    (f"s3://{SOURCE_BUCKET}/in", f"s3://{DESTINATION_BUCKET}/out/", {}, "invalid_location"),
    ("https://example.com/in/", f"s3://{DESTINATION_BUCKET}/out/", {}, "invalid_location"),
])
def test_bad_input_is_refused_before_anything_runs(gateway_with_batches, caller, source,
                                                   destination, options, code):
    # Given one image under the source prefix
    put(SOURCE_BUCKET, "in/a.jpg", image("JPEG", (80, 60)))

    # When a job is asked for with one thing wrong
    answer = start(gateway_with_batches, caller, source, destination, options=options)

    # Then a 400 names it, and nothing was written anywhere
    assert answer.status == 400, answer.body
    assert answer.json()["error"]["code"] == code
    assert keys(DESTINATION_BUCKET) == []
    assert keys(SOURCE_BUCKET) == ["in/a.jpg"]


def test_a_body_that_is_not_a_job_is_a_400(gateway_with_batches, caller):
    for body in ("not json", "[]", json.dumps({"source": "s3://a/", "extra": 1})):
        answer = gateway_with_batches.request(
            "POST", "/v1/batches", key=caller.secret, body=body,
            headers={"Content-Type": "application/json"})
        assert answer.status == 400, body
        assert answer.json()["error"]["code"] == "invalid_request"


def test_an_account_sees_only_its_own_batches(gateway_with_batches, caller, other_caller):
    # Given a job of one account
    put(SOURCE_BUCKET, "in/a.jpg", image("JPEG", (80, 60)))
    batch_id = start(gateway_with_batches, caller, f"s3://{SOURCE_BUCKET}/in/",
                     f"s3://{DESTINATION_BUCKET}/out/").json()["batch_id"]
    wait(gateway_with_batches, caller, batch_id)

    # When another account asks for it, or for ids that are not ids
    theirs = gateway_with_batches.request("GET", f"/v1/batches/{batch_id}",
                                          key=other_caller.secret)
    made_up = gateway_with_batches.request("GET", "/v1/batches/..%2F..%2Faccount",
                                           key=caller.secret)

    # Then both are simply not found
    assert theirs.status == 404 and theirs.json()["error"]["code"] == "batch_not_found"
    assert made_up.status == 404


def test_a_deployment_without_allow_listed_buckets_says_batches_are_off(
        settings, stores, caller):
    # Given the default deployment (no batch buckets)
    gateway = _gateway(settings, stores)

    # When a job is asked for
    answer = start(gateway, caller, "s3://any-bucket/in/", "s3://other-bucket/out/")

    # Then the answer says the feature is off, and how an operator turns it on
    assert answer.status == 403
    assert answer.json()["error"]["code"] == "batches_not_enabled"
    assert "cutout:batch_source_buckets" in answer.json()["error"]["message"]
