"""The training store: what an opted-in account contributes (input + mask), KMS-encrypted.

A separate bucket from the transient one, under `training/<account_id>/<request_id>/`.
Written only for accounts that opted in; an opt-out deletes everything under the account.
"""

from __future__ import annotations

from typing import Any

from cutout.data import schema
from cutout.errors import TrainingDeletionFailed

SSE = "aws:kms"
INPUT = "input"
MASK = "mask.png"


class TrainingStore:
    """Contributions of opted-in accounts, one folder per request."""

    def __init__(self, s3: Any, bucket: str, kms_key_id: str) -> None:
        self._s3 = s3
        self._bucket = bucket
        self._kms_key_id = kms_key_id

    def put_contribution(self, account_id: str, request_id: str, image: bytes,
                         image_content_type: str, mask_png: bytes) -> list[str]:
        """Store the input as received and the mask; returns the two object keys."""
        written = []
        for name, body, content_type in ((INPUT, image, image_content_type),
                                         (MASK, mask_png, "image/png")):
            key = schema.training_object_key(account_id, request_id, name)
            self._s3.put_object(Bucket=self._bucket, Key=key, Body=body, ContentType=content_type,
                                ServerSideEncryption=SSE, SSEKMSKeyId=self._kms_key_id)
            written.append(key)
        return written

    def delete_contribution(self, account_id: str, request_id: str) -> None:
        """Delete one request's contribution, every version (an opt-out raced the capture)."""
        self._delete_versions(schema.training_object_key(account_id, request_id, ""))

    def delete_account_data(self, account_id: str) -> int:
        """Delete everything the account contributed, every version; returns the object count.

        Versions and delete markers go too, so a versioned bucket keeps nothing behind.
        """
        return self._delete_versions(schema.training_prefix(account_id))

    def _delete_versions(self, prefix: str) -> int:
        """Delete every version and delete marker under `prefix`; returns the object count."""
        objects: list[dict[str, str]] = []
        paginator = self._s3.get_paginator("list_object_versions")
        for page in paginator.paginate(Bucket=self._bucket, Prefix=prefix):
            for entry in page.get("Versions", []) + page.get("DeleteMarkers", []):
                objects.append({"Key": entry["Key"], "VersionId": entry["VersionId"]})
        for start in range(0, len(objects), 1000):
            self._delete_batch(objects[start:start + 1000])
        return len({o["Key"] for o in objects})

    def list_keys(self, account_id: str) -> list[str]:
        keys: list[str] = []
        paginator = self._s3.get_paginator("list_objects_v2")
        prefix = schema.training_prefix(account_id)
        for page in paginator.paginate(Bucket=self._bucket, Prefix=prefix):
            keys.extend(obj["Key"] for obj in page.get("Contents", []))
        return keys

    def _delete_batch(self, objects: list[dict[str, str]]) -> None:
        """One DeleteObjects call; keys S3 refused one by one make it fail, never pass quietly.

        An opt-out must not report data as deleted that is still there: the caller gets an
        error (a 500 the client can retry: opting out again repeats the deletion).
        """
        response = self._s3.delete_objects(
            Bucket=self._bucket, Delete={"Objects": objects, "Quiet": True}
        )
        refused = response.get("Errors") or []
        if refused:
            codes = sorted({error.get("Code", "unknown") for error in refused})
            raise TrainingDeletionFailed(
                f"{len(refused)} training object(s) could not be deleted ({', '.join(codes)})"
            )
