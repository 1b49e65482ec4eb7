"""Catalogue batches: start a job over an S3 prefix, and tell its caller how it is going.

Everything that can be refused is refused here, before anything runs: buckets outside the
deployment's allow-list, a prefix outside the calling account's folder (`<account_id>/`),
a source and destination that overlap either way, a prefix with nothing in it (options were
validated by the engine's own parser at the edge). `check_locations` is the one rule, run
again by the worker on every item batch. A job that starts can
only fail item by item; those failures land in a report the caller reads through a
short-lived signed link. The work itself is `cutout.service.batch_items`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from cutout.clock import Clock, iso_seconds, utc_now
from cutout.data.batches import BATCHES_PREFIX, RUNNING, TERMINAL_STATES, BatchRecord
from cutout.errors import (
    BatchesNotEnabled,
    BatchNotFound,
    BucketNotAllowed,
    ConfigurationError,
    EmptySource,
    LocationNotOwned,
    LocationsOverlap,
)
from cutout.service.receipt import BATCH_REPORT, BATCH_REPORT_STEP, Lifetimes, Receipt
from cutout.service.retention import RetentionRule
from cutout.settings import Settings

if TYPE_CHECKING:
    from cutout.data.batch_stores import BatchData
    from cutout.data.step_functions import RunProgress
    from cutout.engine.options import RemovalOptions

# In a bucket that is both a source and a destination, outputs go under
# `<account_id>/cutouts/` and sources lie outside it: the two are disjoint by rule, so no job
# of any account can write where another job reads.
SHARED_BUCKET_OUTPUTS = "cutouts/"


@dataclass(frozen=True)
class Location:
    """`s3://bucket/prefix/`, parsed at the edge (the prefix is "" or ends with "/")."""

    bucket: str
    prefix: str

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"

    def overlaps(self, other: Location) -> bool:
        """Same bucket, and either prefix inside the other (or equal)."""
        return self.bucket == other.bucket and (other.prefix.startswith(self.prefix)
                                                or self.prefix.startswith(other.prefix))


def account_folder(account_id: str) -> str:
    """The folder of every bucket that is the account's own (account ids hold no `/`)."""
    return f"{account_id}/"


@dataclass(frozen=True)
class BatchRequest:
    """What to cut out, where to, how, and whether outputs that exist are written again."""

    source: Location
    destination: Location
    options: RemovalOptions
    params: dict[str, str] = field(default_factory=dict)  # the options as sent, for the job
    overwrite: bool = False


@dataclass(frozen=True)
class AllowList:
    """The buckets a deployment lets jobs read from and write to (IAM grants exactly these)."""

    sources: frozenset[str] = frozenset()
    destinations: frozenset[str] = frozenset()

    @classmethod
    def from_settings(cls, settings: Settings) -> AllowList:
        """The lists; refuses the stack's own buckets (jobs would reach every account's
        transient objects or training data, and write outside the swept prefixes)."""
        allow = cls(_names(settings.batch_source_buckets),
                    _names(settings.batch_destination_buckets))
        own = {getattr(settings, "transient_bucket", ""),  # the CDK settings name neither
               getattr(settings, "training_bucket", "")} - {""}
        named = sorted((allow.sources | allow.destinations) & own)
        if named:
            raise ConfigurationError(
                f"batch buckets may not be the stack's own transient or training bucket: "
                f"{', '.join(named)}")
        return allow

    @property
    def enabled(self) -> bool:
        return bool(self.sources and self.destinations)

    def shared(self, bucket: str) -> bool:
        """Whether the bucket is on both lists (its layout then keeps outputs apart)."""
        return bucket in self.sources and bucket in self.destinations

    def check(self, source_bucket: str, destination_bucket: str) -> None:
        if source_bucket not in self.sources:
            raise BucketNotAllowed(f"bucket {source_bucket!r} is not an allowed batch source "
                                   f"(allowed: {', '.join(sorted(self.sources))})")
        if destination_bucket not in self.destinations:
            raise BucketNotAllowed(
                f"bucket {destination_bucket!r} is not an allowed batch destination "
                f"(allowed: {', '.join(sorted(self.destinations))})")


def check_locations(allow: AllowList, account_id: str, source: Location,
                    destination: Location) -> None:
    """Whether this account may read `source` and write `destination` (the API at the start
    and the worker on every item batch): allow-listed buckets, both prefixes inside the
    account's own folder, no overlap either way, and in a shared bucket outputs only under
    `<account_id>/cutouts/` with sources outside it."""
    allow.check(source.bucket, destination.bucket)
    folder = account_folder(account_id)
    for name, location in (("source", source), ("destination", destination)):
        if not location.prefix.startswith(folder):
            raise LocationNotOwned(
                f"the {name} {location.uri} is outside this account's folder: batch prefixes "
                f"begin with {folder!r} (s3://{location.bucket}/{folder}...)")
    if source.overlaps(destination):
        raise LocationsOverlap(
            f"{source.uri} and {destination.uri} overlap: an output could be written over a "
            "source, or read as one by a later run; choose prefixes neither inside the other")
    outputs = folder + SHARED_BUCKET_OUTPUTS
    for location, is_output in ((source, False), (destination, True)):
        if allow.shared(location.bucket) and location.prefix.startswith(outputs) != is_output:
            raise LocationsOverlap(
                f"bucket {location.bucket!r} is both a source and a destination bucket: its "
                f"outputs go under {outputs!r} and its sources lie outside it "
                f"(the {'destination' if is_output else 'source'} was {location.uri})")


class BatchRunner(Protocol):
    """The deployment's state machine (Step Functions in AWS, moto's interpreter locally)."""

    def execution_for(self, name: str) -> str:
        """The id the execution named `name` will have: known before it starts, so the job
        is recorded with it first and nothing can start that the record does not name."""
        ...

    def start(self, name: str, execution_input: dict[str, object]) -> str: ...

    def progress(self, execution: str) -> RunProgress: ...


@dataclass(frozen=True)
class ReportLink:
    url: str = field(repr=False)
    expires_in: int = 0


# `report_state`: nothing failed (so far); failures, the report not written yet; written.
REPORT_NONE, REPORT_PREPARING, REPORT_READY = "none", "preparing", "ready"


@dataclass(frozen=True)
class BatchStatus:
    """A job as its caller sees it."""

    record: BatchRecord
    listed: int | None
    report: ReportLink | None
    report_state: str = REPORT_NONE


def execution_input(record: BatchRecord, source: Location, destination: Location) -> dict:
    """What the state machine receives: the ItemReader's bucket and prefix, and the
    `BatchInput` every item batch carries."""
    return {
        "source": {"bucket": source.bucket, "prefix": source.prefix},
        "batch_input": {
            "account_id": record.account_id, "batch_id": record.batch_id,
            "source_bucket": source.bucket, "source_prefix": source.prefix,
            "destination_bucket": destination.bucket, "destination_prefix": destination.prefix,
            "options": dict(record.options), "overwrite": record.overwrite,
        },
    }


class BatchService:
    """Start and read batch jobs for an account; holds collaborators only."""

    def __init__(self, data: BatchData, runner: BatchRunner | None, allow: AllowList, *,
                 report_url_ttl: int = 300, clock: Clock | None = None,
                 lifetimes: Lifetimes | None = None) -> None:
        self._store, self._buckets, self._reports = data.store, data.buckets, data.reports
        self._runner = runner
        self._allow = allow
        self._report_url_ttl = report_url_ttl
        self._clock = clock or utc_now
        # A report's lifetime depends on the sweep schedule only (the default one if not given).
        self._lifetimes = lifetimes or Lifetimes(RetentionRule(), 0, self._clock)

    def start(self, account_id: str, request: BatchRequest) -> BatchRecord:
        """Check everything, record the job, start it; the job's id is returned at once."""
        runner = self._enabled_runner()
        source, destination = request.source, request.destination
        check_locations(self._allow, account_id, source, destination)
        if not self._buckets.has_objects(source.bucket, source.prefix):
            raise EmptySource(f"nothing to cut out under {source.uri}")
        batch_id = uuid.uuid4().hex
        record = BatchRecord(
            account_id=account_id, batch_id=batch_id, source=source.uri,
            destination=destination.uri, options=dict(request.params),
            overwrite=request.overwrite, state=RUNNING, created_at=iso_seconds(self._clock()),
            execution=runner.execution_for(batch_id))
        self._store.create(record)  # recorded with its execution id before anything runs
        try:
            runner.start(record.batch_id, execution_input(record, source, destination))
        except Exception:
            self._store.finish(account_id, record.batch_id, "FAILED", iso_seconds(self._clock()), 0)
            raise
        return record

    def status(self, account_id: str, batch_id: str,
               receipt: Receipt | None = None) -> BatchStatus:
        """The job's state and totals; when it has ended with failures, a link to the report.
        A read that writes (a step of merging the report, or the report) says so on `receipt`."""
        runner = self._enabled_runner()
        record = self._store.get(account_id, batch_id)
        if record is None:
            raise BatchNotFound("no batch with that id for this account")
        listed = record.listed
        if record.state == RUNNING and record.execution:
            progress = runner.progress(record.execution)
            listed = progress.listed
            if progress.state in TERMINAL_STATES:
                self._store.finish(account_id, batch_id, progress.state,
                                   progress.ended_at or iso_seconds(self._clock()), progress.listed)
                record = self._store.get(account_id, batch_id) or record
                listed = record.listed
        report_state, report = self._report(record, receipt if receipt is not None else Receipt())
        return BatchStatus(record=record, listed=listed, report=report,
                           report_state=report_state)

    def _report(self, record: BatchRecord, receipt: Receipt) -> tuple[str, ReportLink | None]:
        """The report's state and link. A read of an ended job does at most one bounded
        merge step (saved as it goes), so the status answers at once however many items
        failed; `preparing` until a later read finds the report written."""
        if record.failed == 0:
            return REPORT_NONE, None
        key = record.report_key
        if key is None:
            if record.state not in TERMINAL_STATES:
                return REPORT_PREPARING, None
            key = self._reports.merge_step(record.account_id, record.batch_id, record.failed)
            # Either way the step wrote one object under batches/ (`BatchReports.merge_step`).
            receipt.add(BATCH_REPORT if key else BATCH_REPORT_STEP,
                        self._lifetimes.transient(BATCHES_PREFIX))
            if key is None:
                return REPORT_PREPARING, None
            self._store.set_report(record.account_id, record.batch_id, key)
        return REPORT_READY, ReportLink(url=self._reports.presign(key, self._report_url_ttl),
                                        expires_in=self._report_url_ttl)

    def _enabled_runner(self) -> BatchRunner:
        if self._runner is None or not self._allow.enabled:
            raise BatchesNotEnabled(
                "batch jobs are not enabled in this deployment: its operator sets "
                "cutout:batch_source_buckets and cutout:batch_destination_buckets")
        return self._runner


def _names(value: str) -> frozenset[str]:
    return frozenset(name.strip() for name in value.split(",") if name.strip())
