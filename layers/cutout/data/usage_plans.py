"""API Gateway usage-plan keys: the authorizer's `usageIdentifierKey` (the key's sha256) must
be the value of an enabled API key in the stack's usage plan, or API Gateway answers 403
(`apiKeySource: AUTHORIZER`). Issued keys are therefore always mirrored into the plan, found
from the stack's `UsagePlanId` output when it is not named."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.exceptions import ClientError

from cutout.errors import ConfigurationError

KEY_NAME_PREFIX = "cutout-"
DEFAULT_STACK_NAME = "cutout"  # app.py's default (cdk.json `stack_name`)
USAGE_PLAN_OUTPUT = "UsagePlanId"  # infrastructure/stack.py OUTPUTS


class UsagePlanKeys:
    """Create, attach, disable and look up the API Gateway API keys that mirror our keys."""

    def __init__(self, apigateway: Any) -> None:
        self._apigateway = apigateway

    def attach(self, key_hash: str, key_prefix: str, account_id: str, usage_plan_id: str) -> str:
        """An enabled API key valued with the hash, in the usage plan; returns its id."""
        created = self._apigateway.create_api_key(
            name=f"{KEY_NAME_PREFIX}{key_prefix}", value=key_hash, enabled=True,
            description=f"cutout key {key_prefix} of account {account_id}",
            tags={"cutout:account_id": account_id},
        )
        self._apigateway.create_usage_plan_key(usagePlanId=usage_plan_id, keyId=created["id"],
                                               keyType="API_KEY")
        return created["id"]

    def disable(self, key_prefix: str) -> int:
        """Disable the mirrored API key(s) of a revoked key; returns how many."""
        name = f"{KEY_NAME_PREFIX}{key_prefix}"
        found = self._apigateway.get_api_keys(nameQuery=name, limit=500).get("items", [])
        matching = [item for item in found if item.get("name") == name]
        for item in matching:
            self._apigateway.update_api_key(apiKey=item["id"], patchOperations=[
                {"op": "replace", "path": "/enabled", "value": "false"}])
        return len(matching)

    def admits(self, usage_plan_id: str, key_value: str) -> bool:
        """API Gateway's judgement of a `usageIdentifierKey`: an enabled API key with this
        value is in the usage plan."""
        pages = self._apigateway.get_paginator("get_usage_plan_keys")
        for page in pages.paginate(usagePlanId=usage_plan_id):
            for item in page.get("items", []):
                if item.get("value") == key_value:
                    return bool(self._apigateway.get_api_key(apiKey=item["id"]).get("enabled"))
        return False

    def throttle(self, usage_plan_id: str, key_value: str) -> tuple[float, int] | None:
        """The plan's per-key throttle (rate per second, burst), or None if it has none.
        (The key is not consulted: per-key overrides are not used by the stack.)"""
        throttle = self._apigateway.get_usage_plan(usagePlanId=usage_plan_id).get("throttle")
        if not throttle or "rateLimit" not in throttle or "burstLimit" not in throttle:
            return None
        return float(throttle["rateLimit"]), int(throttle["burstLimit"])

    def require_plan(self, usage_plan_id: str) -> str:
        """The id, once API Gateway confirms the plan exists (ConfigurationError if not)."""
        try:
            self._apigateway.get_usage_plan(usagePlanId=usage_plan_id)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "NotFoundException":
                raise ConfigurationError(
                    f"usage plan {usage_plan_id!r} does not exist in this account and region"
                ) from None
            raise
        return usage_plan_id


def cloudformation_client(endpoint_url: str | None = None, region: str | None = None) -> Any:
    """CloudFormation, to read the deployed stack's outputs."""
    return boto3.client("cloudformation", endpoint_url=endpoint_url, region_name=region)


def stack_usage_plan_id(cloudformation: Any, stack_name: str) -> str:
    """The `UsagePlanId` output of the deployed stack; ConfigurationError naming what to do."""
    try:
        stacks = cloudformation.describe_stacks(StackName=stack_name).get("Stacks", [])
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "ValidationError":
            raise
        stacks = []  # CloudFormation's answer for a stack that does not exist
    for stack in stacks:
        for output in stack.get("Outputs", []):
            if output.get("OutputKey") == USAGE_PLAN_OUTPUT and output.get("OutputValue"):
                return str(output["OutputValue"])
    raise ConfigurationError(
        f"no usage plan found: stack {stack_name!r} has no {USAGE_PLAN_OUTPUT} output in this "
        "account and region. Name the stack with --stack-name, or the plan with "
        "--usage-plan-id: API Gateway refuses (403) every key outside the stack's usage plan")
