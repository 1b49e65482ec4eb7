"""Admin commands: `cutout accounts`, `cutout keys`, `cutout opt-in`.

They work against a deployed stack (boto3 default credentials, names from the stack
outputs or the `CUTOUT_*` variables) or the local one (`--endpoint-url` of its moto
server). Output is JSON on stdout; a new key's secret is printed once and never stored.
Every issued key is mirrored into the stack's usage plan (API Gateway refuses keys outside
it), found before anything is written: no key is ever issued that the gateway would refuse.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from cutout.data.accounts import SCOPE_USE, SCOPES, AccountStore
from cutout.data.aws import AwsError, apigateway_client, s3_client
from cutout.data.training import TrainingStore
from cutout.data.usage_plans import (
    DEFAULT_STACK_NAME,
    UsagePlanKeys,
    cloudformation_client,
    stack_usage_plan_id,
)
from cutout.errors import CutoutError
from cutout.service.accounts import AccountService
from cutout.settings import env_name

ADMIN = "admin"


def register(subparsers: Any) -> None:
    """Add the `accounts`, `keys` and `opt-in` command groups to the `cutout` parser."""
    accounts = _group(subparsers, "accounts", "create and read accounts")
    create = _command(accounts, "create", "create an account (training opt-in off)",
                      _accounts_create)
    create.add_argument("--account-id", help="the id to use (default: a random acct_... id)")
    create.add_argument("--name", help="a label for humans")
    create.add_argument("--with-key", action="store_true", help="also issue a first API key")
    _scope_option(create)
    _usage_plan_option(create)
    _account_option(_command(accounts, "get", "show an account", _accounts_get))

    keys = _group(subparsers, "keys", "issue, list and revoke API keys")
    key_create = _command(keys, "create", "issue a key (printed once, stored as a hash)",
                          _keys_create)
    _account_option(key_create)
    key_create.add_argument("--label", help="a label for humans")
    _scope_option(key_create)
    _usage_plan_option(key_create)
    _account_option(_command(keys, "list", "list an account's keys (never the secrets)",
                             _keys_list))
    revoke = _command(keys, "revoke", "revoke a key: refused from the next request on, except "
                      "that a deployed API may let it through for up to the authorizer's cache "
                      "TTL (300 s by default)", _keys_revoke)
    _account_option(revoke)
    revoke.add_argument("key", metavar="PREFIX_OR_HASH", help="the key's visible prefix or hash")
    revoke.add_argument("--usage-plan-id",
                        help="accepted for older scripts: the key's API Gateway API key is "
                        "always disabled")

    opt_in = _group(subparsers, "opt-in", "read or change an account's training opt-in")
    get = _command(opt_in, "get", "show the opt-in and its history", _opt_in_get)
    _account_option(get)
    set_ = _command(opt_in, "set", "switch the opt-in; off deletes the account's training data",
                    _opt_in_set)
    _account_option(set_)
    set_.add_argument("state", choices=("on", "off"))


# --- commands -----------------------------------------------------------------------------
def _accounts_create(args: argparse.Namespace) -> Any:
    service = _service(args)
    plan = _usage_plan(args) if args.with_key else None  # refused before anything is written
    account = service.create_account(args.account_id, args.name)
    output: dict[str, Any] = {"account": asdict(account)}
    if plan is not None:
        output["key"] = _issue(service, args, account.account_id, None, plan, args.scope)
    return output


def _accounts_get(args: argparse.Namespace) -> Any:
    return {"account": asdict(_service(args).get_account(args.account))}


def _keys_create(args: argparse.Namespace) -> Any:
    service = _service(args)
    service.get_account(args.account)  # a clear error for an unknown account
    plan = _usage_plan(args)
    return {"key": _issue(service, args, args.account, args.label, plan, args.scope)}


def _keys_list(args: argparse.Namespace) -> Any:
    return {"keys": [_key_view(k) for k in _service(args).list_keys(args.account)]}


def _keys_revoke(args: argparse.Namespace) -> Any:
    record = _service(args).revoke_key(args.account, args.key)
    keys = UsagePlanKeys(apigateway_client(args.endpoint_url, args.region))
    return {"key": _key_view(record), "usage_plan_keys_disabled": keys.disable(record.key_prefix)}


def _opt_in_get(args: argparse.Namespace) -> Any:
    service = _service(args)
    account = service.get_account(args.account)
    history = [asdict(change) for change in service.opt_in_history(args.account)]
    return {"account_id": account.account_id, "training_opt_in": account.opt_in,
            "changed_at": account.opt_in_changed_at, "changed_by": account.opt_in_changed_by,
            "erasure_state": account.erasure_state, "erasure_deleted": account.erasure_deleted,
            "history": history}


def _opt_in_set(args: argparse.Namespace) -> Any:
    outcome = _service(args).set_opt_in(args.account, args.state == "on", changed_by=ADMIN)
    return {"account": asdict(outcome.account),
            "deleted_training_objects": outcome.deleted_training_objects}


# --- plumbing -----------------------------------------------------------------------------
def _usage_plan(args: argparse.Namespace) -> tuple[UsagePlanKeys, str]:
    """The usage plan a new key goes into: named, or the stack's `UsagePlanId` output."""
    keys = UsagePlanKeys(apigateway_client(args.endpoint_url, args.region))
    if args.usage_plan_id:
        return keys, keys.require_plan(args.usage_plan_id)
    cloudformation = cloudformation_client(args.endpoint_url, args.region)
    return keys, stack_usage_plan_id(cloudformation, args.stack_name)


def _issue(service: AccountService, args: argparse.Namespace, account_id: str,
           label: str | None, plan: tuple[UsagePlanKeys, str],
           scope: str = SCOPE_USE) -> dict[str, Any]:
    keys, usage_plan_id = plan
    new_key, record = service.issue_key(account_id, label, scope)
    view = {"api_key": new_key.secret, **_key_view(record), "usage_plan_id": usage_plan_id}
    try:
        view["usage_plan_api_key_id"] = keys.attach(record.key_hash, record.key_prefix,
                                                    account_id, usage_plan_id)
    except AwsError:
        service.revoke_key(account_id, record.key_hash)  # never leave a key the gateway refuses
        raise
    print("The API key is shown once: store it now; only its hash is kept.", file=sys.stderr)
    return view


def _key_view(record: Any) -> dict[str, Any]:
    return {"key_prefix": record.key_prefix, "key_hash": record.key_hash,
            "account_id": record.account_id, "created_at": record.created_at,
            "revoked_at": record.revoked_at, "label": record.label, "scope": record.scope}


def _service(args: argparse.Namespace) -> AccountService:
    if not args.table:
        raise CutoutError(f"name the accounts table: --table or {env_name('accounts_table')}")
    accounts = AccountStore.from_table_name(args.table, args.endpoint_url, args.region)
    training = None
    if args.training_bucket:
        training = TrainingStore(s3_client(args.endpoint_url, args.region), args.training_bucket,
                                 kms_key_id=os.environ.get(env_name("kms_key_id"), ""))
    return AccountService(accounts, training)


def _group(subparsers: Any, name: str, help_text: str) -> Any:
    parser = subparsers.add_parser(name, help=help_text, description=help_text)
    parser.set_defaults(run=lambda _args, p=parser: p.print_help() or 2)
    return parser.add_subparsers(title="commands", metavar="COMMAND")


def _command(group: Any, name: str, help_text: str,
             action: Callable[[argparse.Namespace], Any]) -> argparse.ArgumentParser:
    parser = group.add_parser(name, help=help_text, description=help_text)
    parser.add_argument("--table", default=os.environ.get(env_name("accounts_table")),
                        help=f"accounts table name (default ${env_name('accounts_table')})")
    parser.add_argument("--training-bucket",
                        default=os.environ.get(env_name("training_bucket")),
                        help="training store bucket, needed to opt out "
                        f"(default ${env_name('training_bucket')})")
    parser.add_argument("--endpoint-url", help="e.g. the local stack's moto server")
    parser.add_argument("--region", help="AWS region (default: boto3's)")
    parser.set_defaults(run=lambda args: _run(action, args))
    return parser


def _scope_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--scope", choices=SCOPES, default=SCOPE_USE,
                        help="admin: may also turn the training opt-in on (for the account's "
                        "owner); use (default): calls the API and may turn training off. Keys "
                        "made before scopes existed count as use")


def _account_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--account", required=True, metavar="ACCOUNT_ID")


def _usage_plan_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--usage-plan-id",
                        help="the usage plan the key's API Gateway API key (valued with its "
                        "hash) goes into (default: the stack's UsagePlanId output)")
    parser.add_argument("--stack-name",
                        default=os.environ.get("CUTOUT_STACK_NAME", DEFAULT_STACK_NAME),
                        help="the deployed stack whose UsagePlanId output names the plan "
                        f"(default $CUTOUT_STACK_NAME or {DEFAULT_STACK_NAME!r})")


def _run(action: Callable[[argparse.Namespace], Any], args: argparse.Namespace) -> int:
    try:
        output = action(args)
    except CutoutError as error:
        print(f"cutout: {error.message}", file=sys.stderr)
        return 1
    except AwsError as error:
        print(f"cutout: AWS call failed: {error}", file=sys.stderr)
        return 1
    print(json.dumps(output, indent=2))
    return 0
