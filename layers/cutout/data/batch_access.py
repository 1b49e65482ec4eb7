"""Each batch job's own S3 access: the worker assumes the deployment's batch-job role with a
session policy naming only the job's two prefixes, so IAM itself bounds what one job can
read and write (defence in depth behind the worker's own location checks): a job whose
payload named another account's prefix could not touch it even if those checks failed.
(`image_url` reads are bounded the same way, one object a session: `cutout.data.object_access`.)

A session's permissions are the role's policy *intersected with* the session policy: the
role grants the allow-listed buckets (infrastructure/batch.py), the session policy narrows
them to `<source>/<prefix>*` (read) and `<destination>/<prefix>*` (HEAD and write). AWS
enforces that intersection; moto's STS accepts the `Policy` but enforces nothing, so the
tests evaluate the recorded calls against both documents (tests/integration/policy_check.py).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from cutout.data.aws import s3_client, sts_client
from cutout.data.batch_objects import BatchBuckets

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
    return len(arn_text(prefix))


def arn_text(value: str) -> str:
    """A prefix as literal text inside an IAM ARN or `StringLike` value: `*`, `?` and `$`
    are IAM's wildcard and variable characters, written `${*}`, `${?}`, `${$}`."""
    return "".join(f"${{{c}}}" if c in "*?$" else c for c in value)


def session_policy(source_bucket: str, source_prefix: str, destination_bucket: str,
                   destination_prefix: str, kms_key_arn: str) -> dict[str, Any]:
    """The job's session policy: read its source prefix, HEAD and write its destination
    prefix, encrypt outputs under the stack's key. Nothing else of either bucket."""
    source, destination = arn_text(source_prefix), arn_text(destination_prefix)
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
