"""The admin commands against moto: accounts, keys (with usage-plan keys), opt-in."""

from __future__ import annotations

import hashlib
import json

import boto3
import pytest
from integration_support import REGION, LocalContext, bucket_keys

from cutout.cli.main import main
from cutout.local.events import authorizer_request_event


@pytest.fixture
def cli(settings, capsys):
    """Run `cutout ...` with the deployment's names; returns (exit code, JSON output, stderr)."""

    def run(*argv: str):
        capsys.readouterr()
        names = ["--table", settings.accounts_table, "--training-bucket",
                 settings.training_bucket, "--region", REGION]
        code = main([*argv, *names])
        out, err = capsys.readouterr()
        return code, (json.loads(out) if out.strip() else None), err

    return run


def allowed(handlers, secret: str) -> bool:
    event = authorizer_request_event("GET", "/v1/account", headers={"x-api-key": secret})
    decision = handlers["authorizer"](event, LocalContext())
    return decision["policyDocument"]["Statement"][0]["Effect"] == "Allow"


def test_accounts_create_with_key_gives_a_working_key_once(cli, handlers):
    # When an admin creates an account with a key
    code, output, err = cli("accounts", "create", "--name", "Acme", "--with-key")
    # Then the key is printed once, with a warning, and it opens the API
    assert code == 0
    key = output["key"]
    assert key["api_key"].startswith("co_live_") and len(key["api_key"]) == 8 + 43
    assert key["key_hash"] == hashlib.sha256(key["api_key"].encode()).hexdigest()
    assert key["api_key"].startswith(key["key_prefix"])
    assert "shown once" in err
    assert output["account"]["opt_in"] is False
    assert allowed(handlers, key["api_key"])


def test_keys_list_never_shows_a_secret(cli):
    _, created, _ = cli("accounts", "create", "--with-key")
    account = created["account"]["account_id"]
    cli("keys", "create", "--account", account, "--label", "ci")
    code, listed, _ = cli("keys", "list", "--account", account)
    assert code == 0
    assert len(listed["keys"]) == 2
    assert all("api_key" not in k for k in listed["keys"])
    assert created["key"]["api_key"] not in json.dumps(listed)


def test_keys_revoke_by_prefix_shuts_the_key_out(cli, handlers):
    _, created, _ = cli("accounts", "create", "--with-key")
    key = created["key"]
    code, revoked, _ = cli("keys", "revoke", key["key_prefix"], "--account",
                           created["account"]["account_id"])
    assert code == 0
    assert revoked["key"]["revoked_at"]
    assert not allowed(handlers, key["api_key"])


def test_opt_in_set_and_get_record_an_admin_change(cli):
    _, created, _ = cli("accounts", "create")
    account = created["account"]["account_id"]
    code, _, _ = cli("opt-in", "set", "on", "--account", account)
    assert code == 0
    _, shown, _ = cli("opt-in", "get", "--account", account)
    assert shown["training_opt_in"] is True
    assert shown["changed_by"] == "admin"
    assert [h["opt_in"] for h in shown["history"]] == [True]


def test_opt_in_off_deletes_the_accounts_training_data(cli, gateway, settings, png_image):
    # Given an opted-in account that contributed one image
    _, created, _ = cli("accounts", "create", "--with-key")
    account, secret = created["account"]["account_id"], created["key"]["api_key"]
    cli("opt-in", "set", "on", "--account", account)
    answer = gateway.request("POST", "/v1/remove-background", key=secret, body=png_image,
                             headers={"Content-Type": "image/png"})
    assert answer.status == 200
    assert len(bucket_keys(settings.training_bucket)) == 2
    # When the admin switches it off
    code, output, _ = cli("opt-in", "set", "off", "--account", account)
    # Then the contribution is gone
    assert code == 0
    assert output["deleted_training_objects"] == 2
    assert bucket_keys(settings.training_bucket) == []


def test_keys_create_with_a_usage_plan_mirrors_the_hash_as_an_api_key(cli, settings):
    # Given a deployed API's usage plan
    apigateway = boto3.client("apigateway", region_name=REGION)
    plan = apigateway.create_usage_plan(name="cutout-default")
    _, created, _ = cli("accounts", "create")
    account = created["account"]["account_id"]
    # When a key is issued for it
    code, output, _ = cli("keys", "create", "--account", account, "--usage-plan-id", plan["id"])
    # Then an API Gateway key valued with the key's hash is in the plan
    assert code == 0
    api_key = apigateway.get_api_key(apiKey=output["key"]["usage_plan_api_key_id"],
                                     includeValue=True)
    assert api_key["value"] == output["key"]["key_hash"]
    assert api_key["enabled"] is True
    plan_keys = apigateway.get_usage_plan_keys(usagePlanId=plan["id"])["items"]
    assert [k["id"] for k in plan_keys] == [api_key["id"]]
    # And revoking with the plan disables it too
    cli("keys", "revoke", output["key"]["key_prefix"], "--account", account,
        "--usage-plan-id", plan["id"])
    assert apigateway.get_api_key(apiKey=api_key["id"])["enabled"] is False


def test_errors_are_one_line_and_exit_1(cli):
    code, output, err = cli("keys", "create", "--account", "acct_nobody")
    assert code == 1 and output is None
    assert err.strip() == "cutout: no account acct_nobody"


def test_a_missing_table_name_is_named(aws, capsys, monkeypatch):
    monkeypatch.delenv("CUTOUT_ACCOUNTS_TABLE", raising=False)
    from cutout.cli import admin  # noqa: F401 - defaults are read when the parser is built

    assert main(["accounts", "create"]) == 1
    assert "CUTOUT_ACCOUNTS_TABLE" in capsys.readouterr().err
