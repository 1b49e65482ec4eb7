"""Where data lives: the accounts table's key design and the buckets' object-key layout.

One source for the handlers, the local stack (which creates the table as the CDK stack
does) and the CDK construct (which imports these names).

Accounts table (single-table design, on-demand, KMS-encrypted):

| item           | pk                   | sk                       | GSI by_account           |
|----------------|----------------------|--------------------------|--------------------------|
| account        | ACCOUNT#<account_id> | PROFILE                  | -                        |
| opt-in change  | ACCOUNT#<account_id> | OPTIN#<iso time>#<nonce> | -                        |
| day's usage    | ACCOUNT#<account_id> | USAGE#<YYYY-MM-DD>       | -                        |
| API key (hash) | KEY#<sha256 hex>     | KEY                      | gsi1pk ACCOUNT#<id>,     |
|                |                      |                          | gsi1sk KEY#<created>     |

Transient bucket (1-day lifecycle + sweeper): `uploads/<account_id>/<upload_id>` and
`results/<account_id>/<result_id>.<ext>`. Training store (separate bucket, opt-in only):
`training/<account_id>/<request_id>/input` and `.../mask.png` (a removal's), or `.../input`
and `.../submission.json` (an image sent to `POST /v1.0/improve`).
"""

from __future__ import annotations

PARTITION_KEY = "pk"
SORT_KEY = "sk"
ACCOUNT_INDEX = "by_account"
ACCOUNT_INDEX_PARTITION_KEY = "gsi1pk"
ACCOUNT_INDEX_SORT_KEY = "gsi1sk"

UPLOADS_PREFIX = "uploads/"
RESULTS_PREFIX = "results/"
TRAINING_PREFIX = "training/"
# The only attributes of a day's usage item besides its key (the inference function's
# UpdateItem grant is limited to them).
USAGE_COUNTERS = ("requests", "pixels")


def account_pk(account_id: str) -> str:
    return f"ACCOUNT#{account_id}"


def key_pk(key_hash: str) -> str:
    return f"KEY#{key_hash}"


def upload_object_key(account_id: str, upload_id: str) -> str:
    return f"{UPLOADS_PREFIX}{account_id}/{upload_id}"


def result_object_key(account_id: str, result_id: str, extension: str) -> str:
    return f"{RESULTS_PREFIX}{account_id}/{result_id}.{extension}"


def training_prefix(account_id: str) -> str:
    return f"{TRAINING_PREFIX}{account_id}/"


def training_object_key(account_id: str, request_id: str, name: str) -> str:
    """`name` is `input` (the bytes as received), `mask.png` or `submission.json`."""
    return f"{training_prefix(account_id)}{request_id}/{name}"
