"""API Gateway usage-plan keys: the authorizer's `usageIdentifierKey` (the key's sha256) must
exist as an API key value in the usage plan for per-key throttling to apply."""

from __future__ import annotations

from typing import Any

KEY_NAME_PREFIX = "cutout-"


class UsagePlanKeys:
    """Create, attach and disable the API Gateway API key that mirrors one of our keys."""

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
