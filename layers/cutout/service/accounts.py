"""Accounts, their keys and the training opt-in: the rules, on top of the stores.

Opt-in is off by default and changes only by an explicit call. Every change is recorded
with its time and the key prefix (or admin) that made it. Opting out deletes everything the
account contributed, flips the flag only once that worked (a failed deletion leaves the
opt-in as it was), then deletes again what a capture wrote meanwhile.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from cutout.clock import Clock, utc_now
from cutout.data.accounts import Account, AccountStore, ApiKeyRecord, OptInChange
from cutout.data.training import TrainingStore
from cutout.errors import ConfigurationError, Conflict, InvalidRequest, KeyNotFound
from cutout.service.keys import NewKey, generate_key

ACCOUNT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{2,63}$")
HASH = re.compile(r"^[0-9a-f]{64}$")
OPT_IN_ATTEMPTS = 3

def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def new_account_id() -> str:
    return "acct_" + secrets.token_hex(8)


def check_account_id(account_id: str) -> str:
    if not ACCOUNT_ID.match(account_id):
        raise InvalidRequest("an account id is 3-64 letters, digits, '-' or '_'")
    return account_id


@dataclass(frozen=True)
class OptInOutcome:
    account: Account
    deleted_training_objects: int = 0


class AccountService:
    """Create accounts, issue/list/revoke keys, read and change the training opt-in."""

    def __init__(self, accounts: AccountStore, training: TrainingStore | None = None,
                 clock: Clock = utc_now) -> None:
        self._accounts = accounts
        self._training = training
        self._clock = clock

    def create_account(self, account_id: str | None = None, name: str | None = None) -> Account:
        account_id = check_account_id(account_id or new_account_id())
        return self._accounts.create_account(account_id, iso(self._clock()), name=name)

    def get_account(self, account_id: str) -> Account:
        return self._accounts.get_account(account_id)

    def opt_in_history(self, account_id: str) -> list[OptInChange]:
        return self._accounts.opt_in_history(account_id)

    def issue_key(self, account_id: str, label: str | None = None) -> tuple[NewKey, ApiKeyRecord]:
        """A new key for an existing account; the secret in `NewKey` is shown once."""
        new_key = generate_key()
        record = ApiKeyRecord(key_hash=new_key.key_hash, account_id=account_id,
                              key_prefix=new_key.key_prefix, created_at=iso(self._clock()),
                              label=label)
        self._accounts.put_key(record)
        return new_key, record

    def list_keys(self, account_id: str) -> list[ApiKeyRecord]:
        return self._accounts.list_keys(account_id)

    def revoke_key(self, account_id: str, prefix_or_hash: str) -> ApiKeyRecord:
        """Revoke the account's key named by its visible prefix or its hash."""
        if HASH.match(prefix_or_hash):  # a hash: read the base table, not the (eventual) GSI
            record = self._accounts.get_key(prefix_or_hash)
            matches = [record] if record is not None and record.account_id == account_id else []
        else:
            matches = [k for k in self._accounts.list_keys(account_id)
                       if k.key_prefix == prefix_or_hash]
        if not matches:
            raise KeyNotFound(f"account {account_id} has no key {prefix_or_hash}")
        if len(matches) > 1:
            raise Conflict(f"{prefix_or_hash} names several keys; revoke by hash instead")
        return self._accounts.revoke_key(matches[0].key_hash, iso(self._clock()))

    def set_opt_in(self, account_id: str, opt_in: bool, changed_by: str) -> OptInOutcome:
        """Record an opt-in change; an opt-out also deletes the account's training data.

        An opt-out deletes before it flips the flag: when S3 fails (`ServiceUnavailable`,
        `TrainingDeletionFailed`, both 503) the client is told so and the opt-in is still
        what it was, never "off" with data kept. After the flip it deletes again, so that
        nothing captured concurrently is left behind (a capture re-reads the flag after
        writing and takes its own objects back).
        """
        if opt_in:
            return OptInOutcome(account=self._apply(account_id, opt_in, changed_by))
        if self._training is None:
            raise ConfigurationError("opting out needs the training store to delete from")
        deleted = self._training.delete_account_data(account_id)
        account = self._apply(account_id, opt_in, changed_by)
        deleted += self._training.delete_account_data(account_id)
        return OptInOutcome(account=account, deleted_training_objects=deleted)

    def _apply(self, account_id: str, opt_in: bool, changed_by: str) -> Account:
        for attempt in range(OPT_IN_ATTEMPTS):
            account = self._accounts.get_account(account_id)
            if account.opt_in == opt_in:
                return account  # not a change: nothing to record
            try:
                return self._accounts.write_opt_in(account, opt_in, iso(self._clock()),
                                                   changed_by, secrets.token_hex(4))
            except Conflict:
                if attempt == OPT_IN_ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")
