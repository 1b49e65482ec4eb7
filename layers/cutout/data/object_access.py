"""`image_url` reads of allow-listed objects: the API function assumes the deployment's
image-url role (infrastructure/batch.py: `s3:GetObject` on the source buckets' objects and
nothing else) with a session policy naming only the one object a request named, so IAM
bounds each read to that object. AWS enforces the intersection; moto's STS does not, so the
tests evaluate the recorded calls against both documents (tests/integration/policy_check.py).
"""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from cutout.data.aws import error_code, s3_client, sts_client
from cutout.data.batch_access import SESSION_SECONDS, arn_text, session_name
from cutout.data.batch_objects import ObjectUnavailable
from cutout.errors import ImageTooLarge, ImageUrlNotAllowed, ServiceUnavailable

# The one-object policy's text besides the key (bucket name included, at most 63): STS's
# 2,048-character limit leaves the rest for the key as IAM text.
OBJECT_POLICY_OVERHEAD = 200
MAX_OBJECT_KEY_POLICY_CHARS = 2048 - OBJECT_POLICY_OVERHEAD


def object_policy(bucket: str, key: str) -> dict[str, Any]:
    """An `image_url` read's session policy: GetObject (which HEAD needs too) on one object,
    its key literal (IAM's wildcard characters escaped), nothing else in any bucket."""
    return {"Version": "2012-10-17", "Statement": [
        {"Sid": "ReadTheNamedObject", "Effect": "Allow", "Action": "s3:GetObject",
         "Resource": f"arn:aws:s3:::{bucket}/{arn_text(key)}"}]}


def object_fits_policy(key: str) -> bool:
    """Whether a session policy can name this key within STS's limit."""
    return len(arn_text(key)) <= MAX_OBJECT_KEY_POLICY_CHARS


class ObjectAccess:
    """`image_url` reads: one object per session of the image-url role (GetObject on the
    source buckets' objects, nothing else; the API function's own role holds no allow-listed
    bucket), the session policy naming only that object, so IAM bounds the read to what the
    request named even if the domain's checks (allow-list, the account's folder) failed."""

    def __init__(self, role_arn: str, sts: Any = None) -> None:
        self._sts = sts
        self._role_arn = role_arn

    def read(self, account_id: str, request_id: str, bucket: str, key: str,
             max_bytes: int) -> bytes:
        """The object's bytes: HEAD first (`ImageTooLarge` past `max_bytes`, before a byte is
        read), then one GET of that same version (`IfMatch` its ETag), bounded again.
        `ObjectUnavailable` with S3's code when S3 refuses either; an object replaced in
        between is `ServiceUnavailable` (the same request, sent again, reads the new one)."""
        if not object_fits_policy(key):
            raise ImageUrlNotAllowed("image_url's key is too long to name in a session policy "
                                     f"(at most {MAX_OBJECT_KEY_POLICY_CHARS} characters)")
        s3 = self._session(account_id, request_id, bucket, key)
        try:
            head = s3.head_object(Bucket=bucket, Key=key)
        except ClientError as error:
            raise ObjectUnavailable(error_code(error) or "Unknown") from None
        size = int(head.get("ContentLength", 0))
        if size > max_bytes:
            raise ImageTooLarge(f"the object is over {max_bytes // (1024 * 1024)} MB")
        if size == 0:
            return b""
        try:
            response = s3.get_object(Bucket=bucket, Key=key, IfMatch=head["ETag"],
                                     Range=f"bytes=0-{max_bytes}")
        except ClientError as error:
            if error_code(error) == "PreconditionFailed":  # replaced since the HEAD
                raise ServiceUnavailable("S3 GetObject is unavailable (the object changed "
                                         "while it was read)") from None
            raise ObjectUnavailable(error_code(error) or "Unknown") from None
        data = response["Body"].read(max_bytes + 1)
        if len(data) > max_bytes:
            raise ImageTooLarge(f"the object is over {max_bytes // (1024 * 1024)} MB")
        return data

    def _session(self, account_id: str, request_id: str, bucket: str, key: str) -> Any:
        self._sts = self._sts or sts_client()
        credentials = self._sts.assume_role(
            RoleArn=self._role_arn, RoleSessionName=session_name(account_id, f"url-{request_id}"),
            Policy=json.dumps(object_policy(bucket, key), separators=(",", ":"),
                              ensure_ascii=False),
            DurationSeconds=SESSION_SECONDS)["Credentials"]
        return s3_client(credentials=credentials)
