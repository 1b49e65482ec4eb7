"""The retention receipt: what one request wrote, and by when each object is deleted.

Every answer carries it as `X-Cutout-Retention` (`RETENTION_HEADER`, set by
`cutout.api.responses.with_receipt`):
`none` when the request wrote nothing, else one `kind=delete-by` entry per object written, in
the order they were written, e.g.
`result=2026-12-03T19:41:07Z, training-input=2027-12-04T00:00:00Z, training-mask=...`.
The times are upper bounds derived from the deployment's own rules, never a guess: the
sweeper's schedule for the transient bucket (`RetentionRule.deleted_by`, always before the
bucket's 1-day lifecycle rule), the training store's lifecycle rule (S3 rounds to the next
midnight UTC) for what an opted-in account contributes. One receipt per request, never shared.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta

from cutout.clock import Clock, iso_seconds, utc_now
from cutout.data import schema
from cutout.service.retention import RetentionRule
from cutout.settings import Settings

RETENTION_HEADER = "X-Cutout-Retention"
NONE = "none"
# The kinds of object a request can write (docs/retention.md says where each lives).
RESULT = "result"  # a result behind a signed link (transient bucket, results/)
UPLOAD = "upload"  # a signed upload's object, PUT by the client (transient bucket, uploads/)
TRAINING_INPUT = "training-input"  # an opted-in account's input (training store)
TRAINING_MASK = "training-mask"  # and its mask
TRAINING_NOTE = "training-note"  # an improve submission's note (its tag and file name)
BATCH_REPORT = "batch-report"  # a batch's merged failure report (transient bucket, batches/)
BATCH_REPORT_STEP = "batch-report-step"  # one saved step of merging it (the same)
KINDS = (RESULT, UPLOAD, TRAINING_INPUT, TRAINING_MASK, TRAINING_NOTE, BATCH_REPORT,
         BATCH_REPORT_STEP)
_ENTRY = "(" + "|".join(KINDS) + r")=\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z"
# The header's whole grammar, as a regular expression (the OpenAPI document states it too).
RECEIPT_PATTERN = f"^({NONE}|{_ENTRY}(, {_ENTRY})*)$"


@dataclass(frozen=True)
class Entry:
    """One object a request wrote: its kind and when it is deleted at the latest."""

    kind: str
    delete_by: datetime

    def __str__(self) -> str:
        return f"{self.kind}={iso_seconds(self.delete_by)}"


@dataclass
class Receipt:
    """The objects one request wrote and left written, in the order written."""

    entries: list[Entry] = field(default_factory=list)

    def add(self, kind: str, delete_by: datetime) -> None:
        if kind not in KINDS:
            raise ValueError(f"no object kind {kind!r}")
        self.entries.append(Entry(kind, delete_by))

    def header(self) -> str:
        """The `X-Cutout-Retention` value."""
        return ", ".join(map(str, self.entries)) or NONE


def parse_receipt(value: str) -> list[Entry]:
    """The entries of an `X-Cutout-Retention` value (`none`: no entry); ValueError if it
    does not follow `RECEIPT_PATTERN` (for clients, the verify probe and the tests)."""
    if not re.fullmatch(RECEIPT_PATTERN, value):
        raise ValueError(f"not a retention receipt: {value[:200]!r}")
    if value == NONE:
        return []
    entries = []
    for part in value.split(", "):
        kind, _, moment = part.partition("=")
        entries.append(Entry(kind, datetime.strptime(moment, "%Y-%m-%dT%H:%M:%SZ")
                             .replace(tzinfo=UTC)))
    return entries


def lifecycle_expiry(written: datetime, days: int) -> datetime:
    """When an S3 lifecycle rule of `days` expires an object written at `written`: S3 adds
    the days to the object's creation time and rounds up to the next midnight UTC (here the
    midnight that follows, so the bound is never early)."""
    moment = (written + timedelta(days=days)).astimezone(UTC)
    return datetime.combine(moment.date() + timedelta(days=1), time(0), tzinfo=UTC)


@dataclass(frozen=True)
class Lifetimes:
    """The delete-by time of each kind of object, for an object written now."""

    rule: RetentionRule
    training_retention_days: int
    clock: Clock = utc_now

    @classmethod
    def from_settings(cls, settings: Settings, clock: Clock = utc_now) -> Lifetimes:
        return cls(RetentionRule.from_settings(settings), settings.training_retention_days,
                   clock)

    def transient(self, key: str, written: datetime | None = None) -> datetime:
        """An object of the transient bucket under `key`: the sweeper's bound."""
        return _whole_second(self.rule.deleted_by(key, written or self.clock()))

    def result(self) -> datetime:
        return self.transient(schema.RESULTS_PREFIX)

    def upload(self, link_life_seconds: int) -> datetime:
        """An upload the client may PUT until its link expires: 24 h after that, at most."""
        latest_write = self.clock() + timedelta(seconds=link_life_seconds)
        return self.transient(schema.UPLOADS_PREFIX, latest_write)

    def training(self) -> datetime:
        """A contribution to the training store: its lifecycle rule's expiry."""
        return lifecycle_expiry(self.clock(), self.training_retention_days)


def _whole_second(moment: datetime) -> datetime:
    """Rounded up to the second the header shows, so the bound is never early."""
    return datetime.fromtimestamp(math.ceil(moment.timestamp()), UTC)
