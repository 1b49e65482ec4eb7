"""The 24-hour rule holds even when S3 lifecycle lags: the scheduled sweeper hard-deletes every
upload that would otherwise pass 24 hours before its next run, every result whose signed link
has expired, and nothing else. (The bound itself is proved on a simulated clock in
tests/unit/test_retention_bound.py.)

Objects are written to moto now and the sweeper is handed a clock hours ahead, so their real
LastModified is what the rule reads. The handler runs on a real EventBridge scheduled event.
"""

from __future__ import annotations

import secrets
from dataclasses import fields, replace
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from botocore.exceptions import ClientError
from integration_support import REGION, LocalContext, LogCapture, bucket_keys, load_function

from cutout.data import schema
from cutout.data.transient import StoredObject, TransientStore
from cutout.errors import SweepIncomplete
from cutout.service.retention import RetentionRule, Sweeper
from cutout.settings import Settings, env_name

ACCOUNT = "acct_0123456789abcdef"


# --- helpers ---------------------------------------------------------------------------------
def hours_ahead(hours: float):
    """A clock that reads `hours` after the real time."""
    return lambda: datetime.now(UTC) + timedelta(hours=hours)


def scheduled_event() -> dict:
    """What EventBridge sends for a `rate(...)` rule."""
    return {
        "version": "0",
        "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": "2026-11-25T09:00:00Z",
        "region": REGION,
        "resources": ["arn:aws:events:us-east-1:123456789012:rule/cutout-RetentionSchedule"],
        "detail": {},
    }


def put(bucket: str, *keys: str) -> list[str]:
    s3 = boto3.client("s3", region_name=REGION)
    for key in keys:
        s3.put_object(Bucket=bucket, Key=key, Body=b"image bytes")
    return list(keys)


def uploads(count: int, account: str = ACCOUNT) -> list[str]:
    return [schema.upload_object_key(account, secrets.token_urlsafe(32)) for _ in range(count)]


def results(count: int, account: str = ACCOUNT) -> list[str]:
    return [schema.result_object_key(account, secrets.token_hex(16), "png")
            for _ in range(count)]


class S3AsAwsEnforcesIt:
    """The moto client with what moto leaves out: DeleteObjects refuses more than 1000 keys,
    and S3 may refuse single keys (as an object lock or a bucket policy would)."""

    def __init__(self, refuse: tuple[str, ...] = ()) -> None:
        self._client = boto3.client("s3", region_name=REGION)
        self._refuse = set(refuse)
        self.delete_requests: list[int] = []

    def __getattr__(self, name: str):
        return getattr(self._client, name)

    def delete_objects(self, *, Bucket: str, Delete: dict) -> dict:
        objects = Delete["Objects"]
        self.delete_requests.append(len(objects))
        if len(objects) > 1000:
            raise ClientError({"Error": {"Code": "MalformedXML", "Message": "over 1000 keys"}},
                              "DeleteObjects")
        allowed = [o for o in objects if o["Key"] not in self._refuse]
        response = self._client.delete_objects(Bucket=Bucket, Delete={**Delete,
                                                                      "Objects": allowed}) \
            if allowed else {}
        refused = [{"Key": o["Key"], "Code": "AccessDenied", "Message": "Access Denied"}
                   for o in objects if o["Key"] in self._refuse]
        return {**response, "Errors": response.get("Errors", []) + refused}


@pytest.fixture
def sweep(settings):
    """Run the sweeper handler once, on a scheduled event, with a clock `hours` ahead."""
    module = load_function("sweeper")

    def run(hours: float, context=None, s3=None, interval_minutes: int = 60) -> dict:
        if s3 is None:
            configured = replace(settings, sweep_interval_minutes=interval_minutes)
            handler = module.make_handler(settings=configured, clock=hours_ahead(hours))
        else:
            store = TransientStore(s3, settings.transient_bucket, settings.kms_key_id)
            handler = module.make_handler(Sweeper(store, clock=hours_ahead(hours)),
                                          settings=settings)
        return handler(scheduled_event(), context or LocalContext())

    return run


@pytest.fixture
def sweeper_logs(capsys, sweep):
    load_function("sweeper")  # its Powertools logger exists before the capture attaches
    capture = LogCapture(capsys)
    capture.start()
    yield capture
    capture.stop()


# --- the rule ----------------------------------------------------------------------------------
def test_the_hourly_rule_deletes_an_upload_that_would_pass_24_hours_before_the_next_run():
    # Given the hourly schedule: the next run starts up to 61 minutes later and may take 5
    rule = RetentionRule(sweep_interval=timedelta(minutes=60))
    now = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
    cutoff = timedelta(hours=24) - timedelta(minutes=60 + 1 + 5)
    # When the rule is asked, Then what is younger than 22 h 54 min stays and the rest goes,
    # under either prefix (results without a link life keep the uploads' rule)
    for key in (schema.upload_object_key(ACCOUNT, "u"), schema.result_object_key(ACCOUNT, "r",
                                                                                 "png")):
        assert not rule.is_expired(StoredObject(key, now - cutoff + timedelta(seconds=1)), now)
        assert rule.is_expired(StoredObject(key, now - cutoff), now)
        assert rule.is_expired(StoredObject(key, now - timedelta(hours=23, minutes=59)), now)


def test_the_rule_never_expires_anything_outside_uploads_and_results():
    # Given very old objects outside the transient prefixes (training data, anything else)
    now = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
    ancient = now - timedelta(days=400)
    outside = (schema.training_object_key(ACCOUNT, "req", "input"), "uploads-archive/x",
               "results", "reports/2026.csv")
    # When the rule is asked, Then none of them has expired
    rule = RetentionRule(result_link_life=timedelta(seconds=1))
    assert [key for key in outside if rule.is_expired(StoredObject(key, ancient), now)] == []


# --- the sweeper on the bucket -------------------------------------------------------------------
def test_uploads_and_results_older_than_24_hours_are_deleted(settings, sweep):
    # Given uploads and results of two accounts in the transient bucket
    written = put(settings.transient_bucket, *uploads(3), *results(3),
                  *uploads(2, "acct_fedcba9876543210"), *results(1, "acct_fedcba9876543210"))
    # When the sweeper runs 25 hours later
    report = sweep(hours=25)
    # Then every one of them is gone, and the run says how many it deleted
    assert bucket_keys(settings.transient_bucket) == []
    assert report["deleted"] == len(written)
    assert report["failed"] == 0 and report["finished"] is True


def test_uploads_that_cannot_pass_24_hours_before_the_next_run_stay(settings, sweep):
    # Given uploads in the transient bucket (results live only as long as their link: below)
    written = put(settings.transient_bucket, *uploads(3))
    # When the hourly sweeper runs 22 hours later (they are under 24 h at the next run)
    report = sweep(hours=22)
    # Then all of them are still there
    assert sorted(bucket_keys(settings.transient_bucket)) == sorted(written)
    assert report["deleted"] == 0


@pytest.mark.parametrize("interval_minutes, kept_at, deleted_at", [
    (5, 23.75, 23.85), (60, 22.8, 23.0), (720, 11.8, 12.0)])
def test_each_interval_deletes_an_upload_before_the_next_run_would_find_it_past_24_hours(
        settings, sweep, interval_minutes, kept_at, deleted_at):
    # Given uploads, and a deployment sweeping every `interval_minutes`
    written = put(settings.transient_bucket, *uploads(2))
    # When a run finds them just younger than 24 h - interval - 6 min, Then they stay
    assert sweep(hours=kept_at, interval_minutes=interval_minutes)["deleted"] == 0
    assert sorted(bucket_keys(settings.transient_bucket)) == sorted(written)
    # When a run finds them just older (the next run could be past 24 h), Then they go
    assert sweep(hours=deleted_at, interval_minutes=interval_minutes)["deleted"] == 2
    assert bucket_keys(settings.transient_bucket) == []


def test_nothing_outside_uploads_and_results_is_touched(settings, sweep, accounts):
    # Given expired-age uploads and results, and beside them objects under other prefixes,
    # in the transient bucket and in the training store of an opted-in account
    accounts.create_account(ACCOUNT)
    accounts.set_opt_in(ACCOUNT, True, changed_by="test")
    swept = put(settings.transient_bucket, *uploads(2), *results(2))
    bystanders = put(settings.transient_bucket,
                     schema.training_object_key(ACCOUNT, "req1", "input"),
                     "uploads-archive/2026/kept.bin", "reports/2026-11.csv", "results")
    training = put(settings.training_bucket, schema.training_object_key(ACCOUNT, "req1", "input"),
                   schema.training_object_key(ACCOUNT, "req1", "mask.png"))
    # When the sweeper runs 25 hours later
    report = sweep(hours=25)
    # Then only the uploads and results went; everything else is exactly as it was
    assert sorted(bucket_keys(settings.transient_bucket)) == sorted(bystanders)
    assert sorted(bucket_keys(settings.training_bucket)) == sorted(training)
    assert report["deleted"] == len(swept)


def test_more_expired_objects_than_one_page_or_one_delete_request_are_all_deleted(settings,
                                                                                   sweep):
    # Given more expired objects than S3 lists in a page or deletes in one request (1000)
    put(settings.transient_bucket, *uploads(1_250), *results(1_100))
    s3 = S3AsAwsEnforcesIt()
    # When the sweeper runs 25 hours later, against S3's 1000-keys-per-delete limit
    report = sweep(hours=25, s3=s3)
    # Then every one is gone, deleted in several requests none over the limit
    assert bucket_keys(settings.transient_bucket) == []
    assert report["deleted"] == 2_350
    assert len(s3.delete_requests) >= 3 and max(s3.delete_requests) <= 1000


def test_an_empty_bucket_is_swept_without_error(settings, sweep):
    # Given a transient bucket with nothing in it
    # When the sweeper runs
    report = sweep(hours=25)
    # Then it finishes, having deleted nothing
    assert report["deleted"] == 0 and report["failed"] == 0 and report["finished"] is True


def test_a_key_s3_refuses_fails_the_run_after_every_other_expired_object_is_deleted(settings,
                                                                                    sweep):
    # Given expired uploads and results, one of which S3 refuses to delete
    written = put(settings.transient_bucket, *uploads(3), *results(3))
    refused = written[1]
    # When the sweeper runs 25 hours later
    with pytest.raises(SweepIncomplete) as failure:
        sweep(hours=25, s3=S3AsAwsEnforcesIt(refuse=(refused,)))
    # Then the others are deleted, the run fails (the alarm fires, the retry tries again)
    # and its error names the count and S3's reason, never the key
    assert bucket_keys(settings.transient_bucket) == [refused]
    assert "AccessDenied" in str(failure.value)
    assert refused not in str(failure.value) and ACCOUNT not in str(failure.value)


def test_a_run_short_of_time_stops_and_the_next_run_finishes_the_job(settings, sweep):
    # Given expired uploads, and a first invocation with almost no time left
    put(settings.transient_bucket, *uploads(5))

    class AlmostOutOfTime(LocalContext):
        def get_remaining_time_in_millis(self) -> int:
            return 1_000

    # When that run sweeps, and then the next scheduled run does
    first = sweep(hours=25, context=AlmostOutOfTime())
    second = sweep(hours=25)
    # Then the first says it stopped early, and after the second nothing expired remains
    assert first["finished"] is False
    assert second["finished"] is True
    assert bucket_keys(settings.transient_bucket) == []


def test_the_sweeper_logs_counts_and_prefixes_never_object_keys(settings, sweep, sweeper_logs):
    # Given uploads and results whose keys name an account and each upload
    written = put(settings.transient_bucket, *uploads(3), *results(2))
    # When the sweeper runs 25 hours later
    sweep(hours=25)
    # Then its logs report the sweep by counts and prefixes, and name no key or id in it
    text = sweeper_logs.text()
    assert "sweep finished" in text and "uploads/" in text
    assert ACCOUNT not in text
    for key in written:
        assert key not in text
        assert key.rsplit("/", 1)[-1].split(".")[0] not in text


def test_the_default_entry_point_reads_settings_from_the_environment(settings, monkeypatch):
    # Given the CUTOUT_* variables the stack sets, and a fresh upload in the transient bucket
    for field in fields(Settings):
        monkeypatch.setenv(env_name(field.name), str(getattr(settings, field.name)))
    module = load_function("sweeper", cold=True)
    written = put(settings.transient_bucket, *uploads(1))
    # When the Lambda entry point is invoked by the schedule, with the real clock
    report = module.handler(scheduled_event(), LocalContext())
    # Then it found the bucket on its own and kept what is not yet 24 hours old
    assert report["examined"] == 1 and report["deleted"] == 0
    assert bucket_keys(settings.transient_bucket) == written


def test_results_go_once_their_signed_link_has_expired_uploads_keep_their_24_hours():
    # Given one moment, a 300 s result link, and objects written 10 minutes before it
    now = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
    ten_minutes_ago = now - timedelta(minutes=10)
    rule = RetentionRule(result_link_life=timedelta(seconds=300))
    result = StoredObject(schema.result_object_key(ACCOUNT, "r", "png"), ten_minutes_ago)
    upload = StoredObject(schema.upload_object_key(ACCOUNT, "u"), ten_minutes_ago)
    # When the rule is asked with the link's life for results
    # Then the result (nobody can fetch it any more) has expired, the upload has not
    assert rule.is_expired(result, now)
    assert not rule.is_expired(upload, now)
    assert not rule.is_expired(StoredObject(result.key, now - timedelta(seconds=200)), now)


def test_the_scheduled_sweeper_deletes_results_past_their_link_life(settings, monkeypatch):
    # Given the stack's variables (result links live 300 s) and a fresh result and upload
    for field in fields(Settings):
        monkeypatch.setenv(env_name(field.name), str(getattr(settings, field.name)))
    module = load_function("sweeper", cold=True)
    handler = module.make_handler(clock=hours_ahead(1))
    upload_keys = put(settings.transient_bucket, *uploads(1))
    put(settings.transient_bucket, *results(2))
    # When the hourly sweep runs an hour later
    report = handler(scheduled_event(), LocalContext())
    # Then the results are gone and the upload waits for its 24 hours
    assert report["deleted"] == 2
    assert bucket_keys(settings.transient_bucket) == upload_keys


def test_training_data_of_accounts_not_opted_in_is_deleted_and_opted_in_data_kept(
        settings, sweep, accounts, stores):
    # Given a contribution a failed take-back left behind (its account is opted out), one of
    # an account that no longer exists, and one of an opted-in account
    opted_out = accounts.create_account().account_id
    opted_in = accounts.create_account().account_id
    accounts.set_opt_in(opted_in, True, changed_by="test")
    for account_id in (opted_out, "acct_gone0000000000", opted_in):
        stores.training.put_contribution(account_id, "req1", b"in", "image/png", b"mask")
    # When the sweeper runs
    report = sweep(hours=0)
    # Then only the opted-in account's contribution is left, and the run counts what went
    assert sorted(bucket_keys(settings.training_bucket)) == sorted(
        schema.training_object_key(opted_in, "req1", name) for name in ("input", "mask.png"))
    assert report["training_objects_deleted"] == 4
    assert report["training_finished"] is True
