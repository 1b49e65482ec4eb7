"""The 24-hour promise, proved on a simulated clock: at every allowed sweep interval, over
days of scheduled runs that start late and take their whole timeout, no upload lives past
24 hours and no result past its link's life plus one sweep.

The bucket is an in-memory stand-in with the two calls the sweeper makes, because moto's
LastModified is the real time: only a simulated clock can run two days in a second. The
same Sweeper runs against moto in tests/integration/test_sweeper.py.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta

import pytest

from cutout.data import schema
from cutout.data.transient import Deletion, StoredObject
from cutout.service.retention import (
    RETENTION,
    RUN_TIME,
    SCHEDULE_LATENESS,
    RetentionRule,
    Sweeper,
)

START = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
ALLOWED_INTERVALS = range(5, 721)  # minutes, as infrastructure/settings.py allows
LINK_LIFE = timedelta(seconds=300)


class SimulatedBucket:
    """The transient bucket's listing and deleting, on a clock the test moves."""

    def __init__(self) -> None:
        self.now = START
        self.written: dict[str, datetime] = {}
        self.present: dict[str, datetime] = {}
        self.deleted_at: dict[str, datetime] = {}

    def put(self, key: str, at: datetime) -> None:
        self.written[key] = self.present[key] = at

    def list_objects(self, prefix: str) -> Iterator[StoredObject]:
        for key, written in sorted(self.present.items()):
            if key.startswith(prefix) and written <= self.now:
                yield StoredObject(key, written)

    def delete_objects(self, keys: Sequence[str]) -> Deletion:
        for key in keys:
            del self.present[key]
            self.deleted_at[key] = self.now
        return Deletion(deleted=len(keys))


def simulate(interval_minutes: int, seed: int) -> SimulatedBucket:
    """Two days of scheduled runs; objects written just before, at and just after each run
    of the first day and at random moments; each run's deletions land at its latest."""
    interval = timedelta(minutes=interval_minutes)
    rng = random.Random(seed)
    bucket = SimulatedBucket()
    rule = RetentionRule(sweep_interval=interval, result_link_life=LINK_LIFE)
    run_started = START
    sweeper = Sweeper(bucket, rule, clock=lambda: run_started)  # type: ignore[arg-type]
    runs = int(2 * RETENTION / interval) + 2
    first_day = int(RETENTION / interval) + 1
    for run in range(first_day):
        scheduled = START + run * interval
        for offset in (-1, 0, 1, rng.uniform(0, interval.total_seconds())):
            at = scheduled + timedelta(seconds=offset)
            bucket.put(schema.upload_object_key("acct_sim", f"u{run}_{offset}"), at)
            bucket.put(schema.result_object_key("acct_sim", f"r{run}_{offset}", "png"), at)
    for run in range(runs):
        # EventBridge may start a run up to a minute late; a run may last its whole timeout
        run_started = START + run * interval + rng.choice((timedelta(0), SCHEDULE_LATENESS))
        bucket.now = run_started + rng.choice((timedelta(0), RUN_TIME))  # deletions land then
        sweeper.sweep()
    return bucket


def lives(bucket: SimulatedBucket, prefix: str) -> list[timedelta]:
    keys = [key for key in bucket.written if key.startswith(prefix)]
    assert all(key in bucket.deleted_at for key in keys), "an object outlived the simulation"
    return [bucket.deleted_at[key] - bucket.written[key] for key in keys]


@pytest.mark.parametrize("chunk", range(4))
def test_no_upload_ever_lives_past_24_hours_at_any_allowed_interval(chunk):
    # Given each allowed sweep interval (5 to 720 minutes), in four parts
    for interval in ALLOWED_INTERVALS[chunk::4]:
        # When two days of scheduled runs sweep a bucket written to all through the first day
        bucket = simulate(interval, seed=interval)
        # Then every upload was deleted within 24 hours of being written ...
        longest = max(lives(bucket, schema.UPLOADS_PREFIX))
        assert longest <= RETENTION, f"{interval} min: an upload lived {longest}"
        # ... and none before it was 24 h minus one interval, lateness and run time old
        shortest = min(lives(bucket, schema.UPLOADS_PREFIX))
        assert shortest >= RetentionRule(timedelta(minutes=interval)).upload_max_age


@pytest.mark.parametrize("interval", [5, 60, 720])
def test_a_result_lives_at_most_its_link_life_plus_one_sweep(interval):
    # Given result links of 300 s and a sweep every `interval` minutes
    bucket = simulate(interval, seed=7)
    # Then no result outlives its link by more than one interval, lateness and run time,
    # and none is deleted while its link still works
    results = lives(bucket, schema.RESULTS_PREFIX)
    assert max(results) <= LINK_LIFE + timedelta(minutes=interval) + SCHEDULE_LATENESS + RUN_TIME
    assert min(results) >= LINK_LIFE


@pytest.mark.parametrize("interval", [5, 17, 60, 240, 720])
def test_every_object_is_gone_by_the_delete_by_its_retention_receipt_names(interval):
    # Given two days of sweeps over objects written all through the first day
    bucket = simulate(interval, seed=interval)
    rule = RetentionRule(sweep_interval=timedelta(minutes=interval), result_link_life=LINK_LIFE)
    # Then each upload and result was deleted by the time `deleted_by` gives for it (what
    # X-Cutout-Retention states), however late the runs started and however long they took
    for key, written in bucket.written.items():
        assert bucket.deleted_at[key] <= rule.deleted_by(key, written), key


def test_the_rule_keeps_an_upload_as_long_as_the_promise_allows():
    # Given the default hourly sweep
    rule = RetentionRule(timedelta(minutes=60))
    # Then uploads go from 24 h - 60 min - 1 min lateness - 5 min run time = 22 h 54 min
    assert rule.upload_max_age == timedelta(hours=22, minutes=54)
    # and at the extremes of the allowed intervals
    assert RetentionRule(timedelta(minutes=5)).upload_max_age == timedelta(hours=23, minutes=49)
    assert RetentionRule(timedelta(minutes=720)).upload_max_age == timedelta(hours=11, minutes=54)


def test_an_interval_that_leaves_no_time_is_refused():
    with pytest.raises(ValueError):
        RetentionRule(timedelta(hours=24))
