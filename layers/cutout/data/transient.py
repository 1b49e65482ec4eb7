"""The transient bucket: signed uploads in, results out, per-account keys, SSE-KMS on every write.

Objects live under `uploads/<account_id>/` and `results/<account_id>/` (see
`cutout.data.schema`), expire by the bucket's 1-day rule and the sweeper, and are never
listed or written anywhere else. Presigned URLs are built here and handed straight back to
the caller: never stored, never logged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from cutout.data import schema
from cutout.errors import ImageTooLarge, UploadNotFound

SSE = "aws:kms"


@dataclass(frozen=True)
class PresignedUpload:
    """Where and how the client PUTs its image: the headers are signed and must be sent as-is."""

    url: str
    headers: dict[str, str] = field(default_factory=dict)
    expires_in: int = 0


class TransientStore:
    """The transient bucket, written only with SSE-KMS under the configured key."""

    def __init__(self, s3: Any, bucket: str, kms_key_id: str) -> None:
        self._s3 = s3
        self._bucket = bucket
        self._kms_key_id = kms_key_id

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
                "ServerSideEncryption": SSE,
                "SSEKMSKeyId": self._kms_key_id,
            },
            ExpiresIn=expires_in,
            HttpMethod="PUT",
        )
        return PresignedUpload(url=url, headers=headers, expires_in=expires_in)

    def read_upload(self, account_id: str, upload_id: str, max_bytes: int) -> bytes:
        """The bytes of the account's upload; `UploadNotFound` for any other account's id."""
        key = schema.upload_object_key(account_id, upload_id)
        try:
            head = self._s3.head_object(Bucket=self._bucket, Key=key)
        except ClientError as error:
            if _status(error) == 404:
                raise UploadNotFound("no upload with that id for this account") from None
            raise
        if int(head.get("ContentLength", 0)) > max_bytes:
            raise ImageTooLarge(f"the upload is over {max_bytes // (1024 * 1024)} MB")
        response = self._s3.get_object(Bucket=self._bucket, Key=key)
        return response["Body"].read()

    def delete_upload(self, account_id: str, upload_id: str) -> None:
        key = schema.upload_object_key(account_id, upload_id)
        self._s3.delete_object(Bucket=self._bucket, Key=key)

    def put_result(self, account_id: str, result_id: str, extension: str, data: bytes,
                   content_type: str) -> str:
        """Store a result under the account's prefix, KMS-encrypted; returns its object key."""
        key = schema.result_object_key(account_id, result_id, extension)
        self._s3.put_object(
            Bucket=self._bucket,
            Key=key,
            Body=data,
            ContentType=content_type,
            ServerSideEncryption=SSE,
            SSEKMSKeyId=self._kms_key_id,
        )
        return key

    def presign_result(self, object_key: str, expires_in: int) -> str:
        """A short-lived GET URL for one stored result."""
        return self._s3.generate_presigned_url(
            "get_object", Params={"Bucket": self._bucket, "Key": object_key}, ExpiresIn=expires_in
        )


def _status(error: ClientError) -> int:
    code = str(error.response.get("Error", {}).get("Code", ""))
    if code in ("404", "NoSuchKey", "NotFound"):
        return 404
    return int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 500))
