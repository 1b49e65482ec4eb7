"""S3 for catalogue batches: the customer's source and destination buckets, and the reports.

Sources are only ever listed and read (ranged GET, bounded); destinations are checked (HEAD)
and written with SSE-KMS under the stack's key; nothing here deletes or overwrites a source.
Failure parts and the report live in the transient bucket under `batches/` (24-hour rule) and
carry object keys and error codes, never image bytes.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from cutout.data.aws import NOT_FOUND_CODES, error_code
from cutout.data.batches import batch_object_prefix
from cutout.errors import ImageTooLarge

SSE = "aws:kms"
REPORT_NAME = "report.json"
FAILURES_FOLDER = "failures/"


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

    def write(self, bucket: str, key: str, data: bytes, content_type: str) -> None:
        """Write one output, KMS-encrypted under the stack's key."""
        try:
            # A bucket key: one KMS call per bucket and key for a while, not one per object
            # (a million outputs would otherwise be a million GenerateDataKey calls).
            self._s3.put_object(Bucket=bucket, Key=key, Body=data, ContentType=content_type,
                                ServerSideEncryption=SSE, SSEKMSKeyId=self._kms_key_id,
                                BucketKeyEnabled=True)
        except ClientError as error:
            raise ObjectUnavailable(error_code(error) or "Unknown") from None


class BatchReports:
    """Failure parts (one per invocation that had failures) and the merged report."""

    def __init__(self, s3: Any, bucket: str, kms_key_id: str) -> None:
        self._s3 = s3
        self._bucket = bucket
        self._kms_key_id = kms_key_id

    def put_failures(self, account_id: str, batch_id: str, part_id: str,
                     failures: list[Failure]) -> None:
        key = f"{batch_object_prefix(account_id, batch_id)}{FAILURES_FOLDER}{part_id}.json"
        self._put_json(key, [{"key": f.key, "error": f.error,
                              **({"s3_error": f.s3_error} if f.s3_error else {})}
                             for f in failures])

    def write_report(self, account_id: str, batch_id: str) -> tuple[str, int]:
        """Merge the job's failure parts into one report; its object key and entry count."""
        prefix = batch_object_prefix(account_id, batch_id)
        failures: list[dict[str, str]] = []
        paginator = self._s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self._bucket, Prefix=prefix + FAILURES_FOLDER):
            for entry in page.get("Contents", []):
                body = self._s3.get_object(Bucket=self._bucket, Key=entry["Key"])["Body"].read()
                failures.extend(json.loads(body))
        failures.sort(key=lambda f: f["key"])
        key = prefix + REPORT_NAME
        self._put_json(key, {"batch_id": batch_id, "failed": len(failures),
                             "failures": failures})
        return key, len(failures)

    def presign(self, key: str, expires_in: int) -> str:
        return self._s3.generate_presigned_url(
            "get_object", Params={"Bucket": self._bucket, "Key": key}, ExpiresIn=expires_in)

    def _put_json(self, key: str, document: Any) -> None:
        self._s3.put_object(Bucket=self._bucket, Key=key, ContentType="application/json",
                            Body=json.dumps(document, separators=(",", ":")).encode(),
                            ServerSideEncryption=SSE, SSEKMSKeyId=self._kms_key_id)


