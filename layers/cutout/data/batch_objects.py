"""S3 for catalogue batches: the customer's source and destination buckets, and the reports.

Sources are only ever listed and read (ranged GET, bounded); destinations are checked (HEAD)
and written with SSE-KMS under the stack's key, a write that must not replace an object with
S3's conditional `PutObject` (`If-None-Match: *`); nothing here deletes or overwrites a source.
Failure parts and the report live in the transient bucket under `batches/` (24-hour rule) and
carry object keys and error codes, never image bytes. The report is merged from the parts in
bounded steps (`merge_step`), each saved, so no single call grows with the job.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from cutout.data.aws import NOT_FOUND_CODES, error_code
from cutout.data.batches import batch_object_prefix
from cutout.data.kms_bucket import SSE, KmsBucket
from cutout.errors import ImageTooLarge


def keep_object_keys_out_of_traces() -> None:
    """X-Ray's botocore patch records S3 `Key`, `Prefix`, `CopySource` and the bucket of
    every call (kept 30 days, beyond the 24-hour rule), and batch keys are customer file
    names. Dropping S3 from its parameter list keeps the call (operation, time, status) in
    the trace and its names out. Done where the calls with customer keys are made, so every
    process that makes them has it (the API function and the batch worker)."""
    try:
        from aws_xray_sdk.ext import boto_utils  # type: ignore[import-untyped]
    except ImportError:  # no X-Ray SDK: nothing records the calls
        return
    boto_utils.whitelist["services"].pop("s3", None)


keep_object_keys_out_of_traces()

REPORT_NAME = "report.json"
FAILURES_FOLDER = "failures/"
MERGE_FOLDER = "merge/"  # one object per merge step: the failures merged so far, and where
MAX_REPORT_FAILURES = 10_000  # the report's cap (about 1 MB); past it, `truncated: true`
PARTS_PER_STEP = 100  # failure parts one merge step reads (a status read does one step)
# S3's answers to a conditional write whose object exists (412), or is being written (409)
_EXISTS_CODES = frozenset({"PreconditionFailed", "ConditionalRequestConflict"})


class OutputExists(Exception):
    """A write with `overwrite` off found the object there (S3 checked it atomically)."""


class ObjectUnavailable(Exception):
    """S3 refused an object operation; `code` is S3's error code (AccessDenied, NoSuchKey...)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class Failure:
    """One item that did not make it: its source key and a stable error code."""

    key: str
    error: str
    s3_error: str | None = None  # S3's own code when S3 refused the object


class BatchBuckets:
    """The allow-listed buckets of batch jobs (IAM grants exactly those)."""

    def __init__(self, s3: Any, kms_key_id: str) -> None:
        self._s3 = s3
        self._kms_key_id = kms_key_id

    def has_objects(self, bucket: str, prefix: str) -> bool:
        """Whether anything but folder markers (`.../`) lies under the prefix."""
        # lazy: stops at the first page that holds an object
        return any(not item["Key"].endswith("/") for item in self.list_items(bucket, prefix))

    def list_items(self, bucket: str, prefix: str) -> Iterator[dict[str, Any]]:
        """The objects under the prefix, shaped as Step Functions' S3 ItemReader lists them."""
        paginator = self._s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
            for entry in page.get("Contents", []):
                yield {"Key": entry["Key"], "Size": entry["Size"], "Etag": entry["ETag"],
                       "LastModified": int(entry["LastModified"].timestamp()),
                       "StorageClass": entry.get("StorageClass", "STANDARD")}

    def read(self, bucket: str, key: str, max_bytes: int) -> bytes:
        """The object's bytes with one ranged GET; `ImageTooLarge` past `max_bytes`."""
        try:
            response = self._s3.get_object(Bucket=bucket, Key=key, Range=f"bytes=0-{max_bytes}")
        except ClientError as error:
            if error_code(error) == "InvalidRange":  # an empty object has no byte 0
                return b""
            raise ObjectUnavailable(error_code(error) or "Unknown") from None
        data = response["Body"].read(max_bytes + 1)
        if len(data) > max_bytes:
            raise ImageTooLarge(f"the object is over {max_bytes // (1024 * 1024)} MB")
        return data

    def exists(self, bucket: str, key: str) -> bool:
        try:
            self._s3.head_object(Bucket=bucket, Key=key)
        except ClientError as error:
            if error_code(error) in NOT_FOUND_CODES:
                return False
            raise ObjectUnavailable(error_code(error) or "Unknown") from None
        return True

    def write(self, bucket: str, key: str, data: bytes, content_type: str, *,
              replace: bool = False) -> None:
        """Write one output, KMS-encrypted under the stack's key; `OutputExists` when the key
        is taken and `replace` is off. S3 decides that atomically with the write (two jobs,
        or two sources with one stem, cannot both write); moto checks it the same way, but
        in two steps, so only AWS shows the atomicity itself."""
        condition = {} if replace else {"IfNoneMatch": "*"}
        try:
            # A bucket key: one KMS call per bucket and key for a while, not one per object
            # (a million outputs would otherwise be a million GenerateDataKey calls).
            self._s3.put_object(Bucket=bucket, Key=key, Body=data, ContentType=content_type,
                                ServerSideEncryption=SSE, SSEKMSKeyId=self._kms_key_id,
                                BucketKeyEnabled=True, **condition)
        except ClientError as error:
            if not replace and error_code(error) in _EXISTS_CODES:
                raise OutputExists(key) from None
            raise ObjectUnavailable(error_code(error) or "Unknown") from None


class BatchReports(KmsBucket):
    """Failure parts (one per invocation that had failures) and the merged report."""

    def put_failures(self, account_id: str, batch_id: str, part_id: str,
                     failures: list[Failure]) -> None:
        key = f"{batch_object_prefix(account_id, batch_id)}{FAILURES_FOLDER}{part_id}.json"
        self._put_json(key, [{"key": f.key, "error": f.error,
                              **({"s3_error": f.s3_error} if f.s3_error else {})}
                             for f in failures])

    def merge_step(self, account_id: str, batch_id: str, failed: int, *,
                   parts: int = PARTS_PER_STEP,
                   max_failures: int = MAX_REPORT_FAILURES) -> str | None:
        """Merge the next `parts` failure parts of an ended job; the report's key once it is
        written, None while more steps are needed.

        Each step starts from the last saved one (`merge/<n>.json`: the failures so far and
        the last part merged), so a step that dies loses only itself. Two reads racing on one
        step write the same object (the parts no longer change once the job has ended).
        """
        prefix = batch_object_prefix(account_id, batch_id)
        step, merged, after = self._last_step(prefix)
        listing = self._s3.list_objects_v2(
            Bucket=self._bucket, Prefix=prefix + FAILURES_FOLDER, MaxKeys=parts,
            **({"StartAfter": after} if after else {}))
        for entry in listing.get("Contents", []):
            if len(merged) >= max_failures:
                break
            merged.extend(self._get_json(entry["Key"]))
            after = entry["Key"]
        if listing.get("IsTruncated") and len(merged) < max_failures:
            self._put_json(f"{prefix}{MERGE_FOLDER}{step + 1:08d}.json",
                           {"after": after, "failures": merged})
            return None
        reported = sorted(merged, key=lambda f: f["key"])[:max_failures]
        key = prefix + REPORT_NAME
        self._put_json(key, {"batch_id": batch_id, "failed": failed, "reported": len(reported),
                             "truncated": failed > len(reported), "failures": reported})
        return key

    def _last_step(self, prefix: str) -> tuple[int, list[dict[str, str]], str]:
        """The newest saved merge step: its number, its failures, the last part it merged."""
        listing = self._s3.list_objects_v2(Bucket=self._bucket, Prefix=prefix + MERGE_FOLDER)
        steps = sorted(entry["Key"] for entry in listing.get("Contents", []))
        if not steps:
            return 0, [], ""
        saved = self._get_json(steps[-1])
        return int(steps[-1].rsplit("/", 1)[1].split(".")[0]), saved["failures"], saved["after"]

    def _get_json(self, key: str) -> Any:
        return json.loads(self._s3.get_object(Bucket=self._bucket, Key=key)["Body"].read())

    def presign(self, key: str, expires_in: int) -> str:
        return self._s3.generate_presigned_url(
            "get_object", Params={"Bucket": self._bucket, "Key": key}, ExpiresIn=expires_in)

    def _put_json(self, key: str, document: Any) -> None:
        self._put(key, json.dumps(document, separators=(",", ":")).encode(), "application/json")


