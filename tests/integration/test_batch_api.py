"""`POST /v1/batches` and `GET /v1/batches/{id}` through the gateway, over moto's S3, with the
deployment's state machine run by moto's interpreter (`cutout.local.batch_machine`) and the
real engine."""

from __future__ import annotations

import json
from datetime import timedelta

import boto3
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
from integration_support import REGION, Gateway, bucket_keys, load_function

from cutout.service.receipt import parse_receipt


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
    me = f"{caller.account_id}/"
    put(SOURCE_BUCKET, f"{me}shoot/a.jpg", image("JPEG", (160, 120)))
    put(SOURCE_BUCKET, f"{me}shoot/b.png", image("PNG", (120, 160)))
    put(SOURCE_BUCKET, f"{me}shoot/sub/c.webp", image("WEBP", (100, 100)))
    put(SOURCE_BUCKET, f"{me}shoot/truncated.jpg", BROKEN["truncated.jpg"]())
    put(SOURCE_BUCKET, f"{me}shoot/notes.png", BROKEN["notes.png"]())
    sources_before = {key: head(SOURCE_BUCKET, key)["ETag"] for key in keys(SOURCE_BUCKET)}

    # When a job runs to its end
    answer = start(gateway_with_batches, caller, f"s3://{SOURCE_BUCKET}/{me}shoot/",
                   f"s3://{DESTINATION_BUCKET}/{me}cutouts/", options={"format": "webp"})
    assert answer.status == 202, answer.body
    status = wait(gateway_with_batches, caller, answer.json()["batch_id"])

    # Then the good ones are cut out under mirrored keys, SSE-KMS, sources untouched
    assert status["state"] == "SUCCEEDED"
    assert status["totals"] == {"listed": 5, "done": 3, "skipped": 0, "failed": 2}
    assert keys(DESTINATION_BUCKET) == [f"{me}cutouts/a.webp", f"{me}cutouts/b.webp",
                                        f"{me}cutouts/sub/c.webp"]
    assert head(DESTINATION_BUCKET, f"{me}cutouts/a.webp")["ServerSideEncryption"] == "aws:kms"
    assert {key: head(SOURCE_BUCKET, key)["ETag"] for key in keys(SOURCE_BUCKET)} == \
        sources_before
    # And the broken ones are in the report behind a short-lived link, with their codes
    assert status["report_state"] == "ready"
    report = requests.get(status["report_url"], timeout=10).json()  # moto answers it
    assert report["failures"] == [
        {"key": f"{me}shoot/notes.png", "error": "undecodable_image"},
        {"key": f"{me}shoot/truncated.jpg", "error": "undecodable_image"}]
    assert (report["failed"], report["reported"], report["truncated"]) == (2, 2, False)
    assert 0 < status["report_expires_in"] <= 3600
    assert status["ended_at"] and status["started_at"]
    # And the transient bucket holds only the job's own report and parts, and the Map run's
    # results (the ResultWriter's)
    assert all(key.startswith((f"batches/{caller.account_id}/", "batches/runs/"))
               for key in bucket_keys(settings.transient_bucket))


def test_a_second_run_skips_every_output_that_exists(gateway_with_batches, caller):
    # Given a job that already ran over two images
    me = f"{caller.account_id}/"
    put(SOURCE_BUCKET, f"{me}in/a.jpg", image("JPEG", (120, 90)))
    put(SOURCE_BUCKET, f"{me}in/b.jpg", image("JPEG", (90, 120)))
    source, destination = f"s3://{SOURCE_BUCKET}/{me}in/", f"s3://{DESTINATION_BUCKET}/{me}out/"
    first = start(gateway_with_batches, caller, source, destination)
    assert wait(gateway_with_batches, caller, first.json()["batch_id"])["totals"]["done"] == 2
    written = head(DESTINATION_BUCKET, f"{me}out/a.png")["LastModified"]

    # When the same job runs again, and once more with overwrite
    again = start(gateway_with_batches, caller, source, destination)
    second = wait(gateway_with_batches, caller, again.json()["batch_id"])
    forced = start(gateway_with_batches, caller, source, destination, overwrite=True)
    third = wait(gateway_with_batches, caller, forced.json()["batch_id"])

    # Then the second skips both (no report link: nothing failed); the third writes both
    assert second["totals"] == {"listed": 2, "done": 0, "skipped": 2, "failed": 0}
    assert (second["report_url"], second["report_state"]) == (None, "none")
    assert head(DESTINATION_BUCKET, f"{me}out/a.png")["LastModified"] >= written
    assert third["totals"]["done"] == 2


S, D = SOURCE_BUCKET, DESTINATION_BUCKET  # S is on both lists (a shared bucket), D is not


@pytest.mark.parametrize(("source", "destination", "options", "code"), [
    (f"s3://{OUTSIDE_BUCKET}/ME/in/", f"s3://{D}/ME/out/", {}, "bucket_not_allowed"),
    (f"s3://{S}/ME/in/", f"s3://{OUTSIDE_BUCKET}/ME/out/", {}, "bucket_not_allowed"),
    # overlap, either way, in a bucket on both lists
    (f"s3://{S}/ME/in/", f"s3://{S}/ME/in/cutouts/", {}, "locations_overlap"),
    (f"s3://{S}/ME/in/", f"s3://{S}/ME/in/", {}, "locations_overlap"),
    (f"s3://{S}/ME/cutouts/in/sub/", f"s3://{S}/ME/cutouts/in/", {}, "locations_overlap"),
    (f"s3://{S}/ME/", f"s3://{S}/ME/cutouts/", {}, "locations_overlap"),
    # a shared bucket's layout: outputs under ME/cutouts/ only, sources outside it
    (f"s3://{S}/ME/in/", f"s3://{S}/ME/out/", {}, "locations_overlap"),
    (f"s3://{S}/ME/cutouts/old/", f"s3://{D}/ME/out/", {}, "locations_overlap"),
    # another account's folder, or none
    (f"s3://{S}/OTHER/in/", f"s3://{D}/ME/out/", {}, "location_not_owned"),
    (f"s3://{S}/ME/in/", f"s3://{D}/OTHER/out/", {}, "location_not_owned"),
    (f"s3://{S}/in/", f"s3://{D}/ME/out/", {}, "location_not_owned"),
    (f"s3://{S}/", f"s3://{D}/ME/out/", {}, "location_not_owned"),
    (f"s3://{S}/ME/nothing-here/", f"s3://{D}/ME/out/", {}, "empty_source"),
    (f"s3://{S}/ME/in/", f"s3://{D}/ME/out/", {"format": "gif"}, "invalid_option"),
    (f"s3://{S}/ME/in/", f"s3://{D}/ME/out/", {"format": "jpg", "bg_color": "#ff000080"},
     "invalid_option"),
    (f"s3://{S}/ME/in", f"s3://{D}/ME/out/", {}, "invalid_location"),
    ("https://example.com/in/", f"s3://{D}/ME/out/", {}, "invalid_location"),
    (f"s3://{S}/ME/\ud800/", f"s3://{D}/ME/out/", {}, "invalid_location"),
    (f"s3://{S}/ME/in/", f"s3://{D}/ME/\udfff/", {}, "invalid_location"),
])
def test_bad_input_is_refused_before_anything_runs(gateway_with_batches, caller, other_caller,
                                                   source, destination, options, code):
    # Given one image under the caller's source prefix, and one of another account's
    put(S, f"{caller.account_id}/in/a.jpg", image("JPEG", (80, 60)))
    put(S, f"{caller.account_id}/cutouts/in/sub/b.jpg", image("JPEG", (80, 60)))
    put(S, f"{other_caller.account_id}/in/a.jpg", image("JPEG", (80, 60)))
    before = {key: head(S, key)["ETag"] for key in keys(S)}

    # When a job is asked for with one thing wrong
    def named(location: str) -> str:
        return (location.replace("ME/", f"{caller.account_id}/")
                .replace("OTHER/", f"{other_caller.account_id}/"))
    answer = start(gateway_with_batches, caller, named(source), named(destination),
                   options=options)

    # Then a 4xx names it, and nothing was written anywhere
    assert answer.status == (403 if code == "location_not_owned" else 400), answer.body
    assert answer.json()["error"]["code"] == code
    assert keys(D) == []
    assert {key: head(S, key)["ETag"] for key in keys(S)} == before


def test_a_body_that_is_not_a_job_is_a_400(gateway_with_batches, caller):
    for body in ("not json", "[]", json.dumps({"source": "s3://a/", "extra": 1})):
        answer = gateway_with_batches.request(
            "POST", "/v1/batches", key=caller.secret, body=body,
            headers={"Content-Type": "application/json"})
        assert answer.status == 400, body
        assert answer.json()["error"]["code"] == "invalid_request"


def test_an_account_sees_only_its_own_batches(gateway_with_batches, caller, other_caller):
    # Given a job of one account
    me = f"{caller.account_id}/"
    put(SOURCE_BUCKET, f"{me}in/a.jpg", image("JPEG", (80, 60)))
    batch_id = start(gateway_with_batches, caller, f"s3://{SOURCE_BUCKET}/{me}in/",
                     f"s3://{DESTINATION_BUCKET}/{me}out/").json()["batch_id"]
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


def test_two_accounts_cannot_touch_each_others_objects_through_a_batch(
        gateway_with_batches, caller, other_caller):
    # Given each account's images in the shared bucket, and the victim's earlier outputs
    victim, attacker = f"{caller.account_id}/", f"{other_caller.account_id}/"
    put(SOURCE_BUCKET, f"{victim}photos/a.png", image("PNG", (64, 48)))
    put(SOURCE_BUCKET, f"{attacker}in/a.jpg", image("JPEG", (64, 48)))
    put(DESTINATION_BUCKET, f"{victim}photos/a.png", image("PNG", (64, 48)))
    before = {(bucket, key): head(bucket, key)["ETag"] for bucket in (SOURCE_BUCKET,
              DESTINATION_BUCKET) for key in keys(bucket)}

    # When the attacker overwrites the victim's objects, reads them, or both at once
    attempts = [
        (f"s3://{SOURCE_BUCKET}/{attacker}in/", f"s3://{DESTINATION_BUCKET}/{victim}photos/"),
        (f"s3://{SOURCE_BUCKET}/{attacker}in/", f"s3://{SOURCE_BUCKET}/{victim}cutouts/"),
        (f"s3://{SOURCE_BUCKET}/{victim}photos/", f"s3://{DESTINATION_BUCKET}/{attacker}x/"),
        (f"s3://{SOURCE_BUCKET}/{victim}photos/", f"s3://{SOURCE_BUCKET}/{attacker}cutouts/"),
        (f"s3://{SOURCE_BUCKET}/{victim}", f"s3://{DESTINATION_BUCKET}/{victim}"),
    ]
    answers = [start(gateway_with_batches, other_caller, source, destination, overwrite=True,
                     options={"format": "png"}) for source, destination in attempts]

    # Then each is refused before anything runs, and no object changed or appeared
    assert [(a.status, a.json()["error"]["code"]) for a in answers] == \
        [(403, "location_not_owned")] * len(attempts)
    assert {(bucket, key): head(bucket, key)["ETag"] for bucket in (SOURCE_BUCKET,
            DESTINATION_BUCKET) for key in keys(bucket)} == before


def test_a_jobs_status_answers_at_once_while_a_large_report_is_merged_step_by_step(
        gateway_with_batches, caller, settings):
    from cutout import wiring
    from cutout.data.batch_objects import PARTS_PER_STEP, Failure
    from cutout.data.batches import BatchRecord

    # Given an ended job whose workers wrote more failure parts than one merge step reads
    data = wiring.batch_data(batch_settings(settings))
    batch_id, parts = "fedcba9876543210fedcba9876543210", PARTS_PER_STEP * 2 + 5
    data.store.create(BatchRecord(
        account_id=caller.account_id, batch_id=batch_id, source="s3://a/x/",
        destination="s3://b/y/", state="ABORTED", ended_at="2026-01-01T00:00:00Z"))
    for part in range(parts):
        data.reports.put_failures(caller.account_id, batch_id, f"{part:04d}",
                                  [Failure(key=f"x/{part:04d}.txt", error="undecodable_image")])
    data.store.add_counts(caller.account_id, batch_id, 0, 0, parts)

    # When its status is read until the report is there, and once more
    states, receipts = [], []
    while not states or states[-1]["report_state"] == "preparing":
        answer = gateway_with_batches.request("GET", f"/v1/batches/{batch_id}",
                                              key=caller.secret)
        assert answer.status == 200, answer.body
        states.append(answer.json())
        receipts.append(parse_receipt(answer.headers["X-Cutout-Retention"]))
    again = gateway_with_batches.request("GET", f"/v1/batches/{batch_id}", key=caller.secret)

    # Then every read answered the job's state; the report came on the third, with every part
    assert [s["report_state"] for s in states] == ["preparing", "preparing", "ready"]
    assert {s["state"] for s in states} == {"ABORTED"}
    assert [s["report_url"] for s in states[:2]] == [None, None]
    report = requests.get(states[-1]["report_url"], timeout=10).json()
    assert (report["failed"], report["reported"], report["truncated"]) == (parts, parts, False)
    assert [f["key"] for f in report["failures"]] == [f"x/{p:04d}.txt" for p in range(parts)]
    # And each read that wrote says so: a merge step twice, then the report, 24 hours after it
    # was written by the sweeper's rule for batches/; the read after that wrote nothing
    assert [[entry.kind for entry in receipt] for receipt in receipts] == \
        [["batch-report-step"], ["batch-report-step"], ["batch-report"]]
    [report_key] = [key for key in bucket_keys(settings.transient_bucket)
                    if key.endswith(f"{batch_id}/report.json")]
    written = boto3.client("s3", region_name=REGION).head_object(
        Bucket=settings.transient_bucket, Key=report_key)["LastModified"]
    delete_by = receipts[-1][0].delete_by
    assert written + timedelta(hours=24) <= delete_by <= written + timedelta(hours=24, seconds=2)
    assert again.headers["X-Cutout-Retention"] == "none"


def test_a_report_is_capped_and_says_so(settings, caller):
    from cutout import wiring
    from cutout.data.batch_objects import Failure

    # Given a job with 30 failures in 3 parts
    reports = wiring.batch_data(batch_settings(settings)).reports
    batch_id = "0123456789abcdef0123456789abcdef"
    for part in range(3):
        reports.put_failures(caller.account_id, batch_id, str(part), [
            Failure(key=f"k/{part}-{n:02d}", error="undecodable_image") for n in range(10)])

    # When it is merged with a cap of 15 entries
    key = reports.merge_step(caller.account_id, batch_id, 30, max_failures=15)

    # Then the report holds 15 and says the rest were left out
    body = boto3.client("s3", region_name=REGION).get_object(
        Bucket=settings.transient_bucket, Key=key)["Body"].read()
    report = json.loads(body)
    assert (report["failed"], report["reported"], report["truncated"]) == (30, 15, True)
    assert len(report["failures"]) == 15


@pytest.mark.parametrize("own", ["transient_bucket", "training_bucket"])
def test_the_stacks_own_buckets_cannot_be_allow_listed(settings, own):
    from cutout.errors import ConfigurationError
    from cutout.service.batch import AllowList

    # Given a deployment that lists its own transient or training bucket for batches
    configured = batch_settings(settings, batch_source_buckets=getattr(settings, own))
    # When / Then its allow-list refuses to be built, naming the bucket
    with pytest.raises(ConfigurationError, match=getattr(settings, own)):
        AllowList.from_settings(configured)
