"""Each batch job's own S3 access: the worker assumes the deployment's batch-job role with a
session policy naming only the job's two prefixes, so IAM itself bounds what one job can
read and write (defence in depth behind the worker's own location checks): a job whose
payload named another account's prefix could not touch it even if those checks failed.
An `image_url` read is the same, narrower: the API function assumes the role for one
request with a policy naming only the one object (`ObjectAccess`).

A session's permissions are the role's policy *intersected with* the session policy: the
role grants the allow-listed buckets (infrastructure/batch.py), the session policy narrows
them to `<source>/<prefix>*` (read) and `<destination>/<prefix>*` (HEAD and write). AWS
enforces that intersection; moto's STS accepts the `Policy` but enforces nothing, so the
tests evaluate the recorded calls against both documents (tests/integration/policy_check.py).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from cutout.data.aws import error_code, s3_client, sts_client
from cutout.data.batch_objects import BatchBuckets, ObjectUnavailable
from cutout.errors import ImageTooLarge, ImageUrlNotAllowed

if TYPE_CHECKING:
    from cutout.service.batch_items import BatchInput

SESSION_SECONDS = 900  # STS's minimum, and three times the worker's 300 s timeout
MAX_SESSION_NAME = 64
SESSION_NAME_CHARACTERS = "=,.@-_"
# STS refuses a session policy over 2,048 characters; the rest of ours takes at most ~700
# (two 63-character bucket names, a key ARN), which leaves this much for each prefix as
# IAM text. The API refuses a longer prefix when the job starts (api/batch_request.py).
MAX_PREFIX_POLICY_CHARS = 640


def prefix_policy_chars(prefix: str) -> int:
    """How many characters of the session policy a prefix takes."""
    return len(_arn_text(prefix))


def _arn_text(value: str) -> str:
    """A prefix as literal text inside an IAM ARN or `StringLike` value: `*`, `?` and `$`
    are IAM's wildcard and variable characters, written `${*}`, `${?}`, `${$}`."""
    return "".join(f"${{{c}}}" if c in "*?$" else c for c in value)


def session_policy(source_bucket: str, source_prefix: str, destination_bucket: str,
                   destination_prefix: str, kms_key_arn: str) -> dict[str, Any]:
    """The job's session policy: read its source prefix, HEAD and write its destination
    prefix, encrypt outputs under the stack's key. Nothing else of either bucket."""
    source, destination = _arn_text(source_prefix), _arn_text(destination_prefix)
    return {"Version": "2012-10-17", "Statement": [
        {"Sid": "ReadSource", "Effect": "Allow", "Action": "s3:GetObject",
         "Resource": f"arn:aws:s3:::{source_bucket}/{source}*"},
        # GetObject: the HEAD that skips an existing output
        {"Sid": "WriteDestination", "Effect": "Allow",
         "Action": ["s3:GetObject", "s3:PutObject"],
         "Resource": f"arn:aws:s3:::{destination_bucket}/{destination}*"},
        # S3 answers a missing output 404 (not 403) only to a caller that may list the
        # bucket; the session never lists (the role allows it on destinations only)
        {"Sid": "MissingOutputIs404", "Effect": "Allow", "Action": "s3:ListBucket",
         "Resource": f"arn:aws:s3:::{destination_bucket}"},
        {"Sid": "EncryptOutputs", "Effect": "Allow", "Action": "kms:GenerateDataKey",
         "Resource": kms_key_arn if kms_key_arn.startswith("arn:") else "*"},
    ]}


def session_name(account_id: str, batch_id: str) -> str:
    """CloudTrail shows the session name on every call: the account and the job."""
    allowed = "".join(c if c.isalnum() or c in SESSION_NAME_CHARACTERS else "-"
                      for c in f"{account_id}-{batch_id}")
    return allowed[:MAX_SESSION_NAME]


# The one-object policy's text besides the key (bucket name included, at most 63): STS's
# 2,048-character limit leaves the rest for the key as IAM text.
OBJECT_POLICY_OVERHEAD = 200
MAX_OBJECT_KEY_POLICY_CHARS = 2048 - OBJECT_POLICY_OVERHEAD


def object_policy(bucket: str, key: str) -> dict[str, Any]:
    """An `image_url` read's session policy: GetObject (which HEAD needs too) on one object,
    its key literal (IAM's wildcard characters escaped), nothing else in any bucket."""
    return {"Version": "2012-10-17", "Statement": [
        {"Sid": "ReadTheNamedObject", "Effect": "Allow", "Action": "s3:GetObject",
         "Resource": f"arn:aws:s3:::{bucket}/{_arn_text(key)}"}]}


def object_fits_policy(key: str) -> bool:
    """Whether a session policy can name this key within STS's limit."""
    return len(_arn_text(key)) <= MAX_OBJECT_KEY_POLICY_CHARS


class ObjectAccess:
    """`image_url` reads: one object per session of the batch-job role (the role that holds
    the allow-listed buckets; the API function's own role holds none of them), the session
    policy naming only that object, so IAM bounds the read to what the request named even
    if the domain's checks (allow-list, the account's folder) failed."""

    def __init__(self, role_arn: str, sts: Any = None) -> None:
        self._sts = sts
        self._role_arn = role_arn

    def read(self, account_id: str, request_id: str, bucket: str, key: str,
             max_bytes: int) -> bytes:
        """The object's bytes: HEAD first (`ImageTooLarge` past `max_bytes`, before a byte is
        read), then one GET of that same version (`IfMatch` its ETag), bounded again.
        `ObjectUnavailable` with S3's code when S3 refuses either."""
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


class JobAccess:
    """The S3 access of one job's items: a session of the batch-job role, per invocation."""

    def __init__(self, role_arn: str, kms_key_id: str, sts: Any = None) -> None:
        self._sts = sts
        self._role_arn = role_arn
        self._kms_key_id = kms_key_id

    def buckets_for(self, job: BatchInput) -> BatchBuckets:
        policy = session_policy(job.source_bucket, job.source_prefix, job.destination_bucket,
                                job.destination_prefix, self._kms_key_id)
        self._sts = self._sts or sts_client()
        credentials = self._sts.assume_role(
            RoleArn=self._role_arn, RoleSessionName=session_name(job.account_id, job.batch_id),
            Policy=json.dumps(policy, separators=(",", ":"), ensure_ascii=False),
            DurationSeconds=SESSION_SECONDS)["Credentials"]
        return BatchBuckets(s3_client(credentials=credentials), self._kms_key_id)
