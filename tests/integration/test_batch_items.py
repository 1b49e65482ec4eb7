"""The batch worker's contract on the exact payload Step Functions' Distributed Map sends
(S3 ItemReader items, ItemBatcher's `BatchInput`), run through its Lambda entry point.

moto can execute state machine definitions (its `stepfunctions.execute_state_machine`
mode), but it invokes Lambda functions through moto's Lambda, which runs them in Docker; so
the definition is tested from the template (tests/infrastructure/test_batch.py) and the
worker here, on the payload that definition produces.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import boto3
import pytest
from batch_support import (
    DESTINATION_BUCKET,
    SOURCE_BUCKET,
    batch_settings,
    head,
    image,
    keys,
    put,
)
from integration_support import FUNCTIONS, REGION, LocalContext

from cutout import wiring
from cutout.data.batches import BatchRecord
from cutout.errors import CutoutError
from cutout.service.batch_items import output_key
from cutout.service.batch_setup import build_item_processor
from cutout.service.removal import build_removal_service

EVENT = Path(__file__).with_name("batch_items_event.json")


def _worker_module():
    spec = importlib.util.spec_from_file_location(
        "cutout_function_batch_items", FUNCTIONS / "remove_background" / "batch_items.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def job(settings, stores, caller):
    """A recorded job of the caller's, its worker's handler and the payload for it."""
    configured = batch_settings(settings)
    data = wiring.batch_data(configured)
    batch_id = "0123456789abcdef0123456789abcdef"
    me = f"{caller.account_id}/"
    data.store.create(BatchRecord(account_id=caller.account_id, batch_id=batch_id,
                                  source=f"s3://{SOURCE_BUCKET}/{me}shoot/",
                                  destination=f"s3://{DESTINATION_BUCKET}/{me}cutouts/"))
    processor = build_item_processor(configured, build_removal_service(configured,
                                                                       stores=stores), data)
    event = json.loads(EVENT.read_text().replace("ACCOUNT_ID", caller.account_id)
                       .replace("BATCH_ID", batch_id))
    # every key and prefix inside the account's own folder, as the API requires
    for item in event["Items"]:
        item["Key"] = me + item["Key"]
    for name in ("source_prefix", "destination_prefix"):
        event["BatchInput"][name] = me + event["BatchInput"][name]
    return _worker_module().make_handler(processor), event, data, batch_id


def test_each_item_of_a_distributed_map_batch_gets_its_own_outcome(job, caller, settings):
    # Given the sources the payload names (one missing, one not an image, a folder marker)
    handler, event, data, batch_id = job
    me = f"{caller.account_id}/"
    put(SOURCE_BUCKET, f"{me}shoot/a.jpg", image("JPEG", (120, 90)))
    put(SOURCE_BUCKET, f"{me}shoot/sub/b.jpeg", image("JPEG", (90, 120)))
    put(SOURCE_BUCKET, f"{me}shoot/notes.png", b"not an image at all")

    # When the worker is invoked as Step Functions invokes it
    outcome = handler(event, LocalContext())

    # Then its answer is the totals only: Step Functions keeps it 90 days, keys are names
    assert outcome == {"batch_id": batch_id, "done": 2, "skipped": 1, "failed": 2}
    assert keys(DESTINATION_BUCKET) == [f"{me}cutouts/a.png", f"{me}cutouts/sub/b.png"]
    # And the job's counters and failure part (each failed key, its code) are recorded
    record = data.store.get(caller.account_id, batch_id)
    assert (record.done, record.skipped, record.failed) == (2, 1, 2)
    parts = keys(settings.transient_bucket, f"batches/{caller.account_id}/{batch_id}/")
    assert len(parts) == 1
    part = json.loads(boto3.client("s3", region_name=REGION).get_object(
        Bucket=settings.transient_bucket, Key=parts[0])["Body"].read())
    assert part == [{"key": f"{me}shoot/notes.png", "error": "undecodable_image"},
                    {"key": f"{me}shoot/gone.png", "error": "source_unreadable",
                     "s3_error": "NoSuchKey"}]


def test_a_batch_naming_a_bucket_outside_the_allow_list_fails_the_invocation(job):
    # Given a payload whose job writes somewhere the deployment does not allow
    handler, event, _, _ = job
    event["BatchInput"]["destination_bucket"] = "someone-elses-bucket"
    # When / Then the invocation fails (Step Functions counts it against the tolerance)
    with pytest.raises(Exception, match="not an allowed batch destination"):
        handler(event, LocalContext())
    assert keys(DESTINATION_BUCKET) == []


def test_items_left_when_time_runs_out_are_reported_not_lost(job):
    # Given an invocation with less time left than one image may take
    handler, event, _, _ = job
    put(SOURCE_BUCKET, f"{event['BatchInput']['source_prefix']}a.jpg", image("JPEG", (120, 90)))
    context = LocalContext(timeout_seconds=5)
    # When it runs, Then every item is failed with a code a rerun clears, nothing written
    outcome = handler(event, context)
    assert (outcome["done"], outcome["failed"]) == (0, len(event["Items"]))
    assert keys(DESTINATION_BUCKET) == []


@pytest.mark.parametrize("opted_in", [True, False])
def test_the_accounts_training_opt_in_applies_to_batch_items_as_to_api_calls(
        job, accounts, caller, settings, opted_in):
    # Given an account that has (or has not) opted in
    handler, event, _, _ = job
    if opted_in:
        accounts.set_opt_in(caller.account_id, True, changed_by=caller.key_prefix)
    put(SOURCE_BUCKET, event["Items"][0]["Key"], image("JPEG", (120, 90)))
    event["Items"] = event["Items"][:1]
    # When one image is cut out in a batch
    assert handler(event, LocalContext())["done"] == 1
    # Then its input and mask are kept for training only when opted in
    kept = keys(settings.training_bucket)
    assert (len(kept) == 2) if opted_in else (kept == [])


def test_the_source_is_never_modified(job, caller):
    # Given a job recorded with overwrite on
    handler, event, data, batch_id = job
    forced = "fedcba9876543210fedcba9876543210"
    recorded = data.store.get(caller.account_id, batch_id)
    data.store.create(BatchRecord(account_id=caller.account_id, batch_id=forced,
                                  source=recorded.source, destination=recorded.destination,
                                  overwrite=True))
    key = event["Items"][0]["Key"]
    put(SOURCE_BUCKET, key, image("JPEG", (120, 90)))
    s3 = boto3.client("s3", region_name=REGION)
    before = s3.head_object(Bucket=SOURCE_BUCKET, Key=key)
    # When it runs, Then its source object is as it was
    outcome = handler({**event, "BatchInput": {**event["BatchInput"], "batch_id": forced,
                                               "overwrite": True}}, LocalContext())
    assert outcome["done"] == 1
    after = s3.head_object(Bucket=SOURCE_BUCKET, Key=key)
    assert (after["ETag"], after["LastModified"]) == (before["ETag"], before["LastModified"])


@pytest.mark.parametrize(("key", "expected"), [
    ("in/a.jpg", "out/a.png"),
    ("in/x/y/b.JPEG", "out/x/y/b.png"),
    ("in/no-extension", "out/no-extension.png"),
    ("in/.hidden", "out/.hidden.png"),
    ("in/two.dots.webp", "out/two.dots.png"),
])
def test_output_keys_mirror_the_source_keys_with_the_formats_extension(key, expected):
    assert output_key(key, "in/", "out/", "png") == expected


def test_a_jobs_report_and_result_files_fall_under_the_24_hour_sweep():
    from datetime import UTC, datetime, timedelta

    from cutout.data.transient import StoredObject
    from cutout.service.retention import RetentionRule

    # Given a job's report and a Step Functions result file, a day old
    now = datetime(2026, 12, 2, tzinfo=UTC)
    rule = RetentionRule()
    for key in ("batches/acct_1/0123/report.json", "batches/runs/run-1/manifest.json"):
        old = StoredObject(key=key, last_modified=now - timedelta(hours=24))
        young = StoredObject(key=key, last_modified=now - timedelta(hours=1))
        # Then the sweeper deletes the old one and keeps the young one
        assert rule.is_expired(old, now) and not rule.is_expired(young, now)


def _location_event(event, account: str, **names) -> dict:
    return {**event, "BatchInput": {**event["BatchInput"], **{
        name: value.replace("ACCOUNT/", f"{account}/") for name, value in names.items()}}}


@pytest.mark.parametrize("names", [
    # another account's folder, as source or as destination (what a crafted payload names)
    {"source_prefix": "OTHER/photos/"},
    {"destination_prefix": "OTHER/photos/"},
    # a source inside the destination (it would write over in/sub/y.png), and the reverse
    {"source_prefix": "ACCOUNT/cutouts/in/sub/", "destination_bucket": SOURCE_BUCKET,
     "destination_prefix": "ACCOUNT/cutouts/in/"},
    {"source_prefix": "ACCOUNT/in/", "destination_bucket": SOURCE_BUCKET,
     "destination_prefix": "ACCOUNT/in/cutouts/"},
    # locations the API allows, but not the ones this job was recorded with
    {"destination_prefix": "ACCOUNT/elsewhere/"},
])
def test_the_worker_refuses_a_payload_the_api_would_refuse_or_never_sent(
        job, caller, other_caller, names):
    # Given a payload naming locations other than the recorded job's own
    handler, event, _, _ = job
    names = {k: v.replace("OTHER/", f"{other_caller.account_id}/") for k, v in names.items()}
    event = _location_event(event, caller.account_id, **names)
    for item in event["Items"]:
        put(SOURCE_BUCKET, item["Key"], image("JPEG", (64, 48)))
    before = {key: head(SOURCE_BUCKET, key)["ETag"] for key in keys(SOURCE_BUCKET)}
    # When / Then the invocation fails, and nothing is written or replaced
    with pytest.raises(CutoutError):
        handler(event, LocalContext())
    assert keys(DESTINATION_BUCKET) == []
    assert {key: head(SOURCE_BUCKET, key)["ETag"] for key in keys(SOURCE_BUCKET)} == before


def test_a_write_without_overwrite_never_replaces_an_object(settings):
    from cutout.data.batch_objects import OutputExists

    # Given an object at a destination key (written after any check a job made)
    buckets = wiring.batch_data(batch_settings(settings)).buckets
    put(DESTINATION_BUCKET, "acct/out/a.png", b"someone else's output")
    # When a job without overwrite writes there, Then S3's condition refuses it, unchanged
    with pytest.raises(OutputExists):
        buckets.write(DESTINATION_BUCKET, "acct/out/a.png", b"mine", "image/png")
    body = boto3.client("s3", region_name=REGION).get_object(
        Bucket=DESTINATION_BUCKET, Key="acct/out/a.png")["Body"].read()
    assert body == b"someone else's output"
    # And with overwrite the same write replaces it; a new key is written either way
    buckets.write(DESTINATION_BUCKET, "acct/out/a.png", b"mine", "image/png", replace=True)
    buckets.write(DESTINATION_BUCKET, "acct/out/b.png", b"new", "image/png")
    assert keys(DESTINATION_BUCKET) == ["acct/out/a.png", "acct/out/b.png"]


_TRACE_PROBE = """
import json, boto3
from aws_xray_sdk.core import patch, xray_recorder
from moto import mock_aws
import cutout.data.batch_objects  # what the API function and the worker import

class Captured:
    def __init__(self): self.sent = []
    def send_entity(self, entity): self.sent.append(entity.to_dict())
    def set_daemon_address(self, address): pass

emitter = Captured()
xray_recorder.configure(emitter=emitter, sampling=False, context_missing="LOG_ERROR")
patch(["botocore"])
with mock_aws():
    s3 = boto3.client("s3", region_name="eu-west-1")
    s3.create_bucket(Bucket="catalogue-in",
                     CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    xray_recorder.begin_segment("probe")
    s3.put_object(Bucket="catalogue-in", Key="teamc/photos/holiday-portrait.jpg", Body=b"x")
    s3.get_object(Bucket="catalogue-in", Key="teamc/photos/holiday-portrait.jpg")
    s3.list_objects_v2(Bucket="catalogue-in", Prefix="teamc/photos/")
    xray_recorder.end_segment()
print(json.dumps(emitter.sent, default=str))
"""


def test_x_ray_traces_of_s3_calls_carry_no_object_key_or_prefix():
    import subprocess
    import sys

    # Given X-Ray's botocore patch as Powertools' Tracer applies it, with our data layer loaded
    # (a child process: the patch cannot be undone in this one)
    probe = subprocess.run([sys.executable, "-c", _TRACE_PROBE], capture_output=True,
                           text=True, timeout=120, check=True)
    # When S3 is called with a customer's file name, Then the trace has the calls, not the name
    traced = probe.stdout
    assert '"GetObject"' in traced and '"PutObject"' in traced and '"ListObjectsV2"' in traced
    assert "holiday-portrait" not in traced and "teamc/photos" not in traced


def test_format_auto_and_zip_give_each_item_its_own_extension(job, caller):
    # Given two images of the job
    handler, event, _, _ = job
    me = f"{caller.account_id}/"
    put(SOURCE_BUCKET, f"{me}shoot/a.jpg", image("JPEG", (120, 90)))
    put(SOURCE_BUCKET, f"{me}shoot/sub/b.jpeg", image("JPEG", (90, 120)))
    event["Items"] = event["Items"][:2]
    s3 = boto3.client("s3", region_name=REGION)

    def run(options: dict) -> dict:
        return handler({**event, "BatchInput": {**event["BatchInput"], "options": options}},
                       LocalContext())

    # When cut out with format=auto on an opaque colour, Then the outputs are JPEGs
    assert run({"format": "auto", "bg_color": "white"})["done"] == 2
    assert keys(DESTINATION_BUCKET) == [f"{me}cutouts/a.jpg", f"{me}cutouts/sub/b.jpg"]
    assert s3.head_object(Bucket=DESTINATION_BUCKET,
                          Key=f"{me}cutouts/a.jpg")["ContentType"] == "image/jpeg"
    # And a rerun with format=auto skips them (an auto output may be .png or .jpg)
    assert run({"format": "auto"}) == {"batch_id": event["BatchInput"]["batch_id"],
                                       "done": 0, "skipped": 2, "failed": 0}
    # And format=zip writes remove.bg's zip beside them
    assert run({"format": "zip"})["done"] == 2
    zipped = s3.head_object(Bucket=DESTINATION_BUCKET, Key=f"{me}cutouts/sub/b.zip")
    assert zipped["ContentType"] == "application/zip"
