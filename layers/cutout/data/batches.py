"""Batch jobs in the accounts table: one item per job under its account, conditional writes.

Key design (beside `cutout.data.schema`'s): pk `ACCOUNT#<account_id>`, sk `BATCH#<batch_id>`,
so an account reads only its own jobs by construction. A job is created once; its counters
grow by atomic ADDs from the item processor (never creating an item); it ends once, from
RUNNING only, so a late status read cannot overwrite a recorded end.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from cutout.data import schema
from cutout.data.aws import error_code, put_new

BATCH_SK_PREFIX = "BATCH#"
BATCHES_PREFIX = "batches/"  # transient bucket: failure parts and reports, 24-hour rule
BATCH_RUNS_PREFIX = f"{BATCHES_PREFIX}runs/"  # transient bucket: the Map's ResultWriter
RUNNING = "RUNNING"
TERMINAL_STATES = ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")
COUNTERS = ("done", "skipped", "failed")


def batch_sk(batch_id: str) -> str:
    return f"{BATCH_SK_PREFIX}{batch_id}"


def batch_object_prefix(account_id: str, batch_id: str) -> str:
    """Where one job's failure parts and its report live in the transient bucket."""
    return f"{BATCHES_PREFIX}{account_id}/{batch_id}/"


@dataclass(frozen=True)
class BatchRecord:
    """One job as stored: where from, where to, how, and how far it got."""

    account_id: str
    batch_id: str
    source: str  # s3://bucket/prefix/
    destination: str
    options: dict[str, str] = field(default_factory=dict)
    overwrite: bool = False
    state: str = RUNNING
    created_at: str = ""
    ended_at: str | None = None
    execution: str = ""  # the Step Functions execution ARN
    listed: int | None = None
    done: int = 0
    skipped: int = 0
    failed: int = 0
    report_key: str | None = None


class BatchStore:
    """Reads and conditional writes of batch items (a boto3 Table resource)."""

    def __init__(self, table: Any) -> None:
        self._table = table

    def create(self, record: BatchRecord) -> None:
        """Store a new job; refuses an id that exists."""
        item = {schema.PARTITION_KEY: schema.account_pk(record.account_id),
                schema.SORT_KEY: batch_sk(record.batch_id),
                "account_id": record.account_id, "batch_id": record.batch_id,
                "source": record.source, "destination": record.destination,
                "options": dict(record.options), "overwrite": record.overwrite,
                "state": record.state, "created_at": record.created_at,
                "execution": record.execution, "done": 0, "skipped": 0, "failed": 0}
        put_new(self._table, item, f"batch {record.batch_id} already exists")

    def get(self, account_id: str, batch_id: str) -> BatchRecord | None:
        """The account's job, read strongly consistent; None for any other account's id."""
        response = self._table.get_item(Key=self._key(account_id, batch_id), ConsistentRead=True)
        item = response.get("Item")
        return _record(item) if item else None

    def add_counts(self, account_id: str, batch_id: str, done: int, skipped: int,
                   failed: int) -> None:
        """Atomically add one invocation's outcome; never creates a job that is not there."""
        self._table.update_item(
            Key=self._key(account_id, batch_id),
            UpdateExpression="ADD done :d, skipped :s, failed :f",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues={":d": done, ":s": skipped, ":f": failed})

    def finish(self, account_id: str, batch_id: str, state: str, ended_at: str,
               listed: int | None) -> bool:
        """Record the end once (from RUNNING only); False if it was already recorded."""
        names = {"#state": "state"}
        values: dict[str, Any] = {":s": state, ":t": ended_at, ":running": RUNNING}
        expression = "SET #state = :s, ended_at = :t"
        if listed is not None:
            expression += ", listed = :l"
            values[":l"] = listed
        try:
            self._table.update_item(
                Key=self._key(account_id, batch_id), UpdateExpression=expression,
                ConditionExpression="#state = :running", ExpressionAttributeNames=names,
                ExpressionAttributeValues=values)
        except ClientError as error:
            if error_code(error) == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def set_report(self, account_id: str, batch_id: str, report_key: str) -> None:
        self._table.update_item(
            Key=self._key(account_id, batch_id), UpdateExpression="SET report_key = :k",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues={":k": report_key})

    @staticmethod
    def _key(account_id: str, batch_id: str) -> dict[str, str]:
        return {schema.PARTITION_KEY: schema.account_pk(account_id),
                schema.SORT_KEY: batch_sk(batch_id)}



def _record(item: dict[str, Any]) -> BatchRecord:
    listed = item.get("listed")
    return BatchRecord(
        account_id=item["account_id"], batch_id=item["batch_id"], source=item["source"],
        destination=item["destination"],
        options={str(k): str(v) for k, v in (item.get("options") or {}).items()},
        overwrite=bool(item.get("overwrite", False)), state=item.get("state", RUNNING),
        created_at=item.get("created_at", ""), ended_at=item.get("ended_at"),
        execution=item.get("execution", ""), listed=int(listed) if listed is not None else None,
        done=int(item.get("done", 0)), skipped=int(item.get("skipped", 0)),
        failed=int(item.get("failed", 0)), report_key=item.get("report_key"))
