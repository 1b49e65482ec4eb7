"""Accounts, their keys and the training opt-in: the rules, on top of the stores.

Opt-in is off by default and changes only by an explicit call; only an admin-scoped key (or
the admin CLI) turns it on, any key turns it off. Every change is recorded with its time and
the key prefix (or admin) that made it. Opting out flips the flag first, together with an
erasure in progress (so capture stops with the first answer), then deletes the account's
contribution a page at a time within a per-request budget; what one request cannot delete,
later account reads and the scheduled sweeper (`cutout.service.erasure`) finish.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from cutout.clock import Clock, utc_now
from cutout.data.accounts import (
    SCOPE_USE,
    SCOPES,
    Account,
    AccountStore,
    ApiKeyRecord,
    OptInChange,
)
from cutout.data.training import TrainingStore
from cutout.errors import (
    AdminKeyRequired,
    ConfigurationError,
    Conflict,
    ErasureInProgress,
    InvalidRequest,
    KeyNotFound,
)
from cutout.service.keys import NewKey, generate_key

ACCOUNT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{2,63}$")
HASH = re.compile(r"^[0-9a-f]{64}$")
OPT_IN_ATTEMPTS = 3
# Objects one request deletes at most (5 pages of S3's 1,000): a LIST and a DeleteObjects per
# page take well under a second each in-region, so a step ends far inside the API's 29 s.
ERASURE_BUDGET = 5000

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
                 clock: Clock = utc_now, erasure_budget: int = ERASURE_BUDGET) -> None:
        self._accounts = accounts
        self._training = training
        self._clock = clock
        self._erasure_budget = erasure_budget

    def create_account(self, account_id: str | None = None, name: str | None = None) -> Account:
        account_id = check_account_id(account_id or new_account_id())
        return self._accounts.create_account(account_id, iso(self._clock()), name=name)

    def get_account(self, account_id: str) -> Account:
        return self._accounts.get_account(account_id)

    def account_status(self, account_id: str) -> Account:
        """The account for `GET /v1/account`: an erasure in progress moves one step first,
        so a page that polls the account watches it finish (the sweeper finishes it too)."""
        account = self._accounts.get_account(account_id)
        if account.erasing and self._training is not None:
            account, _ = self._erase_step(account)
        return account

    def opt_in_history(self, account_id: str) -> list[OptInChange]:
        return self._accounts.opt_in_history(account_id)

    def issue_key(self, account_id: str, label: str | None = None,
                  scope: str = SCOPE_USE) -> tuple[NewKey, ApiKeyRecord]:
        """A new key for an existing account; the secret in `NewKey` is shown once."""
        if scope not in SCOPES:
            raise InvalidRequest(f"a key's scope is one of {', '.join(SCOPES)}")
        new_key = generate_key()
        record = ApiKeyRecord(key_hash=new_key.key_hash, account_id=account_id,
                              key_prefix=new_key.key_prefix, created_at=iso(self._clock()),
                              label=label, scope=scope)
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

    def set_opt_in(self, account_id: str, opt_in: bool, changed_by: str, *,
                   by_admin: bool = True) -> OptInOutcome:
        """Record an opt-in change; an opt-out also starts deleting the account's training data.

        `by_admin` is False for a `use`-scoped key: it may turn training off, never on. An
        opt-out flips the flag first, with its erasure marked in progress in the same write:
        captures re-read the flag, so none is kept from this answer on. It then deletes up to
        the request's budget; a failure in S3 (503) leaves the erasure in progress for the
        next step, never "done" with data kept.
        """
        if opt_in:
            if not by_admin:
                raise AdminKeyRequired("only an admin key turns AI training on (any key turns it "
                                       "off): create one with `cutout keys create --scope admin`")
            if self._accounts.get_account(account_id).erasing:
                raise ErasureInProgress("the account's training data is still being deleted; "
                                        "turn training on again once the erasure is done")
            return OptInOutcome(account=self._apply(account_id, opt_in, changed_by))
        if self._training is None:
            raise ConfigurationError("opting out needs the training store to delete from")
        account = self._apply(account_id, opt_in, changed_by)
        if not account.erasing:  # opted out before: a retry reconciles what may be left
            step = self._training.erase_account_data(account_id, self._erasure_budget)
            return OptInOutcome(account=account, deleted_training_objects=step.deleted)
        account, deleted = self._erase_step(account)
        return OptInOutcome(account=account, deleted_training_objects=deleted)

    def _erase_step(self, account: Account) -> tuple[Account, int]:
        """Delete up to the budget of an erasure in progress and record how far it got."""
        assert self._training is not None
        step = self._training.erase_account_data(account.account_id, self._erasure_budget)
        self._accounts.record_erasure(account.account_id, step.deleted, step.finished,
                                      iso(self._clock()))
        return self._accounts.get_account(account.account_id), step.deleted

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
