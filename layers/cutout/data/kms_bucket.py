"""A bucket this deployment writes: every object names SSE-KMS with the deployment's key.

The buckets' policies refuse a PutObject without it; one `_put` makes every store ask the
same way (the transient bucket, the training store, batch reports and outputs).
"""

from __future__ import annotations

from typing import Any

SSE = "aws:kms"


class KmsBucket:
    """`s3` (a `cutout.data.aws` client), the bucket's name, and the key its writes use."""

    def __init__(self, s3: Any, bucket: str, kms_key_id: str) -> None:
        self._s3 = s3
        self._bucket = bucket
        self._kms_key_id = kms_key_id

    @property
    def encryption(self) -> dict[str, str]:
        """The PutObject parameters that encrypt under the deployment's key."""
        return {"ServerSideEncryption": SSE, "SSEKMSKeyId": self._kms_key_id}

    def _put(self, key: str, body: bytes, content_type: str, *, bucket: str | None = None,
             **extra: Any) -> None:
        self._s3.put_object(Bucket=bucket or self._bucket, Key=key, Body=body,
                            ContentType=content_type, **self.encryption, **extra)
