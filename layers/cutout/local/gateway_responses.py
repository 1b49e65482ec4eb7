"""The answers API Gateway gives on its own (no handler ran), in our JSON error shape.

In AWS these are the customised gateway responses (UNAUTHORIZED, ACCESS_DENIED,
MISSING_AUTHENTICATION_TOKEN, REQUEST_TOO_LARGE, AUTHORIZER_CONFIGURATION_ERROR,
DEFAULT_5XX...); locally the gateway raises `GatewayRefusal` and one place renders it.
On the remove.bg-compatible route the local gateway answers in remove.bg's shape, which
API Gateway cannot do per route (README, "The remove.bg-compatible route").
"""

from __future__ import annotations

import json

from cutout.api.removebg import removebg_error

API_KEY_REQUIRED = "A valid API key is required in the x-api-key header."


class GatewayRefusal(Exception):
    """The gateway answers this request itself, with `status` and our error body."""

    def __init__(self, status: int, code: str, message: str, reason: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.reason = reason  # ACCESS_DENIED only: the authorizer's error_code, or ""

    def body(self, request_id: str) -> bytes:
        """`{"error": {"code", "message", "request_id"}}`, as the handlers answer errors."""
        error = {"code": self.code, "message": self.message, "request_id": request_id}
        if self.reason is not None:
            error["reason"] = self.reason
        return json.dumps({"error": error}).encode("utf-8")

    def removebg_body(self) -> bytes:
        """`{"errors": [{"title", "code", "detail"}]}`, remove.bg's shape. The status stays the
        gateway's, as in AWS, where gateway responses are per API (a missing key is a 401)."""
        _, body = removebg_error(self.status, self.code, self.message)
        return json.dumps(body).encode("utf-8")


# Codes and messages mirror the stack's gateway responses (infrastructure/api_edge.py):
# a client parses the same `code` locally and in AWS.


def missing_key() -> GatewayRefusal:
    return GatewayRefusal(401, "unauthorized", API_KEY_REQUIRED)


def unauthorized() -> GatewayRefusal:
    return GatewayRefusal(401, "unauthorized", API_KEY_REQUIRED)



def access_denied(error_code: str | None = None) -> GatewayRefusal:
    """A Deny: code `forbidden`, and the authorizer's `error_code` context value as `reason`.

    That is what the stack's ACCESS_DENIED template (`$context.authorizer.error_code`)
    makes of it in AWS, where a template can substitute a value but not choose the code.
    """
    reason = error_code if error_code and error_code.replace("_", "").isalnum() else ""
    return GatewayRefusal(403, "forbidden", "This API key is not allowed here.", reason)


def no_route(method: str, path: str) -> GatewayRefusal:
    # API Gateway answers 403 "Missing Authentication Token" for a path or method it does
    # not know, before any authorizer runs (DEFAULT_4XX in the stack: code invalid_request).
    return GatewayRefusal(403, "invalid_request", "Missing Authentication Token")


def request_too_large() -> GatewayRefusal:
    return GatewayRefusal(
        413, "image_too_large",
        "The request is over 10 MB; upload large images with POST /v1/uploads.",
    )


def invocation_too_large() -> GatewayRefusal:
    # In AWS Lambda refuses the invoke and API Gateway answers 413 REQUEST_TOO_LARGE.
    return GatewayRefusal(
        413, "image_too_large",
        "The request is over Lambda's 6 MB payload once base64-encoded; "
        "upload large images with POST /v1/uploads.",
    )


def authorizer_misconfigured() -> GatewayRefusal:
    return GatewayRefusal(500, "internal_error", "Authorizer configuration error")


def bad_lambda_response(reason: str) -> GatewayRefusal:
    # A function error, a malformed proxy answer or one over 6 MB: API Gateway's 502.
    return GatewayRefusal(502, "internal_error", f"Internal server error ({reason})")
