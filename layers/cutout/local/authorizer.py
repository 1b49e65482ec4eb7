"""Run the REQUEST authorizer and judge its policy as API Gateway does, cache included.

Identity source is the `x-api-key` header: without it the gateway answers 401 and never
calls the function. The returned policy is cached by the header value for the TTL (300 s
by default, as in the stack) and re-evaluated against each request's method ARN, so an
authorizer that allows only the first path it saw fails here as it would in AWS. The
stack's methods require an API key with `apiKeySource: AUTHORIZER`, so an Allow whose
`usageIdentifierKey` is missing, or is not an enabled API key of the stack's usage plan
(asked of moto's API Gateway on every request, as AWS checks it), is a 403 here as there.
The plan's per-key throttle is applied after that (`cutout.local.throttle`); quotas are not
emulated.
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from cutout.local import gateway_responses as responses
from cutout.local.events import authorizer_request_event
from cutout.local.throttle import KeyThrottle

IDENTITY_HEADER = "x-api-key"
DEFAULT_TTL_SECONDS = 300


@dataclass(frozen=True)
class _Verdict:
    principal_id: str
    statements: tuple[dict, ...]
    context: dict[str, Any]
    usage_key: str | None
    expires_at: float


class RequestAuthorizer:
    """Call the authorizer function (or its cached answer) and return the handler's context."""

    def __init__(
        self,
        invoke: Callable[[dict], Any],
        *,
        ttl_seconds: int = DEFAULT_TTL_SECONDS,
        require_usage_key: bool = True,
        in_usage_plan: Callable[[str], bool] | None = None,
        throttle: KeyThrottle | None = None,
        stage: str = "prod",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._invoke = invoke
        self._ttl = ttl_seconds
        self._require_usage_key = require_usage_key
        self._in_usage_plan = in_usage_plan
        self._throttle = throttle
        self._stage = stage
        self._clock = clock
        self._cache: dict[str, _Verdict] = {}
        self._lock = threading.Lock()

    def authorize(self, method: str, path: str, headers: Mapping[str, str]) -> dict[str, Any]:
        """`requestContext.authorizer` for an allowed request; raises `GatewayRefusal` else."""
        presented = _header(headers, IDENTITY_HEADER)
        if not presented:
            raise responses.unauthorized()
        event = authorizer_request_event(method, path, headers=dict(headers), stage=self._stage)
        verdict = self._verdict(presented, event)
        if not policy_allows(verdict.statements, event["methodArn"]):
            raise responses.access_denied(verdict.context.get("error_code"))
        if self._require_usage_key and not verdict.usage_key:
            raise responses.key_not_in_plan()
        if self._in_usage_plan is not None and not (
                verdict.usage_key and self._in_usage_plan(verdict.usage_key)):
            raise responses.key_not_in_plan()
        if self._throttle is not None and verdict.usage_key and not self._throttle.admit(
                verdict.usage_key):
            raise responses.throttled()
        return {**verdict.context, "principalId": verdict.principal_id, "integrationLatency": 0}

    def _verdict(self, presented: str, event: dict) -> _Verdict:
        # Cache by a hash of the key, so the gateway never holds key material in memory.
        cache_key = hashlib.sha256(presented.encode("utf-8")).hexdigest()
        now = self._clock()
        with self._lock:
            cached = self._cache.get(cache_key)
            if cached is not None and cached.expires_at > now:
                return cached
        try:
            answer = self._invoke(event)
        except Exception as error:
            # A function that raises "Unauthorized" is the documented way to ask for a 401.
            if str(error) == "Unauthorized":
                raise responses.unauthorized() from None
            raise responses.authorizer_misconfigured() from error
        verdict = _parse(answer, now + self._ttl)
        if self._ttl > 0:
            with self._lock:
                self._cache[cache_key] = verdict
        return verdict


def _parse(answer: Any, expires_at: float) -> _Verdict:
    if not isinstance(answer, dict) or not answer.get("principalId"):
        raise responses.authorizer_misconfigured()
    document = answer.get("policyDocument")
    if not isinstance(document, dict):
        raise responses.authorizer_misconfigured()
    statements = document.get("Statement")
    if isinstance(statements, dict):
        statements = [statements]
    if not isinstance(statements, list) or not all(isinstance(s, dict) for s in statements):
        raise responses.authorizer_misconfigured()
    return _Verdict(
        principal_id=str(answer["principalId"]),
        statements=tuple(statements),
        context=_stringified(answer.get("context") or {}),
        usage_key=answer.get("usageIdentifierKey") or None,
        expires_at=expires_at,
    )


def _stringified(context: Any) -> dict[str, Any]:
    """API Gateway hands context values to the handler as strings; objects are an error."""
    if not isinstance(context, dict):
        raise responses.authorizer_misconfigured()
    values: dict[str, Any] = {}
    for key, value in context.items():
        if value is None:
            values[key] = None
        elif isinstance(value, bool):
            values[key] = "true" if value else "false"
        elif isinstance(value, str | int | float):
            values[key] = str(value)
        else:
            raise responses.authorizer_misconfigured()
    return values


def policy_allows(statements: tuple[dict, ...] | list[dict], method_arn: str) -> bool:
    """True if some statement allows `execute-api:Invoke` on the ARN and none denies it."""
    allowed = False
    for statement in statements:
        # Action names are case-insensitive in IAM; resources (ARNs with paths) are not.
        if not (_matches_any(statement.get("Action"), "execute-api:Invoke", ignore_case=True)
                and _matches_any(statement.get("Resource"), method_arn)):
            continue
        effect = str(statement.get("Effect", "")).lower()
        if effect == "deny":
            return False
        if effect == "allow":
            allowed = True
    return allowed


def _matches_any(patterns: Any, value: str, *, ignore_case: bool = False) -> bool:
    if isinstance(patterns, str):
        patterns = [patterns]
    if not isinstance(patterns, list):
        return False
    return any(
        isinstance(p, str) and _wildcard(p, ignore_case).fullmatch(value) for p in patterns
    )


def _wildcard(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    # IAM-style: '*' any run of characters (slashes included), '?' one character.
    parts = (".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile("".join(parts), re.IGNORECASE if ignore_case else 0)


def _header(headers: Mapping[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None
