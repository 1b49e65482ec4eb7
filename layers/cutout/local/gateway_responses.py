"""The answers API Gateway gives on its own (no handler ran), raised by the local gateway.

Each refusal names its API Gateway response type; its body is rendered from the very
template the stack deploys for that type (`cutout.api.gateway_templates`), with `airspeed`
and a `$context` carrying the fields API Gateway substitutes (`requestId`, `error.message`,
`error.messageString`, `error.responseType`, `authorizer.*`). The templates hold no Velocity
directive (AWS substitutes variables in gateway responses and runs no VTL), so airspeed's
rendering is exactly that substitution. Each body carries our `error` and remove.bg's
`errors` side by side, here as in AWS.

What this rendering cannot show: which `$context` fields API Gateway fills for each
response type, and how it writes a reference it has no value for; the local `$context`
always has every field the templates name.
"""

from __future__ import annotations

import json
from typing import Any

import airspeed

from cutout.api.gateway_errors import gateway_error
from cutout.api.gateway_templates import BODY_TEMPLATES

_COMPILED: dict[str, airspeed.Template] = {}


class GatewayRefusal(Exception):
    """The gateway answers this request itself, as the stack's `response_type` response."""

    def __init__(self, response_type: str, status: int | None = None,
                 message: str | None = None, reason: str | None = None) -> None:
        error = gateway_error(response_type)
        self.response_type = response_type
        self.code = error.code  # our code (the native routes' body)
        chosen = status if status is not None else error.status
        assert chosen is not None, f"{response_type} needs a status"
        self.status: int = chosen
        # API Gateway's own explanation ($context.error.message): what a DEFAULT_* template
        # shows; for the others the template carries the message.
        self.message = message or error.message or ""
        super().__init__(self.message)
        self.reason = reason or ""  # ACCESS_DENIED: the authorizer's error_code context value

    @classmethod
    def of(cls, response_type: str, reason: str | None = None) -> GatewayRefusal:
        """The refusal the stack's gateway response of `response_type` gives."""
        return cls(response_type, reason=reason)

    def body(self, request_id: str) -> bytes:
        """The body the stack's template for this response type gives (the same on every
        route: the template has no branch)."""
        return render_template(BODY_TEMPLATES[self.response_type],
                               gateway_context(self, request_id)).encode("utf-8")


def gateway_context(refusal: GatewayRefusal, request_id: str) -> dict[str, Any]:
    """`$context` as API Gateway fills it for a gateway response (the fields we use)."""
    return {
        "requestId": request_id,
        "error": {"message": refusal.message,
                  "messageString": json.dumps(refusal.message),
                  "responseType": refusal.response_type},
        "authorizer": {"error_code": refusal.reason},
    }


def render_template(template: str, context: dict[str, Any]) -> str:
    """A gateway response template with `$context`'s values substituted (airspeed)."""
    compiled = _COMPILED.get(template)
    if compiled is None:
        compiled = _COMPILED[template] = airspeed.Template(template)
    return compiled.merge({"context": context})


def unauthorized() -> GatewayRefusal:
    """No `x-api-key` header (the gateway answers without calling the authorizer), or the
    authorizer raised "Unauthorized": one response type, UNAUTHORIZED."""
    return GatewayRefusal.of("UNAUTHORIZED")


def access_denied(error_code: str | None = None) -> GatewayRefusal:
    """A Deny: code `forbidden`, and the authorizer's `error_code` context value as `reason`.

    That is what the stack's ACCESS_DENIED template (`$context.authorizer.error_code`)
    makes of it on a native route; the remove.bg route answers `auth_failed` whatever it is.
    """
    reason = error_code if error_code and error_code.replace("_", "").isalnum() else ""
    return GatewayRefusal.of("ACCESS_DENIED", reason)


def key_not_in_plan() -> GatewayRefusal:
    """An Allow whose `usageIdentifierKey` is in no usage plan of the stage."""
    return GatewayRefusal.of("INVALID_API_KEY")


def throttled() -> GatewayRefusal:
    """Over the usage plan's per-key throttle (THROTTLED, 429 with `Retry-After`)."""
    return GatewayRefusal.of("THROTTLED")


def no_route() -> GatewayRefusal:
    """A path or method the API does not have (MISSING_AUTHENTICATION_TOKEN), before any
    authorizer runs."""
    return GatewayRefusal.of("MISSING_AUTHENTICATION_TOKEN")


def request_too_large() -> GatewayRefusal:
    return GatewayRefusal.of("REQUEST_TOO_LARGE")


def invocation_too_large() -> GatewayRefusal:
    # In AWS Lambda refuses the invoke and API Gateway answers 413 REQUEST_TOO_LARGE: the
    # same template (its message names the 10 MB limit, the one API Gateway states).
    return GatewayRefusal.of("REQUEST_TOO_LARGE")


def authorizer_misconfigured() -> GatewayRefusal:
    """The authorizer raised or answered a malformed policy: API Gateway's
    AUTHORIZER_CONFIGURATION_ERROR, answered 503 with `Retry-After` by the stack."""
    return GatewayRefusal.of("AUTHORIZER_CONFIGURATION_ERROR")


def bad_lambda_response(reason: str) -> GatewayRefusal:
    # A function error, a malformed proxy answer or one over 6 MB: API Gateway's 502.
    # API Gateway's message is "Internal server error"; the reason is a local aid.
    return GatewayRefusal("DEFAULT_5XX", 502, f"Internal server error ({reason})")


def http_refusal(status: int, message: str) -> GatewayRefusal:
    """A refusal of the HTTP layer itself (a malformed chunk, a request line too long):
    API Gateway's DEFAULT_4XX (DEFAULT_5XX for a 5xx), or REQUEST_TOO_LARGE for a 413."""
    if status == 413:
        return request_too_large()
    return GatewayRefusal("DEFAULT_5XX" if status >= 500 else "DEFAULT_4XX", status, message)
