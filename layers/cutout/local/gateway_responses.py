"""The answers API Gateway gives on its own (no handler ran), raised by the local gateway.

Statuses, codes and messages come from `cutout.api.gateway_errors`, the table the stack's
gateway responses are built from; one place renders them (`GatewayRefusal.body`).
"""

from __future__ import annotations

import json

from cutout.api.gateway_errors import gateway_error


class GatewayRefusal(Exception):
    """The gateway answers this request itself, with `status` and our error body."""

    def __init__(self, status: int, code: str, message: str, reason: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.reason = reason  # ACCESS_DENIED only: the authorizer's error_code, or ""

    @classmethod
    def of(cls, response_type: str, reason: str | None = None) -> GatewayRefusal:
        """The refusal the stack's gateway response of `response_type` gives."""
        error = gateway_error(response_type)
        assert error.status is not None and error.message is not None  # not a DEFAULT_*
        return cls(error.status, error.code, error.message,
                   reason if reason is not None else error.reason)

    def body(self, request_id: str) -> bytes:
        """`{"error": {"code", "message", "request_id"}}`, as the handlers answer errors."""
        error = {"code": self.code, "message": self.message, "request_id": request_id}
        if self.reason is not None:
            error["reason"] = self.reason
        return json.dumps({"error": error}).encode("utf-8")


def missing_key() -> GatewayRefusal:
    """No `x-api-key` header: the gateway answers without calling the authorizer."""
    return GatewayRefusal.of("UNAUTHORIZED")


def unauthorized() -> GatewayRefusal:
    """The authorizer raised "Unauthorized"."""
    return GatewayRefusal.of("UNAUTHORIZED")



def access_denied(error_code: str | None = None) -> GatewayRefusal:
    """A Deny: code `forbidden`, and the authorizer's `error_code` context value as `reason`.

    That is what the stack's ACCESS_DENIED template (`$context.authorizer.error_code`)
    makes of it in AWS, where a template can substitute a value but not choose the code.
    """
    reason = error_code if error_code and error_code.replace("_", "").isalnum() else ""
    return GatewayRefusal.of("ACCESS_DENIED", reason)


def key_not_in_plan() -> GatewayRefusal:
    """An Allow whose `usageIdentifierKey` is in no usage plan of the stage."""
    return GatewayRefusal.of("INVALID_API_KEY")


def no_route(method: str, path: str) -> GatewayRefusal:
    """A path or method the API does not have (MISSING_AUTHENTICATION_TOKEN), before any
    authorizer runs."""
    return GatewayRefusal.of("MISSING_AUTHENTICATION_TOKEN")


def request_too_large() -> GatewayRefusal:
    return GatewayRefusal.of("REQUEST_TOO_LARGE")


def invocation_too_large() -> GatewayRefusal:
    # In AWS Lambda refuses the invoke and API Gateway answers 413 REQUEST_TOO_LARGE.
    return GatewayRefusal(
        413, "image_too_large",
        "The request is over Lambda's 6 MB payload once base64-encoded; "
        "upload large images with POST /v1/uploads.",
    )


def authorizer_misconfigured() -> GatewayRefusal:
    """The authorizer raised or answered a malformed policy: API Gateway's
    AUTHORIZER_CONFIGURATION_ERROR, answered 503 with `Retry-After` by the stack."""
    return GatewayRefusal.of("AUTHORIZER_CONFIGURATION_ERROR")


def bad_lambda_response(reason: str) -> GatewayRefusal:
    # A function error, a malformed proxy answer or one over 6 MB: API Gateway's 502.
    return GatewayRefusal(502, "internal_error", f"Internal server error ({reason})")
