"""Accounts, their training opt-in (with its history) and API-key hashes in one DynamoDB table.

The key design is in `cutout.data.schema`. Writes that could race are conditional: an
account is created once, a key is stored only for an existing account and never twice, a
revocation happens once, and an opt-in change applies only to the version it was read at
(the change and its history item are written in one transaction).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from cutout.data import schema
from cutout.data.aws import error_code, put_new
from cutout.errors import AccountNotFound, Conflict, KeyNotFound

PROFILE = "PROFILE"
KEY_SK = "KEY"
OPTIN_SK_PREFIX = "OPTIN#"
USAGE_SK_PREFIX = "USAGE#"
ERASURE_IN_PROGRESS = "in_progress"
ERASURE_DONE = "done"
# What recording an erasure step writes (and reads in its condition): the sweeper's grant
ERASURE_PROGRESS_ATTRIBUTES = ("erasure_deleted", "erasure_state", "erasure_finished_at",
                               "opt_in")
# Key scopes: only an `admin` key may turn the training opt-in on; `use` keys call the API.
# A key stored before scopes existed has no scope attribute and counts as `use` (the safe
# side: it can still turn training off, and the owner issues an admin key to turn it on).
SCOPE_ADMIN = "admin"
SCOPE_USE = "use"
SCOPES = (SCOPE_ADMIN, SCOPE_USE)

# What DynamoDB answers when a condition of the write (or of a transaction) did not hold.
_CONDITION_FAILED = ("TransactionCanceledException", "ConditionalCheckFailedException")


@dataclass(frozen=True)
class Account:
    account_id: str
    created_at: str
    opt_in: bool = False
    opt_in_changed_at: str | None = None
    opt_in_changed_by: str | None = None
    version: int = 0
    name: str | None = None
    # The erasure an opt-out started: `in_progress` until nothing is left, then `done`.
    erasure_state: str | None = None
    erasure_started_at: str | None = None
    erasure_finished_at: str | None = None
    erasure_deleted: int = 0

    @property
    def erasing(self) -> bool:
        return self.erasure_state == ERASURE_IN_PROGRESS


@dataclass(frozen=True)
class OptInChange:
    account_id: str
    opt_in: bool
    changed_at: str
    changed_by: str


@dataclass(frozen=True)
class DailyUsage:
    """One UTC day's counters of an account: requests answered and pixels they produced."""

    day: str  # YYYY-MM-DD
    requests: int
    pixels: int


@dataclass(frozen=True)
class ApiKeyRecord:
    """What we keep of a key: its hash, a short visible prefix and its dates; never the key."""

    key_hash: str
    account_id: str
    key_prefix: str
    created_at: str
    revoked_at: str | None = None
    label: str | None = None
    scope: str = SCOPE_USE

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None


class AccountStore:
    """Reads and conditional writes on the accounts table (a boto3 Table resource)."""

    def __init__(self, table: Any) -> None:
        self._table = table

    @classmethod
    def from_table_name(cls, name: str, endpoint_url: str | None = None,
                        region: str | None = None) -> AccountStore:
        from cutout.data.aws import dynamodb_table

        return cls(dynamodb_table(name, endpoint_url=endpoint_url, region=region))

    # --- accounts ----------------------------------------------------------------------
    def create_account(self, account_id: str, created_at: str, name: str | None = None) -> Account:
        """Store a new account with training opt-in off; refuses an existing id."""
        item: dict[str, Any] = {
            schema.PARTITION_KEY: schema.account_pk(account_id),
            schema.SORT_KEY: PROFILE,
            "account_id": account_id,
            "created_at": created_at,
            "opt_in": False,
            "version": 0,
        }
        if name:
            item["name"] = name
        put_new(self._table, item, f"account {account_id} already exists")
        return _account(item)

    def get_account(self, account_id: str) -> Account:
        """The account's profile, read strongly consistent; `AccountNotFound` if absent."""
        response = self._table.get_item(
            Key={schema.PARTITION_KEY: schema.account_pk(account_id), schema.SORT_KEY: PROFILE},
            ConsistentRead=True,
        )
        item = response.get("Item")
        if item is None:
            raise AccountNotFound(f"no account {account_id}")
        return _account(item)

    def write_opt_in(self, account: Account, opt_in: bool, changed_at: str, changed_by: str,
                     nonce: str) -> Account:
        """Apply an opt-in change read at `account.version` and record it; `Conflict` on a race."""
        client = self._table.meta.client
        profile_key = {schema.PARTITION_KEY: schema.account_pk(account.account_id),
                       schema.SORT_KEY: PROFILE}
        history = {
            schema.PARTITION_KEY: schema.account_pk(account.account_id),
            schema.SORT_KEY: f"{OPTIN_SK_PREFIX}{changed_at}#{nonce}",
            "account_id": account.account_id,
            "opt_in": opt_in,
            "changed_at": changed_at,
            "changed_by": changed_by,
        }
        values: dict[str, Any] = {":o": opt_in, ":t": changed_at, ":b": changed_by,
                                  ":v": account.version, ":next": account.version + 1}
        update = ("SET opt_in = :o, opt_in_changed_at = :t, opt_in_changed_by = :b, "
                  "version = :next")
        if not opt_in:  # the switch goes off together with the start of its erasure
            update += (", erasure_state = :e, erasure_started_at = :t, erasure_deleted = :zero"
                       " REMOVE erasure_finished_at")
            values.update({":e": ERASURE_IN_PROGRESS, ":zero": 0})
        try:
            client.transact_write_items(TransactItems=[
                {"Update": {
                    "TableName": self._table.name,
                    "Key": profile_key,
                    "UpdateExpression": update,
                    "ConditionExpression": "attribute_exists(pk) AND version = :v",
                    "ExpressionAttributeValues": values,
                }},
                {"Put": {"TableName": self._table.name, "Item": history,
                         "ConditionExpression": "attribute_not_exists(pk)"}},
            ])
        except ClientError as error:
            if error_code(error) in _CONDITION_FAILED:
                raise Conflict("the opt-in changed concurrently; read it again") from None
            raise
        return self.get_account(account.account_id)

    def record_erasure(self, account_id: str, deleted: int, finished: bool, at: str) -> None:
        """Add one erasure step's count; `finished` marks it done. Only an erasure in
        progress on an opted-out account moves (a step that lost a race changes nothing)."""
        update = "ADD erasure_deleted :n"
        values: dict[str, Any] = {":n": deleted, ":e": ERASURE_IN_PROGRESS, ":off": False}
        if finished:
            update += " SET erasure_state = :done, erasure_finished_at = :t"
            values.update({":done": ERASURE_DONE, ":t": at})
        try:
            self._table.update_item(
                Key={schema.PARTITION_KEY: schema.account_pk(account_id), schema.SORT_KEY: PROFILE},
                UpdateExpression=update, ExpressionAttributeValues=values,
                ConditionExpression="erasure_state = :e AND opt_in = :off")
        except ClientError as error:
            if error_code(error) != "ConditionalCheckFailedException":
                raise

    def opt_in_history(self, account_id: str) -> list[OptInChange]:
        """Every recorded opt-in change of the account, oldest first."""
        items = self._query(
            KeyConditionExpression=Key(schema.PARTITION_KEY).eq(schema.account_pk(account_id))
            & Key(schema.SORT_KEY).begins_with(OPTIN_SK_PREFIX),
            ConsistentRead=True,
        )
        return [OptInChange(account_id=i["account_id"], opt_in=bool(i["opt_in"]),
                            changed_at=i["changed_at"], changed_by=i["changed_by"]) for i in items]

    # --- usage -------------------------------------------------------------------------
    def add_usage(self, account_id: str, day: str, requests: int, pixels: int) -> None:
        """Add to one day's counters with DynamoDB's atomic ADD (concurrent adds never clash).

        The item carries only its key and the two counters: the remove-background
        function's IAM grant allows UpdateItem on exactly these attributes.
        """
        self._table.update_item(
            Key={schema.PARTITION_KEY: schema.account_pk(account_id),
                 schema.SORT_KEY: f"{USAGE_SK_PREFIX}{day}"},
            UpdateExpression="ADD requests :r, pixels :p",
            ExpressionAttributeValues={":r": requests, ":p": pixels},
        )

    def usage(self, account_id: str, period: str) -> list[DailyUsage]:
        """The days whose date starts with `period` (`2026-12` for a month), oldest first."""
        items = self._query(
            KeyConditionExpression=Key(schema.PARTITION_KEY).eq(schema.account_pk(account_id))
            & Key(schema.SORT_KEY).begins_with(f"{USAGE_SK_PREFIX}{period}"),
            ConsistentRead=True,
        )
        return [DailyUsage(day=i[schema.SORT_KEY][len(USAGE_SK_PREFIX):],
                           requests=int(i.get("requests", 0)), pixels=int(i.get("pixels", 0)))
                for i in items]

    # --- API keys ----------------------------------------------------------------------
    def put_key(self, record: ApiKeyRecord) -> None:
        """Store a key hash for an existing account; never overwrites a stored hash."""
        item: dict[str, Any] = {
            schema.PARTITION_KEY: schema.key_pk(record.key_hash),
            schema.SORT_KEY: KEY_SK,
            schema.ACCOUNT_INDEX_PARTITION_KEY: schema.account_pk(record.account_id),
            schema.ACCOUNT_INDEX_SORT_KEY: f"KEY#{record.created_at}",
            "key_hash": record.key_hash,
            "account_id": record.account_id,
            "key_prefix": record.key_prefix,
            "created_at": record.created_at,
            "scope": record.scope,
        }
        if record.label:
            item["label"] = record.label
        try:
            self._table.meta.client.transact_write_items(TransactItems=[
                {"ConditionCheck": {
                    "TableName": self._table.name,
                    "Key": {schema.PARTITION_KEY: schema.account_pk(record.account_id),
                            schema.SORT_KEY: PROFILE},
                    "ConditionExpression": "attribute_exists(pk)",
                }},
                {"Put": {"TableName": self._table.name, "Item": item,
                         "ConditionExpression": "attribute_not_exists(pk)"}},
            ])
        except ClientError as error:
            if error_code(error) in _CONDITION_FAILED:
                reasons = error.response.get("CancellationReasons") or []
                first = reasons[0].get("Code") if reasons else None
                if first == "ConditionalCheckFailed":
                    raise AccountNotFound(f"no account {record.account_id}") from None
                raise Conflict("a key with this hash already exists") from None
            raise

    def get_key(self, key_hash: str) -> ApiKeyRecord | None:
        """The record of a key hash, read strongly consistent (a revocation counts at once)."""
        response = self._table.get_item(
            Key={schema.PARTITION_KEY: schema.key_pk(key_hash), schema.SORT_KEY: KEY_SK},
            ConsistentRead=True,
        )
        item = response.get("Item")
        return _key(item) if item else None

    def list_keys(self, account_id: str) -> list[ApiKeyRecord]:
        """The account's keys (revoked ones included), oldest first, through the GSI."""
        items = self._query(
            IndexName=schema.ACCOUNT_INDEX,
            KeyConditionExpression=Key(schema.ACCOUNT_INDEX_PARTITION_KEY).eq(
                schema.account_pk(account_id)
            ) & Key(schema.ACCOUNT_INDEX_SORT_KEY).begins_with("KEY#"),
        )
        return [_key(i) for i in items]

    def revoke_key(self, key_hash: str, revoked_at: str) -> ApiKeyRecord:
        """Mark a key revoked once; revoking a revoked key keeps the first revocation time."""
        try:
            response = self._table.update_item(
                Key={schema.PARTITION_KEY: schema.key_pk(key_hash), schema.SORT_KEY: KEY_SK},
                UpdateExpression="SET revoked_at = :t",
                ConditionExpression="attribute_exists(pk) AND attribute_not_exists(revoked_at)",
                ExpressionAttributeValues={":t": revoked_at},
                ReturnValues="ALL_NEW",
            )
        except ClientError as error:
            if error_code(error) != "ConditionalCheckFailedException":
                raise
            record = self.get_key(key_hash)
            if record is None:
                raise KeyNotFound("no such key") from None
            return record
        return _key(response["Attributes"])

    def _query(self, **kwargs: Any) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        while True:
            response = self._table.query(**kwargs)
            items.extend(response.get("Items", []))
            if "LastEvaluatedKey" not in response:
                return items
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]



def _account(item: dict[str, Any]) -> Account:
    return Account(
        account_id=item["account_id"],
        created_at=item["created_at"],
        opt_in=bool(item.get("opt_in", False)),
        opt_in_changed_at=item.get("opt_in_changed_at"),
        opt_in_changed_by=item.get("opt_in_changed_by"),
        version=int(item.get("version", 0)),
        name=item.get("name"),
        erasure_state=item.get("erasure_state"),
        erasure_started_at=item.get("erasure_started_at"),
        erasure_finished_at=item.get("erasure_finished_at"),
        erasure_deleted=int(item.get("erasure_deleted", 0)),
    )


def _key(item: dict[str, Any]) -> ApiKeyRecord:
    return ApiKeyRecord(
        key_hash=item["key_hash"],
        account_id=item["account_id"],
        key_prefix=item["key_prefix"],
        created_at=item["created_at"],
        revoked_at=item.get("revoked_at"),
        label=item.get("label"),
        scope=item.get("scope", SCOPE_USE),
    )
