"""The answers API Gateway gives on its own (no handler ran), in our JSON error shape.

In AWS these are the customised gateway responses (UNAUTHORIZED, ACCESS_DENIED,
MISSING_AUTHENTICATION_TOKEN, REQUEST_TOO_LARGE, AUTHORIZER_CONFIGURATION_ERROR,
DEFAULT_5XX...); locally the gateway raises `GatewayRefusal` and one place renders it.
"""

from __future__ import annotations

import json


class GatewayRefusal(Exception):
    """The gateway answers this request itself, with `status` and our error body."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def body(self, request_id: str) -> bytes:
        """`{"error": {"code", "message", "request_id"}}`, as the handlers answer errors."""
        error = {"code": self.code, "message": self.message, "request_id": request_id}
        return json.dumps({"error": error}).encode("utf-8")


def missing_key() -> GatewayRefusal:
    return GatewayRefusal(401, "unauthorized", "an API key is required in the x-api-key header")


def unauthorized() -> GatewayRefusal:
    return GatewayRefusal(401, "unauthorized", "the API key is not valid")


def access_denied() -> GatewayRefusal:
    return GatewayRefusal(403, "forbidden", "the API key is not allowed to call this method")


def no_route(method: str, path: str) -> GatewayRefusal:
    # API Gateway answers 403 "Missing Authentication Token" for a path or method it does
    # not know, before any authorizer runs; we keep its status and say what happened.
    return GatewayRefusal(403, "missing_authentication_token", f"no route {method} {path}")


def request_too_large(limit: str) -> GatewayRefusal:
    return GatewayRefusal(
        413,
        "request_too_large",
        f"the request is over {limit}; send large images with POST /v1/uploads",
    )


def authorizer_misconfigured() -> GatewayRefusal:
    return GatewayRefusal(500, "authorizer_configuration_error", "the authorizer failed")


def bad_lambda_response(reason: str) -> GatewayRefusal:
    # What API Gateway does with a function error or a malformed proxy answer: 502.
    return GatewayRefusal(502, "bad_gateway", reason)
