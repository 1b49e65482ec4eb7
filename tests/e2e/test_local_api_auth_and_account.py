"""The local API's front door and account page, over real HTTP (requests and curl)."""

from __future__ import annotations

import json
import subprocess

import pytest
import requests


def test_a_request_without_a_key_is_refused_401_in_our_error_shape(local_api):
    # Given the local API
    # When a client calls it without an x-api-key header
    response = requests.get(f"{local_api.base_url}/v1/account", timeout=30)
    # Then the gateway answers 401 itself, as our JSON error with a request id
    assert response.status_code == 401
    error = response.json()["error"]
    assert error["code"] == "unauthorized"
    assert error["request_id"] == response.headers["x-amzn-RequestId"]
    assert response.headers["X-Request-Id"] == error["request_id"]
    assert response.headers["Cache-Control"] == "no-store"


def test_an_unknown_key_is_refused_403(local_api):
    # Given a key the stack never issued
    headers = {"x-api-key": "co_live_not-a-key-anyone-was-given"}
    # When it is presented
    response = requests.get(f"{local_api.base_url}/v1/account", headers=headers, timeout=30)
    # Then the authorizer's Deny becomes a 403 in our error shape, naming why
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"
    assert response.json()["error"]["reason"] == "invalid_api_key"


def test_curl_without_a_key_gets_401_and_with_a_wrong_key_403(local_api):
    # Given curl, the client the README shows
    url = f"{local_api.base_url}/v1/account"
    # When it calls without a key, then with a wrong one
    missing = _curl_status(url)
    wrong = _curl_status(url, "-H", "x-api-key: wrong-key")
    # Then it sees the same answers as any other client
    assert (missing, wrong) == (401, 403)


@pytest.mark.parametrize("method, path", [
    ("GET", "/v1/nowhere"), ("DELETE", "/v1/account"), ("TRACE", "/v1/account"),
    ("PATCH", "/v1.0/removebg"), ("GET", "/")])
def test_an_unknown_route_or_method_gets_route_not_found_in_our_error_shape(local_api, method,
                                                                             path):
    # Given a valid key
    headers = {"x-api-key": local_api.api_key}
    # When it calls a path or a method the API does not have (TRACE included)
    response = requests.request(method, f"{local_api.base_url}{path}", headers=headers,
                                timeout=30)
    # Then, as the stack's MISSING_AUTHENTICATION_TOKEN gateway response does: a JSON 404
    # with a stable code (never a 501 HTML page, never remove.bg's shape)
    assert response.status_code == 404
    assert response.headers["Content-Type"] == "application/json"
    assert response.json()["error"]["code"] == "route_not_found"


def test_the_account_page_shows_the_demo_account_with_training_off(local_api):
    # Given the demo key the server was started with
    headers = {"x-api-key": local_api.api_key}
    # When the account is read
    response = requests.get(f"{local_api.base_url}/v1/account", headers=headers, timeout=30)
    # Then it is the demo account, and training is off by default
    assert response.status_code == 200
    account = response.json()
    assert account["account_id"] == "demo"
    assert account["training_opt_in"] is False


def test_training_opt_in_changes_only_by_an_explicit_put_and_records_who(local_api):
    # Given the demo account with training off
    url = f"{local_api.base_url}/v1/account"
    headers = {"x-api-key": local_api.api_key}
    # When the owner switches it on with an explicit call
    switched = requests.put(f"{url}/training-opt-in", headers=headers,
                            json={"opt_in": True}, timeout=30)
    after_on = requests.get(url, headers=headers, timeout=30).json()
    # and then off again
    switched_off = requests.put(f"{url}/training-opt-in", headers=headers,
                                json={"opt_in": False}, timeout=30)
    after_off = requests.get(url, headers=headers, timeout=30).json()
    # Then each change is visible, with when and by which key (its visible prefix only)
    assert switched.status_code == 200 and switched_off.status_code == 200
    assert after_on["training_opt_in"] is True
    assert after_on["training_opt_in_changed_at"]
    assert local_api.api_key.startswith(after_on["training_opt_in_changed_by"])
    assert after_on["training_opt_in_changed_by"] != local_api.api_key
    assert after_off["training_opt_in"] is False


def test_an_opt_in_that_is_not_a_json_boolean_is_refused_400(local_api):
    # Given the demo key
    headers = {"x-api-key": local_api.api_key, "Content-Type": "application/json"}
    # When the opt-in is sent as a string that merely looks like a boolean
    response = requests.put(f"{local_api.base_url}/v1/account/training-opt-in", headers=headers,
                            data=json.dumps({"opt_in": "true"}), timeout=30)
    # Then the handler refuses it and nothing changes
    assert response.status_code == 400
    account = requests.get(f"{local_api.base_url}/v1/account",
                           headers={"x-api-key": local_api.api_key}, timeout=30).json()
    assert account["training_opt_in"] is False


def _curl_status(url: str, *args: str) -> int:
    done = subprocess.run(
        ["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", *args, url],
        capture_output=True, text=True, timeout=60, check=True,
    )
    return int(done.stdout)
