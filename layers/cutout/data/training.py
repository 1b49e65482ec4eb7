"""The training store: what an opted-in account contributes, KMS-encrypted.

A separate bucket from the transient one, under `training/<account_id>/<request_id>/`: a
removal's input and mask, or an image submitted to `POST /v1.0/improve` with its note.
Written only for accounts that opted in; an opt-out deletes everything under the account.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from cutout.data import schema
from cutout.data.kms_bucket import KmsBucket
from cutout.errors import TrainingDeletionFailed

INPUT = "input"
MASK = "mask.png"
SUBMISSION_NOTE = "submission.json"  # an improve submission's tag and file name
PAGE = 1000  # S3's most per ListObjectVersions page and per DeleteObjects call


@dataclass(frozen=True)
class Erasure:
    """One step of deleting a prefix: how many objects went, and whether nothing is left."""

    deleted: int
    finished: bool


class TrainingStore(KmsBucket):
    """Contributions of opted-in accounts, one folder per request."""

    def put_contribution(self, account_id: str, request_id: str, image: bytes,
                         image_content_type: str, mask_png: bytes) -> list[str]:
        """Store the input as received and the mask; returns the two object keys."""
        return self._put_folder(account_id, request_id, ((INPUT, image, image_content_type),
                                                         (MASK, mask_png, "image/png")))

    def put_submission(self, account_id: str, submission_id: str, image: bytes,
                       image_content_type: str, note: bytes) -> list[str]:
        """Store an image submitted for training (no mask: nothing was cut out) and its note
        (a small JSON document); returns the two object keys."""
        return self._put_folder(account_id, submission_id,
                                ((INPUT, image, image_content_type),
                                 (SUBMISSION_NOTE, note, "application/json")))

    def _put_folder(self, account_id: str, folder: str,
                    parts: tuple[tuple[str, bytes, str], ...]) -> list[str]:
        written = []
        for name, body, content_type in parts:
            key = schema.training_object_key(account_id, folder, name)
            self._put(key, body, content_type)
            written.append(key)
        return written

    def delete_contribution(self, account_id: str, request_id: str) -> None:
        """Delete one request's contribution, every version (an opt-out raced the capture)."""
        self.erase(schema.training_object_key(account_id, request_id, ""))

    def delete_account_data(self, account_id: str) -> int:
        """Delete everything the account contributed, every version; returns the object count.

        Versions and delete markers go too, so a versioned bucket keeps nothing behind.
        """
        return self.erase(schema.training_prefix(account_id)).deleted

    def erase_account_data(self, account_id: str, budget: int | None = None,
                           out_of_time: Callable[[], bool] = lambda: False) -> Erasure:
        """One step of an account's erasure: at most `budget` versions, or until `out_of_time`."""
        return self.erase(schema.training_prefix(account_id), budget, out_of_time)

    def erase(self, prefix: str, budget: int | None = None,
              out_of_time: Callable[[], bool] = lambda: False) -> Erasure:
        """Delete every version and delete marker under `prefix`, a page at a time.

        Each round lists the first page still there (at most 1,000 versions) and deletes it,
        so memory holds one page whatever the contribution's size, and a step that stops
        (its budget used, or out of time) leaves nothing half-known: the next step, in
        another request or the sweeper, lists again from the start.
        """
        deleted, removed = 0, 0  # objects (current versions); every version and marker
        while budget is None or removed < budget:
            if out_of_time():
                return Erasure(deleted=deleted, finished=False)
            page_size = PAGE if budget is None else min(PAGE, budget - removed)
            page = self._s3.list_object_versions(Bucket=self._bucket, Prefix=prefix,
                                                 MaxKeys=page_size)
            entries = page.get("Versions", []) + page.get("DeleteMarkers", [])
            if not entries:
                return Erasure(deleted=deleted, finished=True)
            batch = entries[:page_size]
            removed += len(batch)
            self._delete_batch([{"Key": e["Key"], "VersionId": e["VersionId"]} for e in batch])
            # Counted as objects a client saw: current versions (older ones and markers go too).
            deleted += sum(1 for e in batch if e.get("IsLatest", True) and "Size" in e)
        # The budget is used up: finished only if nothing is left.
        rest = self._s3.list_object_versions(Bucket=self._bucket, Prefix=prefix, MaxKeys=1)
        left = rest.get("Versions", []) + rest.get("DeleteMarkers", [])
        return Erasure(deleted=deleted, finished=not left)

    def account_ids(self) -> Iterator[str]:
        """The accounts with anything under `training/`, page by page (for the reconciler)."""
        paginator = self._s3.get_paginator("list_object_versions")
        for page in paginator.paginate(Bucket=self._bucket, Prefix=schema.TRAINING_PREFIX,
                                       Delimiter="/"):
            for common in page.get("CommonPrefixes", []):
                yield common["Prefix"][len(schema.TRAINING_PREFIX):].rstrip("/")

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
