"""The admin commands against moto: accounts, keys (always in the stack's usage plan), opt-in."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import boto3
import pytest
from integration_support import REGION, LocalContext, bucket_keys

from cutout.cli.main import main
from cutout.data.usage_plans import DEFAULT_STACK_NAME, USAGE_PLAN_OUTPUT, UsagePlanKeys
from cutout.local.events import authorizer_request_event

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def stack_plan(settings) -> str:
    """A deployed stack as CloudFormation shows it: the usage plan and the stack's output."""
    apigateway = boto3.client("apigateway", region_name=REGION)
    api = apigateway.create_rest_api(name="cutout-cutout", apiKeySource="AUTHORIZER")
    plan = apigateway.create_usage_plan(name="cutout-default",
                                        apiStages=[{"apiId": api["id"], "stage": "prod"}])
    template = {"Resources": {"Api": {"Type": "AWS::ApiGateway::RestApi",
                                      "Properties": {"Name": "placeholder"}}},
                "Outputs": {USAGE_PLAN_OUTPUT: {"Value": plan["id"]},
                            "AccountsTableName": {"Value": settings.accounts_table}}}
    boto3.client("cloudformation", region_name=REGION).create_stack(
        StackName=DEFAULT_STACK_NAME, TemplateBody=json.dumps(template))
    return plan["id"]


def plan_key_values(plan_id: str) -> list[str]:
    apigateway = boto3.client("apigateway", region_name=REGION)
    return [k["value"] for k in apigateway.get_usage_plan_keys(usagePlanId=plan_id)["items"]]


def table_items(settings) -> int:
    table = boto3.client("dynamodb", region_name=REGION)
    return table.scan(TableName=settings.accounts_table, Select="COUNT")["Count"]


@pytest.fixture
def cli(settings, capsys, stack_plan):
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


def test_a_key_lands_in_the_stacks_usage_plan_without_naming_it(cli, stack_plan):
    # Given a deployed stack whose UsagePlanId output names its plan
    # When keys are issued without --usage-plan-id, by both commands that issue them
    _, created, _ = cli("accounts", "create", "--with-key")
    _, more, _ = cli("keys", "create", "--account", created["account"]["account_id"])
    # Then each key's hash is an enabled API key of that plan: API Gateway admits both
    apigateway = UsagePlanKeys(boto3.client("apigateway", region_name=REGION))
    for issued in (created["key"], more["key"]):
        assert issued["usage_plan_id"] == stack_plan
        assert issued["key_hash"] in plan_key_values(stack_plan)
        assert apigateway.admits(stack_plan, issued["key_hash"])


@pytest.mark.parametrize("command", [("accounts", "create", "--with-key"),
                                     ("keys", "create", "--account", "ACCOUNT")],
                         ids=["accounts create --with-key", "keys create"])
def test_no_key_is_issued_when_no_usage_plan_can_be_found(cli, settings, command):
    # Given an account, and a stack name that no deployed stack has
    _, existing, _ = cli("accounts", "create")
    argv = [existing["account"]["account_id"] if part == "ACCOUNT" else part for part in command]
    before = table_items(settings)
    # When a key is asked for against it
    code, output, err = cli(*argv, "--stack-name", "cutout-elsewhere")
    # Then the command refuses, says what to name, and wrote nothing (no account, no key)
    assert code == 1 and output is None
    assert "cutout-elsewhere" in err and "--usage-plan-id" in err and "--stack-name" in err
    assert table_items(settings) == before


def test_an_unknown_usage_plan_id_is_refused_before_issuing(cli, settings):
    _, existing, _ = cli("accounts", "create")
    before = table_items(settings)
    code, _, err = cli("keys", "create", "--account", existing["account"]["account_id"],
                       "--usage-plan-id", "nosuchplan")
    assert code == 1 and "nosuchplan" in err
    assert table_items(settings) == before


def test_the_cli_default_stack_name_and_output_are_the_deployed_ones():
    # The app's default stack name and the stack's outputs, as the CLI reads them
    from infrastructure.stack import OUTPUTS

    assert json.loads((ROOT / "cdk.json").read_text())["context"]["stack_name"] == \
        DEFAULT_STACK_NAME
    assert USAGE_PLAN_OUTPUT in OUTPUTS


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
    # And revoking disables it too
    cli("keys", "revoke", output["key"]["key_prefix"], "--account", account)
    assert apigateway.get_api_key(apiKey=api_key["id"])["enabled"] is False
    assert not UsagePlanKeys(apigateway).admits(plan["id"], output["key"]["key_hash"])


def test_errors_are_one_line_and_exit_1(cli):
    code, output, err = cli("keys", "create", "--account", "acct_nobody")
    assert code == 1 and output is None
    assert err.strip() == "cutout: no account acct_nobody"


def test_a_missing_table_name_is_named(aws, capsys, monkeypatch):
    monkeypatch.delenv("CUTOUT_ACCOUNTS_TABLE", raising=False)
    from cutout.cli import admin  # noqa: F401 - defaults are read when the parser is built

    assert main(["accounts", "create"]) == 1
    assert "CUTOUT_ACCOUNTS_TABLE" in capsys.readouterr().err


def test_keys_create_scope_admin_makes_the_only_kind_of_key_that_turns_training_on(cli, gateway):
    # Given an account, and a key of each scope made with the CLI (use is the default)
    _, created, _ = cli("accounts", "create")
    account = created["account"]["account_id"]
    _, admin, _ = cli("keys", "create", "--account", account, "--scope", "admin")
    _, use, _ = cli("keys", "create", "--account", account)
    assert (admin["key"]["scope"], use["key"]["scope"]) == ("admin", "use")
    # When each tries to turn training on, Then only the admin key may
    def turn_on(secret: str) -> int:
        return gateway.request("PUT", "/v1/account/training-opt-in", key=secret,
                               headers={"Content-Type": "application/json"},
                               body='{"opt_in": true}').status
    assert turn_on(use["key"]["api_key"]) == 403
    assert turn_on(admin["key"]["api_key"]) == 200
    # And an unknown scope is refused by the parser, before anything is issued
    with pytest.raises(SystemExit):
        cli("keys", "create", "--account", account, "--scope", "owner")
    _, listed, _ = cli("keys", "list", "--account", account)
    assert sorted(k["scope"] for k in listed["keys"]) == ["admin", "use"]
