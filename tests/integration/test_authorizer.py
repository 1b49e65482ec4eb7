"""The REQUEST authorizer: only live keys get in, and they get in as their own account."""

from __future__ import annotations

import hashlib

import pytest
from integration_support import LocalContext, assert_no_secrets

from cutout.local.events import ApiOrigin, authorizer_request_event


def authorize(handlers, headers):
    event = authorizer_request_event("POST", "/v1/remove-background", headers=headers,
                                     origin=ApiOrigin(api_id="abc123"), stage="prod")
    return handlers["authorizer"](event, LocalContext())


def test_a_live_key_is_allowed_as_its_account_on_every_path(handlers, caller):
    # Given an account with a live key
    # When the authorizer sees the key
    decision = authorize(handlers, {"x-api-key": caller.secret})
    # Then it allows every method and path of the stage (cached results work everywhere)
    statement = decision["policyDocument"]["Statement"][0]
    assert statement["Effect"] == "Allow"
    assert statement["Resource"] == ["arn:aws:execute-api:us-east-1:123456789012:abc123/prod/*/*"]
    # And names the account, the visible prefix, the key's scope and the usage-plan key (the
    # key's sha256)
    assert decision["principalId"] == caller.account_id
    assert decision["context"] == {"account_id": caller.account_id,
                                   "key_prefix": caller.key_prefix, "key_scope": "admin"}
    assert decision["usageIdentifierKey"] == hashlib.sha256(caller.secret.encode()).hexdigest()


def test_the_header_name_is_case_insensitive(handlers, caller):
    decision = authorize(handlers, {"X-API-Key": caller.secret})
    assert decision["policyDocument"]["Statement"][0]["Effect"] == "Allow"


def test_an_unknown_key_is_denied(handlers, caller):
    # Given a key that looks right but was never issued
    forged = caller.secret[:-4] + "AAAA"
    # When / Then the authorizer denies it, and puts nothing of an account in the context
    decision = authorize(handlers, {"x-api-key": forged})
    assert decision["policyDocument"]["Statement"][0]["Effect"] == "Deny"
    assert decision["context"] == {"error_code": "invalid_api_key"}
    assert "usageIdentifierKey" not in decision


def test_a_revoked_key_is_denied(handlers, accounts, caller):
    # Given a key that was revoked
    accounts.revoke_key(caller.account_id, caller.key_prefix)
    # When / Then it is denied at once (strongly consistent read)
    decision = authorize(handlers, {"x-api-key": caller.secret})
    assert decision["policyDocument"]["Statement"][0]["Effect"] == "Deny"
    assert decision["context"] == {"error_code": "revoked_api_key"}


def test_a_missing_key_is_answered_401_by_the_gateway(handlers):
    # Given no x-api-key header, When the authorizer runs, Then it raises API Gateway's 401 signal
    with pytest.raises(Exception, match="^Unauthorized$"):
        authorize(handlers, {})


def test_other_keys_of_the_account_survive_a_revocation(handlers, accounts, caller):
    # Given a second key of the same account
    second, _ = accounts.issue_key(caller.account_id)
    # When the first is revoked
    accounts.revoke_key(caller.account_id, caller.key_prefix)
    # Then the second still gets in
    decision = authorize(handlers, {"x-api-key": second.secret})
    assert decision["policyDocument"]["Statement"][0]["Effect"] == "Allow"


def test_gateway_answers_401_403_in_the_error_shape(gateway, caller):
    missing = gateway.request("GET", "/v1/account")
    unknown = gateway.request("GET", "/v1/account", key="co_live_not-a-key")
    assert (missing.status, unknown.status) == (401, 403)
    assert unknown.json()["error"]["code"] == "forbidden"
    assert unknown.json()["error"]["reason"] == "invalid_api_key"


def test_the_authorizer_never_logs_the_key(handlers, logs, caller):
    # Given allowed, unknown and missing keys
    authorize(handlers, {"x-api-key": caller.secret})
    authorize(handlers, {"x-api-key": caller.secret + "x"})
    with pytest.raises(Exception, match="Unauthorized"):
        authorize(handlers, {})
    # Then the logs and metrics carry no key, only the visible prefix at most
    text = logs.text()
    assert "api key accepted" in text
    assert_no_secrets(text, caller.secret, caller.key_hash)
