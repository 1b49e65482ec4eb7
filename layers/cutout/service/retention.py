"""The 24-hour rule: what in the transient bucket the sweeper deletes at a given moment, and
the sweep that hard-deletes it.

S3's 1-day lifecycle rule is the backstop, but it runs once a day and can lag (24-48 h or
more), so a scheduled sweeper keeps the promise. A run deletes what would otherwise pass 24
hours before the NEXT run has finished: the next run starts one interval later (EventBridge
may start it up to a minute late) and takes up to its timeout, so an upload goes once it is
`24 h - interval - lateness - run time` old. Results are useful only while their signed
link works and go once it has expired. Nothing outside `uploads/`, `results/` and `batches/`
is touched.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from cutout.clock import Clock, utc_now
from cutout.data.schema import RESULTS_PREFIX
from cutout.data.transient import DELETE_BATCH, TRANSIENT_PREFIXES, StoredObject, TransientStore
from cutout.settings import Settings

RETENTION = timedelta(hours=24)
# How late EventBridge may start a scheduled run, and the longest run (the sweeper's timeout,
# infrastructure/functions.py): deletions of a run land at most this long after its schedule.
SCHEDULE_LATENESS = timedelta(minutes=1)
RUN_TIME = timedelta(seconds=300)
DEFAULT_SWEEP_INTERVAL = timedelta(minutes=60)


@dataclass(frozen=True)
class RetentionRule:
    """From which age the sweeper deletes, given how often it runs.

    `sweep_interval` is the schedule's rate; `result_link_life` the signed result links'
    lifetime (None: results keep the uploads' rule).
    """

    sweep_interval: timedelta = DEFAULT_SWEEP_INTERVAL
    result_link_life: timedelta | None = None

    def __post_init__(self) -> None:
        if self.upload_max_age <= timedelta(0):
            raise ValueError("the sweep interval leaves no time to keep an upload")

    @property
    def upload_max_age(self) -> timedelta:
        """Deleted from this age: the next run may end one interval + lateness + run later."""
        return RETENTION - self.sweep_interval - SCHEDULE_LATENESS - RUN_TIME

    @property
    def result_max_age(self) -> timedelta:
        """A result goes once its link has expired (and never later than an upload)."""
        if self.result_link_life is None:
            return self.upload_max_age
        return min(self.result_link_life, self.upload_max_age)

    @classmethod
    def from_settings(cls, settings: Settings) -> RetentionRule:
        """The rule of a deployment: its sweep schedule and its result links' lifetime."""
        return cls(sweep_interval=timedelta(minutes=settings.sweep_interval_minutes),
                   result_link_life=timedelta(seconds=settings.result_url_ttl_seconds))

    def deleted_by(self, key: str, written: datetime) -> datetime:
        """When the sweeper has deleted an object written at `written` under `key`, at the
        latest: it is expired from its max age on, and the next run after that starts within
        an interval plus its lateness and ends within its run time (24 h for an upload)."""
        max_age = self.result_max_age if key.startswith(RESULTS_PREFIX) else self.upload_max_age
        return written + max_age + self.sweep_interval + SCHEDULE_LATENESS + RUN_TIME

    def is_expired(self, stored: StoredObject, now: datetime) -> bool:
        """Under `uploads/` or `results/` and at least that prefix's max age old at `now`."""
        if not stored.key.startswith(TRANSIENT_PREFIXES):
            return False
        max_age = self.result_max_age if stored.key.startswith(RESULTS_PREFIX) \
            else self.upload_max_age
        return now - stored.last_modified >= max_age


@dataclass(frozen=True)
class SweepReport:
    """Counts of one sweep (never keys: they name accounts and uploads)."""

    examined: int = 0
    deleted: int = 0
    failure_codes: dict[str, int] = field(default_factory=dict)
    finished: bool = True  # False when the run stopped for time; the next one carries on

    @property
    def failed(self) -> int:
        return sum(self.failure_codes.values())

    def counts(self) -> dict[str, object]:
        """The report as log fields."""
        return {"prefixes": list(TRANSIENT_PREFIXES), "examined": self.examined,
                "deleted": self.deleted, "failed": self.failed,
                "failure_codes": dict(self.failure_codes), "finished": self.finished}


class Sweeper:
    """Hard-deletes what its rule expires, listing page by page, deleting 1000 at a time."""

    def __init__(self, transient: TransientStore, rule: RetentionRule | None = None,
                 clock: Clock = utc_now) -> None:
        self._transient = transient
        self._rule = rule or RetentionRule()
        self._clock = clock

    def sweep(self, out_of_time: Callable[[], bool] = lambda: False) -> SweepReport:
        """Delete what has expired; stop early (and say so) once `out_of_time()` is true."""
        # One instant for the whole run: the rule's margin covers the run's own duration.
        now = self._clock()
        if now.tzinfo is None:
            raise ValueError("the sweeper's clock must give timezone-aware datetimes")
        examined, deleted = 0, 0
        failures: Counter[str] = Counter()
        expired: list[str] = []

        def delete_expired() -> None:
            nonlocal deleted
            if expired:
                outcome = self._transient.delete_objects(expired)
                deleted += outcome.deleted
                failures.update(outcome.failure_codes)
                expired.clear()

        finished = True
        for prefix in TRANSIENT_PREFIXES:
            for stored in self._transient.list_objects(prefix):
                if out_of_time():
                    finished = False
                    break
                examined += 1
                if self._rule.is_expired(stored, now):
                    expired.append(stored.key)
                    if len(expired) == DELETE_BATCH:
                        delete_expired()
            if not finished:
                break
        delete_expired()
        return SweepReport(examined=examined, deleted=deleted, failure_codes=dict(failures),
                           finished=finished)
