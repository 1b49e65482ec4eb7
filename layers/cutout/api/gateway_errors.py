"""The answers API Gateway gives on its own (no handler ran), declared once.

The stack turns each entry into a gateway response (`infrastructure/api_edge.py`) whose
body template (`cutout.api.gateway_templates`) answers the remove.bg routes in remove.bg's
shape and every other route in ours; the local gateway renders the same templates
(`cutout.local.gateway_responses`), so a client parses the same answer locally and in AWS.
"""

from __future__ import annotations

from dataclasses import dataclass

from cutout.service.receipt import NONE, RETENTION_HEADER

API_KEY_REQUIRED = "A valid API key is required in the x-api-key header."
# Answers a client may retry as they are (a throttle, or an outage behind the API), whoever
# gives them (the gateway or a handler): they carry `Retry-After`, in seconds.
RETRY_STATUSES = (429, 503)
RETRY_AFTER_SECONDS = 1
KEY_NOT_CHECKED = ("The API key could not be checked just now; retry after the Retry-After "
                   "delay.")


# The static headers of every gateway answer, as a handler's answers carry them (the request id
# is added from the gateway's context). A refusal of the gateway's runs no handler and so
# writes nothing: its retention receipt is always `none`.
GATEWAY_HEADERS: dict[str, str] = {
    "Content-Type": "application/json",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    RETENTION_HEADER: NONE,
}


def retry_after(status: int | None) -> dict[str, str]:
    """The `Retry-After` header an answer of `status` carries (none for most)."""
    return {"Retry-After": str(RETRY_AFTER_SECONDS)} if status in RETRY_STATUSES else {}


@dataclass(frozen=True)
class GatewayError:
    """One API Gateway response type, as we shape it."""

    response_type: str  # API Gateway's name (UNAUTHORIZED, ACCESS_DENIED, ...)
    status: int | None  # None: keep the status API Gateway chose (the DEFAULT_* types)
    code: str
    message: str | None  # None: the gateway's own explanation ($context.error.messageString)
    reason: str | None = None  # a fixed `reason` (ACCESS_DENIED's comes from the authorizer)


GATEWAY_ERRORS: tuple[GatewayError, ...] = (
    GatewayError("UNAUTHORIZED", 401, "unauthorized", API_KEY_REQUIRED),
    # ACCESS_DENIED also carries the authorizer's reason (invalid_api_key, revoked_api_key).
    GatewayError("ACCESS_DENIED", 403, "forbidden", "This API key is not allowed here."),
    # apiKeySource AUTHORIZER: the key the authorizer named is not an enabled key of the
    # stage's usage plan. Every issued key is put in the plan before it is handed out and
    # `cutout keys revoke` disables it there, so this is a revoked key whose Allow is still in
    # the authorizer's cache: it gets the same reason as once the cache has expired.
    GatewayError("INVALID_API_KEY", 403, "forbidden",
                 "The API key is not enabled in the usage plan of this API: it has been "
                 "revoked, or was not issued with `cutout keys create`.",
                 reason="revoked_api_key"),
    # API Gateway's answer to a path or method it does not have.
    GatewayError("MISSING_AUTHENTICATION_TOKEN", 404, "route_not_found",
                 "No such route: check the method and the path (see openapi.json)."),
    GatewayError("WAF_FILTERED", 403, "request_blocked",
                 "The request was blocked by the deployment's web application firewall."),
    GatewayError("THROTTLED", 429, "throttled", "Too many requests; retry later."),
    GatewayError("QUOTA_EXCEEDED", 429, "throttled", "The daily request quota is used up."),
    GatewayError("REQUEST_TOO_LARGE", 413, "image_too_large",
                 "The request is over 10 MB; upload large images with POST /v1/uploads."),
    # The authorizer raised (the accounts table throttled or failed: it fails closed) or
    # could not be reached; never cached, so a retry is checked afresh.
    GatewayError("AUTHORIZER_CONFIGURATION_ERROR", 503, "service_unavailable", KEY_NOT_CHECKED),
    GatewayError("AUTHORIZER_FAILURE", 503, "service_unavailable", KEY_NOT_CHECKED),
    GatewayError("DEFAULT_4XX", None, "invalid_request", None),
    GatewayError("DEFAULT_5XX", None, "internal_error", None),
)


def gateway_error(response_type: str) -> GatewayError:
    """The entry for one response type."""
    for error in GATEWAY_ERRORS:
        if error.response_type == response_type:
            return error
    raise KeyError(f"no gateway error {response_type!r}")
