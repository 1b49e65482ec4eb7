"""The item processor of batch jobs: one batch of S3 objects in, one result per object out.

Its input is exactly what Step Functions' Distributed Map sends with an S3 ItemReader and
an ItemBatcher, `{"Items": [{"Key", "Size", "Etag", "LastModified", ...}], "BatchInput":
{...}}`; the local stack's runner sends the same. Each image goes through the API's own
`RemovalService` (same engine, same limits, the account's training opt-in read and applied
exactly as for an API call). An item that fails is reported with a stable error code and
never fails the invocation: only a broken job (a location the account may not use, a job
that is not recorded as sent, a malformed payload) raises. Sources are only read; outputs
mirror the source keys, with the extension of the format each result has (`format=auto`
picks png or jpg per image). The answer carries counts only: Step Functions keeps a task's
result in its execution history for 90 days, and keys are customer file names (they go to
the failure parts, under the 24-hour rule).
"""

from __future__ import annotations

import logging
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cutout.data.batch_objects import (
    BatchBuckets,
    Failure,
    ObjectUnavailable,
    OutputExists,
)
from cutout.data.batches import COUNTERS
from cutout.engine.options import RemovalOptions
from cutout.errors import CutoutError, InvalidRequest
from cutout.limits import MAX_OBJECT_IMAGE_BYTES
from cutout.service.batch import AllowList, Location, check_locations
from cutout.service.removal import RemovalService
from cutout.service.requests import InlineImage, RemovalRequest

if TYPE_CHECKING:
    from cutout.data.batch_stores import BatchData

logger = logging.getLogger(__name__)

DONE, SKIPPED, FAILED = COUNTERS  # an item's outcome names the job counter it adds to
# Stop taking new items when less than this is left of the invocation (the slowest image
# plus writing the counters), so an item is reported rather than lost to a timeout.
TIME_MARGIN_MS = 15_000
AUTO_EXTENSIONS = ("png", "jpg")  # what format=auto may give (cutout.engine.compose)


@dataclass(frozen=True)
class BatchInput:
    """The job's part of every item batch (the state machine's `BatchInput`)."""

    account_id: str
    batch_id: str
    source_bucket: str
    source_prefix: str
    destination_bucket: str
    destination_prefix: str
    options: dict[str, str]
    overwrite: bool

    @classmethod
    def from_event(cls, document: object) -> BatchInput:
        if not isinstance(document, dict):
            raise InvalidRequest("BatchInput must be an object")
        try:
            values = {name: document[name] for name in (
                "account_id", "batch_id", "source_bucket", "source_prefix",
                "destination_bucket", "destination_prefix")}
        except KeyError as missing:
            raise InvalidRequest(f"BatchInput has no {missing.args[0]}") from None
        if not all(isinstance(v, str) for v in values.values()):
            raise InvalidRequest("BatchInput's names must be strings")
        options = document.get("options") or {}
        if not isinstance(options, dict):
            raise InvalidRequest("BatchInput.options must be an object")
        return cls(**values, options={str(k): str(v) for k, v in options.items()},
                   overwrite=document.get("overwrite") is True)


def output_key(source_key: str, source_prefix: str, destination_prefix: str,
               extension: str) -> str:
    """The destination key: the source key's path under the destination prefix, with the
    output format's extension (`in/a/b.jpeg` -> `out/a/b.png`)."""
    relative = source_key[len(source_prefix):]
    folder, _, name = relative.rpartition("/")
    stem = name.rsplit(".", 1)[0] if "." in name.strip(".") else name
    return f"{destination_prefix}{folder + '/' if folder else ''}{stem}.{extension}"


# The S3 access one job's items are read and written with (data.batch_access.JobAccess: a
# session bounded by IAM to the job's two prefixes); None: the processor's own buckets.
JobBuckets = Callable[[BatchInput], BatchBuckets]


class BatchItemProcessor:
    """Cuts out one batch of items; holds collaborators only, never request data."""

    def __init__(self, removals: RemovalService, data: BatchData, allow: AllowList, *,
                 max_bytes: int = MAX_OBJECT_IMAGE_BYTES, job_buckets: JobBuckets | None = None,
                 ) -> None:
        self._removals = removals
        self._store, self._buckets, self._reports = data.store, data.buckets, data.reports
        self._job_buckets = job_buckets
        self._allow = allow
        self._max_bytes = max_bytes

    def process(self, event: object, remaining_ms: Callable[[], int] | None = None) -> dict:
        """The batch's totals (done, skipped, failed); failures go to the job's report."""
        if not isinstance(event, dict) or not isinstance(event.get("Items"), list):
            raise InvalidRequest("expected {'Items': [...], 'BatchInput': {...}}")
        job = BatchInput.from_event(event.get("BatchInput"))
        self._check_job(job)
        options = RemovalOptions.from_params(job.options)
        # only after the checks: a job's session is for a job recorded for its account
        buckets = self._job_buckets(job) if self._job_buckets else self._buckets
        results: list[dict[str, str]] = []
        for item in event["Items"]:
            key = item.get("Key") if isinstance(item, dict) else None
            if not isinstance(key, str):
                raise InvalidRequest("every item needs a Key")
            if remaining_ms is not None and remaining_ms() < TIME_MARGIN_MS:
                results.append({"key": key, "status": FAILED, "error": "time_budget_exceeded"})
                continue
            results.append(self._one(job, options, key, buckets))
        return self._record(job, results)

    def _check_job(self, job: BatchInput) -> None:
        """The API's own location rule again, and the job as recorded for that account: a
        payload naming other locations, or no recorded job, reads and writes nothing."""
        source = Location(job.source_bucket, job.source_prefix)
        destination = Location(job.destination_bucket, job.destination_prefix)
        check_locations(self._allow, job.account_id, source, destination)
        record = self._store.get(job.account_id, job.batch_id)
        if record is None or (record.source, record.destination, record.overwrite) != (
                source.uri, destination.uri, job.overwrite):
            raise InvalidRequest("BatchInput does not match a job recorded for its account")

    def _one(self, job: BatchInput, options: RemovalOptions, key: str,
             buckets: BatchBuckets) -> dict[str, str]:
        if key.endswith("/"):  # a folder marker some tools create: nothing to cut out
            return {"key": key, "status": SKIPPED, "reason": "folder_marker"}
        if not key.startswith(job.source_prefix):
            return {"key": key, "status": FAILED, "error": "outside_source_prefix"}
        # format=auto: the extension is known once the image is; an output under either
        # one it may take is this item's, done before
        targets = [output_key(key, job.source_prefix, job.destination_prefix, extension)
                   for extension in (AUTO_EXTENSIONS if options.format == "auto"
                                     else (options.format,))]
        target = targets[0]
        try:
            for existing in targets if not job.overwrite else ():
                if buckets.exists(job.destination_bucket, existing):
                    return {"key": key, "status": SKIPPED, "reason": "output_exists",
                            "output": existing}
            try:
                image = buckets.read(job.source_bucket, key, self._max_bytes)
            except ObjectUnavailable as refused:
                return {"key": key, "status": FAILED, "error": "source_unreadable",
                        "s3_error": refused.code}
            removal = self._removals.remove(
                RemovalRequest(InlineImage(image), options), job.account_id,
                f"batch-{uuid.uuid4().hex}", inline_limit=sys.maxsize, link_allowed=False)
            target = output_key(key, job.source_prefix, job.destination_prefix,
                                removal.result.extension)
            buckets.write(job.destination_bucket, target, removal.result.data,
                                removal.result.content_type, replace=job.overwrite)
        except OutputExists:  # written since the HEAD above (another job, a same-stem source)
            return {"key": key, "status": SKIPPED, "reason": "output_exists", "output": target}
        except CutoutError as error:
            return {"key": key, "status": FAILED, "error": error.code}
        except ObjectUnavailable as refused:
            return {"key": key, "status": FAILED, "error": "destination_unwritable",
                    "s3_error": refused.code}
        except Exception as error:  # one item's bug must not lose the others' results
            logger.exception("batch item failed", extra={"error_type": type(error).__name__})
            return {"key": key, "status": FAILED, "error": "internal_error"}
        return {"key": key, "status": DONE, "output": target}

    def _record(self, job: BatchInput, results: list[dict[str, str]]) -> dict:
        totals = {status: sum(1 for r in results if r["status"] == status)
                  for status in (DONE, SKIPPED, FAILED)}
        failures = [Failure(key=r["key"], error=r["error"], s3_error=r.get("s3_error"))
                    for r in results if r["status"] == FAILED]
        if failures:
            self._reports.put_failures(job.account_id, job.batch_id, uuid.uuid4().hex, failures)
        self._store.add_counts(job.account_id, job.batch_id, totals[DONE], totals[SKIPPED],
                               totals[FAILED])
        return {"batch_id": job.batch_id, **totals}

