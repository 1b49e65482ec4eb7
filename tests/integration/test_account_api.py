"""GET /v1/account and PUT /v1/account/training-opt-in through the gateway."""

from __future__ import annotations

import pytest


def test_a_new_account_is_not_opted_in(gateway, caller):
    # Given a new account, When it reads its account page
    answer = gateway.request("GET", "/v1/account", key=caller.secret)
    # Then training opt-in is off and has never been changed
    assert answer.status == 200
    assert answer.json() == {
        "account_id": caller.account_id,
        "created_at": answer.json()["created_at"],
        "training_opt_in": False,
        "training_opt_in_changed_at": None,
        "training_opt_in_changed_by": None,
        "training_erasure": None,
        "usage": {"month": answer.json()["usage"]["month"], "requests": 0,
                  "megapixels": 0.0, "days": []},
    }
    assert answer.headers["Cache-Control"] == "no-store"
    assert answer.headers["X-Request-Id"]


def test_opting_in_records_when_and_by_which_key(gateway, accounts, caller):
    # When the account opts in
    answer = gateway.request("PUT", "/v1/account/training-opt-in", key=caller.secret,
                             headers={"Content-Type": "application/json"},
                             body='{"opt_in": true}')
    # Then the switch is on, with the time and the key prefix that flipped it
    assert answer.status == 200
    body = answer.json()
    assert body["training_opt_in"] is True
    assert body["training_opt_in_changed_by"] == caller.key_prefix
    assert body["training_opt_in_changed_at"].endswith("Z")
    # And the page shows the same, and the change is in the history
    page = gateway.request("GET", "/v1/account", key=caller.secret).json()
    assert page["training_opt_in"] is True
    history = accounts.opt_in_history(caller.account_id)
    assert [(c.opt_in, c.changed_by) for c in history] == [(True, caller.key_prefix)]


def test_every_change_is_recorded_and_repeats_are_not_changes(gateway, accounts, caller):
    for value in ("true", "true", "false", "true"):
        answer = gateway.request("PUT", "/v1/account/training-opt-in", key=caller.secret,
                                 headers={"Content-Type": "application/json"},
                                 body=f'{{"opt_in": {value}}}')
        assert answer.status == 200
    history = accounts.opt_in_history(caller.account_id)
    assert [c.opt_in for c in history] == [True, False, True]
    assert history == sorted(history, key=lambda c: c.changed_at)


@pytest.mark.parametrize("body", ['{"opt_in": "yes"}', '{"opt_in": 1}', "{}", "[true]",
                                  "not json", ""])
def test_an_opt_in_that_is_not_a_json_boolean_is_refused(gateway, caller, body):
    answer = gateway.request("PUT", "/v1/account/training-opt-in", key=caller.secret,
                             headers={"Content-Type": "application/json"}, body=body)
    assert answer.status == 400
    error = answer.json()["error"]
    assert error["code"] == "invalid_request"
    assert error["request_id"] == answer.headers["X-Request-Id"]
    # And nothing changed
    assert gateway.request("GET", "/v1/account", key=caller.secret).json()["training_opt_in"] \
        is False


def test_one_account_cannot_see_or_change_another(gateway, caller, other_caller):
    # When the other account opts in
    gateway.request("PUT", "/v1/account/training-opt-in", key=other_caller.secret,
                    body='{"opt_in": true}', headers={"Content-Type": "application/json"})
    # Then the first account's page is its own and unchanged
    page = gateway.request("GET", "/v1/account", key=caller.secret).json()
    assert page["account_id"] == caller.account_id
    assert page["training_opt_in"] is False


def test_an_unknown_route_is_a_json_404(gateway, caller, handlers):
    from integration_support import LocalContext, answer_of

    from cutout.local.events import proxy_event

    event = proxy_event("GET", "/v1/nothing-here",
                        authorizer={"account_id": caller.account_id, "key_prefix": "x"})
    answer = answer_of(handlers["account"](event, LocalContext()))
    assert answer.status == 404
    assert answer.json()["error"]["code"] == "route_not_found"


def test_a_request_without_authorizer_context_is_refused(handlers):
    # A misconfigured integration (no authorizer) must not run as anybody
    from integration_support import LocalContext, answer_of

    from cutout.local.events import proxy_event

    answer = answer_of(handlers["account"](proxy_event("GET", "/v1/account"), LocalContext()))
    assert answer.status == 401
    assert answer.json()["error"]["code"] == "unauthorized"


def test_a_server_fault_is_a_500_with_the_request_id_and_no_trace(aws, settings, logs):
    # Given an account handler whose table does not exist (a broken deployment)
    from integration_support import LocalContext, answer_of, load_function

    from cutout.data.accounts import AccountStore
    from cutout.local.events import proxy_event
    from cutout.service.accounts import AccountService

    broken = AccountService(AccountStore.from_table_name("no-such-table"))
    handler = load_function("account").make_handler(broken, settings=settings)
    event = proxy_event("GET", "/v1/account", authorizer={"account_id": "acct_x",
                                                          "key_prefix": "co_live_x"})
    # When a client reads its account
    answer = answer_of(handler(event, LocalContext()))
    # Then it gets our 500 shape with the request id, and no stack trace
    assert answer.status == 500
    error = answer.json()["error"]
    assert error["code"] == "internal_error"
    assert error["request_id"] == event["requestContext"]["requestId"]
    assert "Traceback" not in answer.body.decode()
    assert "ResourceNotFound" not in answer.body.decode()
    # While our own logs have what an operator needs
    assert "unexpected error" in logs.text()


def opt_in_put(gateway, secret: str, value: bool):
    return gateway.request("PUT", "/v1/account/training-opt-in", key=secret,
                           headers={"Content-Type": "application/json"},
                           body='{"opt_in": %s}' % ("true" if value else "false"))


def test_only_an_admin_key_turns_training_on_and_any_key_turns_it_off(gateway, accounts, logs):
    from integration_support import new_caller

    # Given an account's owner (an admin key) and the key baked into its application (use)
    owner = new_caller(accounts, scope="admin")
    app_key, _ = accounts.issue_key(owner.account_id, scope="use")
    # When the application's key tries to turn training on, Then it is refused, nothing changes
    refused = opt_in_put(gateway, app_key.secret, True)
    assert refused.status == 403
    assert refused.json()["error"]["code"] == "admin_key_required"
    assert "--scope admin" in refused.json()["error"]["message"]
    assert accounts.get_account(owner.account_id).opt_in is False
    # When the owner turns it on, Then it is on, and the metric the alarm watches is counted
    assert opt_in_put(gateway, owner.secret, True).status == 200
    assert '"TrainingOptInEnabled":[1.0]' in logs.text()
    # When the application's key turns it off, Then that works
    assert opt_in_put(gateway, app_key.secret, False).status == 200
    # And every change is recorded with the key prefix that made it
    history = accounts.opt_in_history(owner.account_id)
    assert [(c.opt_in, c.changed_by) for c in history] == [
        (True, owner.key_prefix), (False, app_key.key_prefix)]


def test_a_key_from_before_scopes_counts_as_a_use_key(gateway, accounts, stores, settings):
    import boto3
    from integration_support import REGION, new_caller

    # Given a key stored before scopes existed (no scope attribute)
    caller = new_caller(accounts, scope="admin")
    table = boto3.resource("dynamodb", region_name=REGION).Table(settings.accounts_table)
    table.update_item(Key={"pk": f"KEY#{caller.key_hash}", "sk": "KEY"},
                      UpdateExpression="REMOVE #s", ExpressionAttributeNames={"#s": "scope"})
    # When / Then it cannot turn training on, but can turn it off
    assert opt_in_put(gateway, caller.secret, True).status == 403
    assert opt_in_put(gateway, caller.secret, False).status == 200


def test_a_revoked_key_whose_allow_is_still_cached_is_told_it_was_revoked(handlers, accounts,
                                                                          caller):
    import json

    from integration_support import LocalContext

    from cutout.local.authorizer import RequestAuthorizer
    from cutout.local.gateway_responses import GatewayRefusal

    # Given a gateway whose authorizer cache holds the key's Allow, and a usage plan that
    # admits the key until `cutout keys revoke` disables it there
    disabled: set[str] = set()
    gateway = RequestAuthorizer(
        lambda event: handlers["authorizer"](event, LocalContext()),
        in_usage_plan=lambda usage_key: usage_key not in disabled)
    assert gateway.authorize("GET", "/v1/account", {"x-api-key": caller.secret})
    # When the key is revoked (the record, and its usage-plan key disabled)
    accounts.revoke_key(caller.account_id, caller.key_prefix)
    disabled.add(caller.key_hash)
    # Then the next request is refused 403 with the reason a revoked key gets, not "issue it
    # again"
    with pytest.raises(GatewayRefusal) as refusal:
        gateway.authorize("GET", "/v1/account", {"x-api-key": caller.secret})
    body = json.loads(refusal.value.body("req-1"))["error"]
    assert refusal.value.status == 403
    assert body["code"] == "forbidden" and body["reason"] == "revoked_api_key"
    assert "issue it again" not in body["message"]
