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
from batch_support import DESTINATION_BUCKET, SOURCE_BUCKET, batch_settings, image, keys, put
from integration_support import FUNCTIONS, REGION, LocalContext

from cutout.data.batch_stores import BatchData
from cutout.data.batches import BatchRecord
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
    data = BatchData.from_settings(configured)
    batch_id = "0123456789abcdef0123456789abcdef"
    data.store.create(BatchRecord(account_id=caller.account_id, batch_id=batch_id,
                                  source=f"s3://{SOURCE_BUCKET}/shoot/",
                                  destination=f"s3://{DESTINATION_BUCKET}/cutouts/"))
    processor = build_item_processor(configured, build_removal_service(configured,
                                                                       stores=stores), data)
    event = json.loads(EVENT.read_text().replace("ACCOUNT_ID", caller.account_id)
                       .replace("BATCH_ID", batch_id))
    return _worker_module().make_handler(processor), event, data, batch_id


def test_each_item_of_a_distributed_map_batch_gets_its_own_outcome(job, caller, settings):
    # Given the sources the payload names (one missing, one not an image, a folder marker)
    handler, event, data, batch_id = job
    put(SOURCE_BUCKET, "shoot/a.jpg", image("JPEG", (120, 90)))
    put(SOURCE_BUCKET, "shoot/sub/b.jpeg", image("JPEG", (90, 120)))
    put(SOURCE_BUCKET, "shoot/notes.png", b"not an image at all")

    # When the worker is invoked as Step Functions invokes it
    outcome = handler(event, LocalContext())

    # Then one result per item, in order, and the totals
    assert [(r["key"], r["status"], r.get("error") or r.get("reason")) for r in
            outcome["items"]] == [
        ("shoot/a.jpg", "done", None), ("shoot/sub/b.jpeg", "done", None),
        ("shoot/sub/", "skipped", "folder_marker"),
        ("shoot/notes.png", "failed", "undecodable_image"),
        ("shoot/gone.png", "failed", "source_unreadable")]
    assert (outcome["done"], outcome["skipped"], outcome["failed"]) == (2, 1, 2)
    assert keys(DESTINATION_BUCKET) == ["cutouts/a.png", "cutouts/sub/b.png"]
    # And the job's counters and failure part are recorded for the status route
    record = data.store.get(caller.account_id, batch_id)
    assert (record.done, record.skipped, record.failed) == (2, 1, 2)
    parts = keys(settings.transient_bucket, f"batches/{caller.account_id}/{batch_id}/")
    assert len(parts) == 1


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
    put(SOURCE_BUCKET, "shoot/a.jpg", image("JPEG", (120, 90)))
    context = LocalContext(timeout_seconds=5)
    # When it runs, Then every item is failed with a code a rerun clears, nothing written
    outcome = handler(event, context)
    assert {r["error"] for r in outcome["items"]} == {"time_budget_exceeded"}
    assert keys(DESTINATION_BUCKET) == []


@pytest.mark.parametrize("opted_in", [True, False])
def test_the_accounts_training_opt_in_applies_to_batch_items_as_to_api_calls(
        job, accounts, caller, settings, opted_in):
    # Given an account that has (or has not) opted in
    handler, event, _, _ = job
    if opted_in:
        accounts.set_opt_in(caller.account_id, True, changed_by=caller.key_prefix)
    put(SOURCE_BUCKET, "shoot/a.jpg", image("JPEG", (120, 90)))
    event["Items"] = event["Items"][:1]
    # When one image is cut out in a batch
    assert handler(event, LocalContext())["done"] == 1
    # Then its input and mask are kept for training only when opted in
    kept = keys(settings.training_bucket)
    assert (len(kept) == 2) if opted_in else (kept == [])


def test_the_source_is_never_modified(job):
    handler, event, _, _ = job
    put(SOURCE_BUCKET, "shoot/a.jpg", image("JPEG", (120, 90)))
    s3 = boto3.client("s3", region_name=REGION)
    before = s3.head_object(Bucket=SOURCE_BUCKET, Key="shoot/a.jpg")
    handler({**event, "BatchInput": {**event["BatchInput"], "overwrite": True}}, LocalContext())
    after = s3.head_object(Bucket=SOURCE_BUCKET, Key="shoot/a.jpg")
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
