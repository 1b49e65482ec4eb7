"""The 24-hour rule: what in the transient bucket has expired at a given moment, and the sweep
that hard-deletes it.

S3's 1-day lifecycle rule is the backstop, but it runs once a day and can lag (24-48 h or
more), so a scheduled sweeper deletes every object under `uploads/` and `results/` last written
more than 24 hours before its clock. Nothing else in the bucket is listed or touched.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from cutout.data.schema import RESULTS_PREFIX
from cutout.data.transient import DELETE_BATCH, TRANSIENT_PREFIXES, StoredObject, TransientStore
from cutout.errors import CutoutError

RETENTION = timedelta(hours=24)
SWEPT_PREFIXES = TRANSIENT_PREFIXES

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def is_expired(stored: StoredObject, now: datetime, max_age: timedelta = RETENTION,
               results_max_age: timedelta | None = None) -> bool:
    """Past the rule: under `uploads/` or `results/` and last written more than `max_age` ago.

    Results may have a shorter life (`results_max_age`): once their signed link has expired
    nobody can fetch them, so keeping them to the 24-hour mark serves no one.
    """
    if not stored.key.startswith(SWEPT_PREFIXES):
        return False
    if results_max_age is not None and stored.key.startswith(RESULTS_PREFIX):
        max_age = min(max_age, results_max_age)
    return now - stored.last_modified > max_age


class SweepIncomplete(CutoutError):
    """S3 refused to delete some expired objects; the next run tries them again."""

    code = "sweep_incomplete"
    status = 500


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
        return {"prefixes": list(SWEPT_PREFIXES), "examined": self.examined,
                "deleted": self.deleted, "failed": self.failed,
                "failure_codes": dict(self.failure_codes), "finished": self.finished}


class Sweeper:
    """Hard-deletes expired transient objects, listing page by page, deleting 1000 at a time."""

    def __init__(self, transient: TransientStore, clock: Clock = utc_now,
                 max_age: timedelta = RETENTION, results_max_age: timedelta | None = None) -> None:
        self._transient = transient
        self._clock = clock
        self._max_age = max_age
        self._results_max_age = results_max_age

    def sweep(self, out_of_time: Callable[[], bool] = lambda: False) -> SweepReport:
        """Delete what has expired; stop early (and say so) once `out_of_time()` is true."""
        # One instant for the whole run: what turns 24 h old meanwhile waits for the next run.
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
        for prefix in SWEPT_PREFIXES:
            for stored in self._transient.list_objects(prefix):
                if out_of_time():
                    finished = False
                    break
                examined += 1
                if is_expired(stored, now, self._max_age, self._results_max_age):
                    expired.append(stored.key)
                    if len(expired) == DELETE_BATCH:
                        delete_expired()
            if not finished:
                break
        delete_expired()
        return SweepReport(examined=examined, deleted=deleted, failure_codes=dict(failures),
                           finished=finished)
