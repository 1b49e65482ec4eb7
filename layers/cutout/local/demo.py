"""The demo account and its API key, created in the local table when `cutout serve` starts.

Made through the same account service and key hashing the admin CLI uses, so the key is
stored only as its hash, exactly as a real one, and mirrored into the local usage plan as
`cutout keys create` does (the local gateway, like API Gateway, refuses keys outside it). A
fixed key (`--api-key` or `CUTOUT_DEMO_API_KEY`) lets scripts and tests know it in advance.
"""

from __future__ import annotations

from dataclasses import dataclass

from cutout.clock import utc_now
from cutout.data.accounts import SCOPE_ADMIN, AccountStore, ApiKeyRecord
from cutout.data.usage_plans import UsagePlanKeys
from cutout.service.accounts import AccountService, iso
from cutout.service.keys import MAX_KEY_LENGTH, hash_key, visible_prefix

DEMO_ACCOUNT_ID = "demo"
DEMO_KEY_ENV = "CUTOUT_DEMO_API_KEY"


@dataclass(frozen=True)
class DemoAccount:
    account_id: str
    api_key: str

    def __repr__(self) -> str:  # keep the key out of tracebacks
        return f"DemoAccount(account_id={self.account_id!r})"


def create_demo_account(accounts: AccountStore, api_key: str | None = None,
                        usage_plan: tuple[UsagePlanKeys, str] | None = None) -> DemoAccount:
    """Create the demo account and a key for it: the given one, or a freshly generated one,
    in `usage_plan` (the plan's keys and its id) when the stack has one."""
    service = AccountService(accounts)
    account = service.create_account(DEMO_ACCOUNT_ID, name="Demo account (cutout serve)")
    if api_key is None:
        # The person running `cutout serve` owns the demo account: its key may turn training on.
        new_key, record = service.issue_key(account.account_id, label="demo", scope=SCOPE_ADMIN)
        api_key = new_key.secret
    else:
        check_demo_key(api_key)
        record = ApiKeyRecord(
            key_hash=hash_key(api_key),
            account_id=account.account_id,
            key_prefix=visible_prefix(api_key),
            created_at=iso(utc_now()),
            label="demo",
            scope=SCOPE_ADMIN,
        )
        accounts.put_key(record)
    if usage_plan is not None:
        keys, usage_plan_id = usage_plan
        keys.attach(record.key_hash, record.key_prefix, account.account_id, usage_plan_id)
    return DemoAccount(account.account_id, api_key)


def check_demo_key(api_key: str) -> str:
    """A fixed key must be usable in a header: printable, no spaces, not too long."""
    if not api_key or len(api_key) > MAX_KEY_LENGTH or not api_key.isprintable() or any(
        c.isspace() for c in api_key
    ):
        raise ValueError(
            f"the demo API key must be 1-{MAX_KEY_LENGTH} printable characters without spaces"
        )
    return api_key
