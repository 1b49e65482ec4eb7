"""The AWS calls the functions inside the e2e tests' `cutout serve` made, as the integration
deployment names its resources, for the least-privilege check.

Each `cutout serve` the e2e tests start writes its functions' IAM requests to
`$CUTOUT_TEST_AWS_CALLS/serve-<pid>.jsonl` (tests/e2e/aws_calls/sitecustomize.py, the same
recorder as this folder's). The local stack names its resources `cutout-local-*`; the judged
template is synthesized with the integration names, so each local name is mapped to the one
that plays its part. The local catalogue bucket is the batch source and destination, as
`catalogue-in` is on both of the integration deployment's allow-lists. Both use moto's
account and us-east-1.

A folder that does not exist or holds no journal (the e2e tests did not run in this session)
gives no calls; a line a still-running server is writing is skipped.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from aws_call_recorder import Request
from batch_support import SOURCE_BUCKET
from policy_check import TABLE, TRAINING, TRANSIENT

FOLDER_ENV = "CUTOUT_TEST_AWS_CALLS"
# the local stack's names (cutout.local.moto_stack) -> the integration deployment's; the
# catalogue bucket under its default name and the one tests/e2e/test_removebg_clients.py
# gives `cutout serve --catalogue-bucket`
LOCAL_NAMES = {"cutout-local-accounts": TABLE, "cutout-local-transient": TRANSIENT,
               "cutout-local-training": TRAINING, "cutout-local-catalogue": SOURCE_BUCKET,
               "acme-catalogue-photos": SOURCE_BUCKET}


def served_calls(folder: str | None = None) -> set[Request]:
    """Every request the served functions made this session, under the integration names."""
    where = Path(folder or os.environ.get(FOLDER_ENV) or "/nonexistent")
    found: set[Request] = set()
    for journal in sorted(where.glob("serve-*.jsonl")) if where.is_dir() else ():
        for line in journal.read_text().splitlines():
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue  # the line a running server is still writing
            found.add(Request(
                function=row["function"], call=row["call"], action=row["action"],
                resource=_renamed(row["resource"]),
                context=tuple((key, tuple(values)) for key, values in row["context"]),
                session_policy=_renamed(row.get("session_policy", ""))))
    return found


def _renamed(resource: str) -> str:
    for local, integration in LOCAL_NAMES.items():
        resource = resource.replace(f":::{local}", f":::{integration}").replace(
            f":table/{local}", f":table/{integration}")  # a session policy's ARNs too
    return resource
