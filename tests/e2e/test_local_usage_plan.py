"""`cutout serve` admits a key only while it is an enabled API key of the stack's usage plan,
as API Gateway does with `apiKeySource: AUTHORIZER`: anything else is 403 `forbidden`."""

from __future__ import annotations

import boto3
import pytest
import requests
from e2e_local_api import start_local_api

from cutout.data.accounts import AccountStore
from cutout.data.usage_plans import DEFAULT_STACK_NAME, USAGE_PLAN_OUTPUT, UsagePlanKeys
from cutout.local.moto_stack import ACCESS_KEY_ID, ACCOUNTS_TABLE, REGION, SECRET_ACCESS_KEY
from cutout.service.accounts import AccountService

API_KEY = "co_live_e2e-usage-plan-demo-key"


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    running = start_local_api(tmp_path_factory.mktemp("plan"), API_KEY)
    yield running
    running.terminate()


def local(api, service: str):
    """A client of the stack's moto, signed with the stack's own credentials."""
    return boto3.client(service, endpoint_url=api.moto_endpoint, region_name=REGION,
                        aws_access_key_id=ACCESS_KEY_ID, aws_secret_access_key=SECRET_ACCESS_KEY)


def stack_usage_plan(api) -> str:
    outputs = local(api, "cloudformation").describe_stacks(
        StackName=DEFAULT_STACK_NAME)["Stacks"][0]["Outputs"]
    return next(o["OutputValue"] for o in outputs if o["OutputKey"] == USAGE_PLAN_OUTPUT)


def account_of(api, key: str) -> requests.Response:
    return requests.get(f"{api.base_url}/v1/account", headers={"x-api-key": key}, timeout=30)


def admitted(answer: requests.Response) -> bool:
    """The gateway let the request through to the function (what is judged here)."""
    return answer.status_code not in (401, 403)


def test_the_demo_key_is_in_the_stacks_usage_plan(api):
    assert admitted(account_of(api, API_KEY))


def test_a_key_outside_the_usage_plan_is_refused_until_it_is_in_it(api):
    # Given a key written straight into the accounts table, never mirrored into the plan
    dynamodb = boto3.resource("dynamodb", endpoint_url=api.moto_endpoint, region_name=REGION,
                              aws_access_key_id=ACCESS_KEY_ID,
                              aws_secret_access_key=SECRET_ACCESS_KEY)
    service = AccountService(AccountStore(dynamodb.Table(ACCOUNTS_TABLE)))
    account = service.create_account()
    new_key, record = service.issue_key(account.account_id)
    # When it calls the API, Then the gateway refuses it as API Gateway would: 403 forbidden
    refused = account_of(api, new_key.secret)
    assert refused.status_code == 403
    assert refused.headers["Content-Type"] == "application/json"
    assert refused.json()["error"]["code"] == "forbidden"
    assert "usage plan" in refused.json()["error"]["message"]
    # When it is mirrored into the stack's plan (what `cutout keys create` does), Then it works
    plan = UsagePlanKeys(local(api, "apigateway"))
    plan.attach(record.key_hash, record.key_prefix, account.account_id, stack_usage_plan(api))
    assert admitted(account_of(api, new_key.secret))
    # When its API key is disabled (as revoking does), Then it is refused again at once
    plan.disable(record.key_prefix)
    assert account_of(api, new_key.secret).status_code == 403
