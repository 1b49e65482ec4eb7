"""The local gateway's AWS rules, checked without a process: policy, cache, context, answers.

These are what make "works locally" mean "works on API Gateway": an authorizer whose policy
names only the first path fails on the second path while cached, context values arrive as
strings, and the proxy answer is translated as API Gateway does.
"""

from __future__ import annotations

import base64
import json
import time

import pytest

from cutout.local.authorizer import RequestAuthorizer, policy_allows
from cutout.local.gateway import LocalGateway, translate_proxy_answer
from cutout.local.gateway_responses import GatewayRefusal
from cutout.local.presign_check import SignatureVerifier

ARN = "arn:aws:execute-api:us-east-1:123456789012:local/prod"


def _allow(resource: str, context: dict | None = None, usage_key: str | None = "hash"):
    answer = {
        "principalId": "acct",
        "policyDocument": {"Version": "2012-10-17", "Statement": [
            {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": resource}]},
        "context": context or {"account_id": "acct"},
    }
    if usage_key:
        answer["usageIdentifierKey"] = usage_key
    return answer


class _Counting:
    def __init__(self, answer):
        self.answer, self.calls = answer, 0

    def __call__(self, event):
        self.calls += 1
        return self.answer(event) if callable(self.answer) else self.answer


def test_a_cached_policy_for_one_path_denies_the_next_path_as_api_gateway_does():
    # Given an authorizer that allows only the exact method ARN it was asked about
    authorizer_function = _Counting(lambda event: _allow(event["methodArn"]))
    authorizer = RequestAuthorizer(authorizer_function, ttl_seconds=300)
    headers = {"x-api-key": "k"}
    # When the same key calls a first path, then another within the cache TTL
    authorizer.authorize("GET", "/v1/account", headers)
    with pytest.raises(GatewayRefusal) as refused:
        authorizer.authorize("POST", "/v1/uploads", headers)
    # Then the cached policy is reused (one call) and the second path is denied 403
    assert authorizer_function.calls == 1
    assert refused.value.status == 403


def test_a_wildcard_policy_is_cached_and_holds_on_every_path():
    # Given an authorizer that allows the whole stage
    authorizer_function = _Counting(_allow(f"{ARN}/*/*"))
    authorizer = RequestAuthorizer(authorizer_function, ttl_seconds=300)
    # When two paths are called with the same key
    first = authorizer.authorize("GET", "/v1/account", {"x-api-key": "k"})
    authorizer.authorize("POST", "/v1/uploads", {"X-Api-Key": "k"})
    # Then both pass with one authorizer call, and the context reaches the handler
    assert authorizer_function.calls == 1
    assert first["account_id"] == "acct" and first["principalId"] == "acct"


def test_a_missing_key_is_401_without_calling_the_authorizer():
    # Given an authorizer function
    authorizer_function = _Counting(_allow(f"{ARN}/*/*"))
    # When a request has no x-api-key header
    with pytest.raises(GatewayRefusal) as refused:
        RequestAuthorizer(authorizer_function).authorize("GET", "/v1/account", {})
    # Then the gateway answers 401 itself
    assert refused.value.status == 401
    assert authorizer_function.calls == 0


def test_context_values_arrive_as_strings_and_objects_are_a_configuration_error():
    # Given authorizers returning a number and a boolean, and one returning an object
    flat = RequestAuthorizer(_Counting(_allow(f"{ARN}/*/*", {"n": 1, "b": True})))
    nested = RequestAuthorizer(_Counting(_allow(f"{ARN}/*/*", {"o": {"x": 1}})))
    # When each authorizes a request
    context = flat.authorize("GET", "/v1/account", {"x-api-key": "k"})
    with pytest.raises(GatewayRefusal) as refused:
        nested.authorize("GET", "/v1/account", {"x-api-key": "k"})
    # Then values are stringified as API Gateway does, and an object is an
    # AUTHORIZER_CONFIGURATION_ERROR (the stack answers it 503 with Retry-After)
    assert (context["n"], context["b"]) == ("1", "true")
    assert (refused.value.status, refused.value.code) == (503, "service_unavailable")


def test_an_allow_without_a_usage_identifier_key_is_403_with_api_keys_required():
    # Given an Allow that names no usage-plan key (apiKeySource AUTHORIZER needs one)
    authorizer = RequestAuthorizer(_Counting(_allow(f"{ARN}/*/*", usage_key=None)))
    # When it authorizes a request
    with pytest.raises(GatewayRefusal) as refused:
        authorizer.authorize("GET", "/v1/account", {"x-api-key": "k"})
    # Then the method's API-key requirement refuses it
    assert refused.value.status == 403


def test_an_explicit_deny_wins_over_an_allow():
    # Given a policy with an Allow on everything and a Deny on uploads
    statements = [
        {"Action": "execute-api:*", "Effect": "Allow", "Resource": f"{ARN}/*"},
        {"Action": "execute-api:Invoke", "Effect": "Deny", "Resource": f"{ARN}/POST/v1/uploads"},
    ]
    # Then uploads are denied and the account allowed
    assert not policy_allows(statements, f"{ARN}/POST/v1/uploads")
    assert policy_allows(statements, f"{ARN}/GET/v1/account")


def test_the_proxy_answer_is_translated_with_base64_bodies_and_multi_value_headers():
    # Given a binary proxy answer with both header forms
    answer = {"statusCode": 200, "isBase64Encoded": True,
              "body": base64.b64encode(b"\x89PNG").decode(),
              "headers": {"Content-Type": "image/png", "X-One": "a"},
              "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"], "X-One": ["b"]}}
    # When it is translated
    http = translate_proxy_answer(answer)
    # Then the bytes are decoded and multi-value headers win over single ones
    assert http.body == b"\x89PNG"
    assert ("Set-Cookie", "a=1") in http.headers and ("Set-Cookie", "b=2") in http.headers
    assert ("X-One", "b") in http.headers and ("X-One", "a") not in http.headers


def test_a_function_error_or_an_oversized_answer_is_a_502_in_our_error_shape():
    # Given a gateway whose function fails, and an answer over Lambda's 6 MB
    authorizer = RequestAuthorizer(_Counting(_allow(f"{ARN}/*/*")))

    def failing(event):
        raise RuntimeError("boom")

    gateway = LocalGateway(authorizer, {"account": failing})
    huge = {"statusCode": 200, "body": "x" * (6 * 1024 * 1024 + 1)}
    # When a request reaches it
    answer = gateway.handle("GET", "/v1/account", [("x-api-key", "k")], None)
    # Then both are API Gateway's 502, never a stack trace to the client
    assert answer.status == 502
    assert json.loads(answer.body)["error"]["code"] == "internal_error"
    assert b"boom" not in answer.body
    with pytest.raises(GatewayRefusal) as refused:
        translate_proxy_answer(huge)
    assert refused.value.status == 502


def test_the_handler_gets_a_rest_proxy_event_with_a_base64_body_and_the_context():
    # Given a gateway whose account function records its event
    seen = []
    authorizer = RequestAuthorizer(_Counting(_allow(f"{ARN}/*/*")))
    gateway = LocalGateway(authorizer, {"account": lambda e: seen.append(e) or {"statusCode": 200}})
    # When a PUT with a JSON body and a query string arrives
    gateway.handle("PUT", "/v1/account/training-opt-in?x=1",
                   [("x-api-key", "k"), ("Content-Type", "application/json")], b'{"opt_in":true}')
    # Then the event is API Gateway's shape: base64 body, query, authorizer context
    event = seen[0]
    assert event["httpMethod"] == "PUT" and event["path"] == "/v1/account/training-opt-in"
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == b'{"opt_in":true}'
    assert event["queryStringParameters"] == {"x": "1"}
    assert event["requestContext"]["authorizer"]["account_id"] == "acct"


def test_a_presigned_url_is_refused_after_its_lifetime_and_when_moved():
    # Given a verifier with a clock we control and a request signed by botocore
    import boto3
    from botocore.config import Config

    s3 = boto3.client("s3", endpoint_url="http://127.0.0.1:9", region_name="us-east-1",
                      aws_access_key_id="AKIATEST", aws_secret_access_key="secret",
                      config=Config(signature_version="s3v4", s3={"addressing_style": "path"}))
    url = s3.generate_presigned_url("get_object", Params={"Bucket": "b", "Key": "k/1"},
                                    ExpiresIn=60)
    now = [time.time()]
    verifier = SignatureVerifier("AKIATEST", "secret", clock=lambda: now[0])

    def environ(target: str) -> dict:
        path, _, query = target.partition("?")
        return {"REQUEST_METHOD": "GET", "RAW_URI": target, "PATH_INFO": path,
                "QUERY_STRING": query, "HTTP_HOST": "127.0.0.1:9"}

    target = url.split("127.0.0.1:9", 1)[1]
    # When it is checked now, moved to another key, and after its lifetime
    fresh = verifier.refusal(environ(target))
    moved = verifier.refusal(environ(target.replace("/k/1", "/k/2")))
    now[0] += 61
    late = verifier.refusal(environ(target))
    # Then only the fresh, unmoved request passes
    assert fresh is None
    assert moved[0] == "SignatureDoesNotMatch"
    assert late == ("AccessDenied", "Request has expired")
