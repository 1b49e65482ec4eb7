"""The transient bucket: signed uploads in, results out, per-account keys, SSE-KMS on every write.

Objects live under `uploads/<account_id>/` and `results/<account_id>/` (see
`cutout.data.schema`), expire by the bucket's 1-day rule and the sweeper, and are never
listed or written anywhere else. Presigned URLs are built here and handed straight back to
the caller: never stored, never logged. The sweeper lists and batch-deletes through
`list_objects` and `delete_objects`, which refuse any key outside those two prefixes.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit

from botocore.exceptions import ClientError

from cutout.data import schema
from cutout.data.aws import NOT_FOUND_CODES, error_code
from cutout.data.batches import BATCHES_PREFIX
from cutout.data.kms_bucket import SSE, KmsBucket
from cutout.errors import ImageTooLarge, UploadNotFound

# The only prefixes of the transient bucket that hold request data (and may be swept).
# Batch jobs' failure parts and reports, and Step Functions' result files, live under
# `batches/` (cutout.data.batches) and are swept by the same rule.
TRANSIENT_PREFIXES = (schema.UPLOADS_PREFIX, schema.RESULTS_PREFIX, BATCHES_PREFIX)
# S3 DeleteObjects takes at most 1000 keys per request.
DELETE_BATCH = 1000


@dataclass(frozen=True)
class PresignedUpload:
    """Where and how the client PUTs its image: the headers are signed and must be sent as-is."""

    url: str
    headers: dict[str, str] = field(default_factory=dict)
    expires_in: int = 0


@dataclass(frozen=True)
class StoredObject:
    """One object as a listing sees it: its key and when it was last written (aware, UTC)."""

    key: str
    last_modified: datetime


@dataclass(frozen=True)
class Deletion:
    """What a batch delete did: how many keys went, and S3's error code for each that did not.

    The refused keys themselves are not kept, so nothing downstream can log them.
    """

    deleted: int = 0
    failure_codes: tuple[str, ...] = ()


class TransientStore(KmsBucket):
    """The transient bucket, written only with SSE-KMS under the configured key."""

    def presign_upload(self, account_id: str, upload_id: str, expires_in: int) -> PresignedUpload:
        """A PUT URL for exactly one account-bound object key, with the KMS headers signed."""
        headers = {
            "x-amz-server-side-encryption": SSE,
            "x-amz-server-side-encryption-aws-kms-key-id": self._kms_key_id,
        }
        url = self._s3.generate_presigned_url(
            "put_object",
            Params={
                "Bucket": self._bucket,
                "Key": schema.upload_object_key(account_id, upload_id),
                **self.encryption,
            },
            ExpiresIn=expires_in,
            HttpMethod="PUT",
        )
        return PresignedUpload(url=url, headers=headers, expires_in=expires_in)

    def read_upload(self, account_id: str, upload_id: str, max_bytes: int) -> bytes:
        """The bytes of the account's upload; `UploadNotFound` for any other account's id."""
        key = schema.upload_object_key(account_id, upload_id)
        # One ranged GET, never more than max_bytes + 1: a size checked by HEAD first could
        # change before the GET (the signed PUT stays valid for minutes and has no size cap).
        try:
            response = self._s3.get_object(Bucket=self._bucket, Key=key,
                                           Range=f"bytes=0-{max_bytes}")
        except ClientError as error:
            if _status(error) == 404:
                raise UploadNotFound("no upload with that id for this account") from None
            if _status(error) == 416:  # an empty object has no byte 0
                return b""
            raise
        data = response["Body"].read(max_bytes + 1)
        if len(data) > max_bytes:
            raise ImageTooLarge(f"the upload is over {max_bytes // (1024 * 1024)} MB")
        return data

    def delete_upload(self, account_id: str, upload_id: str) -> None:
        key = schema.upload_object_key(account_id, upload_id)
        self._s3.delete_object(Bucket=self._bucket, Key=key)

    def put_result(self, account_id: str, result_id: str, extension: str, data: bytes,
                   content_type: str) -> str:
        """Store a result under the account's prefix, KMS-encrypted; returns its object key."""
        key = schema.result_object_key(account_id, result_id, extension)
        self._put(key, data, content_type)
        return key

    def presign_result(self, object_key: str, expires_in: int) -> str:
        """A short-lived GET URL for one stored result."""
        return self._s3.generate_presigned_url(
            "get_object", Params={"Bucket": self._bucket, "Key": object_key}, ExpiresIn=expires_in
        )

    def signed_url_origin(self) -> str:
        """The scheme://host[:port] of this bucket's signed links (signed locally, not sent)."""
        url = self._s3.generate_presigned_url(
            "get_object", Params={"Bucket": self._bucket, "Key": schema.UPLOADS_PREFIX},
            ExpiresIn=1)
        parts = urlsplit(url)
        return f"{parts.scheme}://{parts.netloc}"

    def list_objects(self, prefix: str) -> Iterator[StoredObject]:
        """Every object under one of `TRANSIENT_PREFIXES`, read lazily a page (1000) at a time."""
        if prefix not in TRANSIENT_PREFIXES:
            raise ValueError(f"the transient bucket is listed only under {TRANSIENT_PREFIXES}")
        paginator = self._s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self._bucket, Prefix=prefix):
            for entry in page.get("Contents", []):
                yield StoredObject(key=entry["Key"], last_modified=entry["LastModified"])

    def delete_objects(self, keys: Sequence[str]) -> Deletion:
        """Hard-delete `keys`, at most 1000 per DeleteObjects call; keys S3 refuses are counted.

        A refusal of one key (S3 answers per key) does not stop the others; a failure of a whole
        call (throttling after the client's retries, access denied) raises.
        """
        outside = [key for key in keys if not key.startswith(TRANSIENT_PREFIXES)]
        if outside:
            raise ValueError(f"only keys under {TRANSIENT_PREFIXES} are deleted here")
        deleted = 0
        failure_codes: list[str] = []
        for start in range(0, len(keys), DELETE_BATCH):
            batch = keys[start:start + DELETE_BATCH]
            response = self._s3.delete_objects(
                Bucket=self._bucket,
                Delete={"Objects": [{"Key": key} for key in batch], "Quiet": True},
            )
            # Quiet mode lists only the keys that were not deleted.
            errors = response.get("Errors", [])
            failure_codes.extend(str(error.get("Code") or "Unknown") for error in errors)
            deleted += len(batch) - len(errors)
        return Deletion(deleted=deleted, failure_codes=tuple(failure_codes))


def _status(error: ClientError) -> int:
    if error_code(error) in NOT_FOUND_CODES:
        return 404
    return int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 500))
