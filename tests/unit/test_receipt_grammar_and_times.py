"""The retention receipt's grammar and times: what `X-Cutout-Retention` says, and that each
time is an upper bound from the deployment's rules (the sweeper's, S3's lifecycle rounding)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from cutout.data import schema
from cutout.service.receipt import (
    KINDS,
    RECEIPT_PATTERN,
    RESULT,
    TRAINING_INPUT,
    TRAINING_MASK,
    Lifetimes,
    Receipt,
    lifecycle_expiry,
    parse_receipt,
)
from cutout.service.retention import RETENTION, RetentionRule

NOW = datetime(2026, 12, 3, 18, 30, 12, 250_000, tzinfo=UTC)


def lifetimes(interval_minutes: int = 60, link_seconds: int = 300, days: int = 365) -> Lifetimes:
    rule = RetentionRule(timedelta(minutes=interval_minutes), timedelta(seconds=link_seconds))
    return Lifetimes(rule, days, clock=lambda: NOW)


def test_a_request_that_wrote_nothing_says_none():
    assert Receipt().header() == "none"
    assert parse_receipt("none") == []


def test_each_object_written_is_one_entry_in_the_order_written():
    # Given a request that stored a result and a training contribution
    receipt = Receipt()
    times = lifetimes()
    receipt.add(RESULT, times.result())
    receipt.add(TRAINING_INPUT, times.training())
    receipt.add(TRAINING_MASK, times.training())
    # Then the header lists them, comma-separated, each `kind=UTC time to the second`
    header = receipt.header()
    assert header == ("result=2026-12-03T19:41:13Z, training-input=2027-12-04T00:00:00Z, "
                      "training-mask=2027-12-04T00:00:00Z")
    assert re.fullmatch(RECEIPT_PATTERN, header)
    # And a client reads back exactly what was written
    assert parse_receipt(header) == receipt.entries


@pytest.mark.parametrize("value", ["", "None", "result", "result=tomorrow",
                                   "result=2026-12-03T19:41:13+00:00", "photo=2026-12-03T19:41:13Z",
                                   "result=2026-12-03T19:41:13Z,upload=2026-12-03T19:41:13Z"])
def test_a_value_outside_the_grammar_is_not_a_receipt(value):
    with pytest.raises(ValueError):
        parse_receipt(value)


def test_an_unknown_kind_cannot_be_written():
    with pytest.raises(ValueError):
        Receipt().add("thumbnail", NOW)
    assert set(KINDS) == {"result", "upload", "training-input", "training-mask", "training-note",
                          "batch-report", "batch-report-step"}


def test_the_lifecycle_expiry_rounds_up_to_the_next_midnight_utc_as_s3_documents():
    # AWS's own example: created 2014-01-15 10:30 UTC, expiration after 3 days -> 2014-01-19 00:00
    created = datetime(2014, 1, 15, 10, 30, tzinfo=UTC)
    assert lifecycle_expiry(created, 3) == datetime(2014, 1, 19, tzinfo=UTC)
    # A creation time in another zone is the same instant
    assert lifecycle_expiry(created.astimezone(tz=None), 3) == datetime(2014, 1, 19, tzinfo=UTC)
    # Never early: an object written at midnight expires no sooner than the days after it
    midnight = datetime(2026, 12, 3, tzinfo=UTC)
    assert lifecycle_expiry(midnight, 1) - midnight >= timedelta(days=1)


def test_a_result_is_deleted_by_its_link_life_plus_one_sweep_rounded_up_to_the_second():
    # Given 300 s links and an hourly sweep: 300 s + 60 min + 1 min lateness + 5 min run
    delete_by = lifetimes().result()
    assert delete_by == datetime(2026, 12, 3, 19, 41, 13, tzinfo=UTC)  # 18:30:12.25 + 71 min
    assert delete_by - NOW >= timedelta(minutes=71)


@pytest.mark.parametrize("interval", [5, 60, 720])
def test_an_upload_is_deleted_24_hours_after_its_link_expires_at_the_latest(interval):
    # Given an upload link of 300 s
    delete_by = lifetimes(interval).upload(300)
    # Then the promise is 24 h after the last moment the client may PUT, at any interval
    assert timedelta(0) <= delete_by - (NOW + timedelta(seconds=300) + RETENTION) \
        < timedelta(seconds=1)


@pytest.mark.parametrize("interval", range(5, 721, 5))
def test_the_sweeper_bound_comes_before_the_buckets_one_day_lifecycle_rule(interval):
    # At every allowed interval, an upload's or a result's delete-by is before S3's 1-day rule
    # would expire it: the receipt states the sweeper's bound, the rule is the backstop
    rule = RetentionRule(timedelta(minutes=interval), timedelta(seconds=3600))
    for key in (schema.UPLOADS_PREFIX, schema.RESULTS_PREFIX):
        assert rule.deleted_by(key, NOW) <= NOW + RETENTION < lifecycle_expiry(NOW, 1)


def test_training_objects_are_kept_until_the_training_store_rule_expires_them():
    # Given a 30-day training retention
    delete_by = lifetimes(days=30).training()
    # Then it is the lifecycle rule's expiry: 30 days on, rounded up to midnight UTC
    assert delete_by == datetime(2027, 1, 3, tzinfo=UTC)
