"""Signed uploads: an unguessable id, bound to the account by the object key it signs."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from cutout.data.transient import PresignedUpload, TransientStore
from cutout.limits import MAX_OBJECT_IMAGE_BYTES
from cutout.service.receipt import UPLOAD, Lifetimes, Receipt
from cutout.service.retention import RetentionRule

UPLOAD_ID_BYTES = 32  # 43 urlsafe characters


@dataclass(frozen=True)
class Upload:
    upload_id: str
    presigned: PresignedUpload = field(repr=False)
    max_bytes: int = MAX_OBJECT_IMAGE_BYTES


class UploadService:
    """Hands out presigned PUTs into `uploads/<account_id>/<upload_id>` (SSE-KMS signed)."""

    def __init__(self, transient: TransientStore, url_ttl_seconds: int = 300,
                 lifetimes: Lifetimes | None = None) -> None:
        self._transient = transient
        self._ttl = url_ttl_seconds
        # Uploads' lifetime depends on the sweep schedule only (the default one if not given).
        self._lifetimes = lifetimes or Lifetimes(RetentionRule(), 0)

    def create(self, account_id: str, receipt: Receipt | None = None) -> Upload:
        """A signed PUT; on `receipt`, the object it lets the client write (until its link
        expires) and when the sweeper has deleted it at the latest."""
        upload_id = secrets.token_urlsafe(UPLOAD_ID_BYTES)
        presigned = self._transient.presign_upload(account_id, upload_id, self._ttl)
        if receipt is not None:
            receipt.add(UPLOAD, self._lifetimes.upload(presigned.expires_in))
        return Upload(upload_id=upload_id, presigned=presigned)
