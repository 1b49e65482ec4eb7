"""The body templates of the gateway's own answers: one Velocity template per response type.

API Gateway's gateway responses are set per API, not per route, so each template branches
on the route: the remove.bg-compatible routes (`/v1.0/...`) answer in remove.bg's shape and
codes, `{"errors": [{"title", "code", "detail"}]}` (`cutout.api.removebg`), every other route
in ours, `{"error": {"code", "message", "request_id"}}`. The stack sets these strings as
`ResponseTemplates` (`infrastructure/api_edge.py`) and `cutout serve`'s gateway renders the
same strings with a Velocity engine (`cutout.local.gateway_responses`), so a refusal is one
text locally and in AWS.

The branch reads `$context.resourcePath` (the matched route) and, for refusals made before
a route is matched (no such route), `$context.path` (the request path, after the stage).
Where remove.bg's status differs from the response type's (a missing key: remove.bg says
403, API Gateway 401; too large: remove.bg says 400), the remove.bg branch sets
`$context.responseOverride.status`.

Not checked here (no AWS account in the suite): AWS's reference for
`x-amazon-apigateway-gateway-responses.responseTemplates` says a gateway response template
"isn't processed by the VTL engine" (simple variable substitution only), and documents
`$context.responseOverride` for integration responses only. Whether API Gateway evaluates
`#if` and the status override in a gateway response is to be checked against a deployment
(`cutout verify`); if it does not, the body would be the raw template text.
"""

from __future__ import annotations

import json

from cutout.api.gateway_errors import GATEWAY_ERRORS, GatewayError
from cutout.api.removebg import CODES, TITLES, removebg_status

# The remove.bg-compatible routes all live under this prefix (REMOVEBG_PATH and any sibling).
REMOVEBG_PREFIX = "/v1.0/"
ROUTE_SPEAKS_REMOVEBG = (f'$context.resourcePath.startsWith("{REMOVEBG_PREFIX}") || '
                         f'$context.path.contains("{REMOVEBG_PREFIX}")')
# The gateway's own explanation, already a quoted JSON string in API Gateway's context.
GATEWAY_MESSAGE = "$context.error.messageString"


def native_body(error: GatewayError) -> str:
    """Our error shape, with the request id filled in."""
    text = json.dumps(error.message) if error.message else GATEWAY_MESSAGE
    reason = ""
    if error.reason:
        reason = f', "reason": {json.dumps(error.reason)}'
    elif error.code == "forbidden":  # which refusal: the authorizer's verdict
        reason = ', "reason": "$context.authorizer.error_code"'
    return ('{"error": {"code": "' + error.code + '"' + reason + ', "message": ' + text
            + ', "request_id": "$context.requestId"}}')


def removebg_answer(error: GatewayError) -> tuple[int | None, str, str]:
    """remove.bg's status (None: the gateway's own), code and title for one response type."""
    status = removebg_status(error.status) if error.status else None
    code = CODES.get(error.code, error.code)
    fallback = "Internal server error" if error.code == "internal_error" or (
        status or 0) >= 500 else "Invalid request"
    return status, code, TITLES.get(code, fallback)


def removebg_body(error: GatewayError) -> str:
    """remove.bg's error shape; the detail is our message."""
    status, code, title = removebg_answer(error)
    detail = json.dumps(error.message) if error.message else GATEWAY_MESSAGE
    override = (f"#set($context.responseOverride.status = {status})"
                if status is not None and status != error.status else "")
    return (override + '{"errors": [{"title": ' + json.dumps(title) + ', "code": '
            + json.dumps(code) + ', "detail": ' + detail + "}]}")


def body_template(error: GatewayError) -> str:
    """The one template of `error`'s response type: remove.bg's shape on its routes, ours else."""
    return (f"#if({ROUTE_SPEAKS_REMOVEBG}){removebg_body(error)}"
            f"#{{else}}{native_body(error)}#end")


# Response type -> its `application/json` body template: what the stack deploys.
BODY_TEMPLATES: dict[str, str] = {error.response_type: body_template(error)
                                  for error in GATEWAY_ERRORS}
