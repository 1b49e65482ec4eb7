"""The body templates of the gateway's own answers: one template per response type.

API Gateway's gateway responses are set per API, not per route, and their templates are not
Velocity: AWS's reference for `x-amazon-apigateway-gateway-responses.responseTemplates` says
a gateway response template "isn't processed by the VTL engine" and supports only simple
variable substitution (`$context.requestId`, `$context.error.messageString`,
`$context.authorizer.<key>`). A template cannot branch on the route, then, nor change the
status. So each response type has one body that speaks both contracts at once: ours,
`"error": {"code", "message", "request_id"}`, and remove.bg's, `"errors": [{"title", "code",
"detail"}]` (`cutout.api.removebg_contract`'s codes and titles), side by side. Our clients
read `error`, both remove.bg clients read `errors`: a wrong key on `/v1.0/removebg` gives
the PyPI and npm clients remove.bg's own "API Key invalid". The status is the response
type's on every route; where remove.bg's differs (a missing key: remove.bg 403, the gateway
401; too large: remove.bg 400, the gateway 413), the remove.bg route keeps the gateway's
(docs/removebg.md).

The stack sets these strings as `ResponseTemplates` (`infrastructure/api_edge.py`) and
`cutout serve`'s gateway renders the same strings (`cutout.local.gateway_responses`, with
airspeed: on text without directives Velocity is exactly variable substitution), so a
refusal is one text locally and in AWS. A test keeps every template free of Velocity
directives (tests/infrastructure/test_stack_promises.py), so the text means the same whether
or not API Gateway ran a Velocity engine over it.
"""

from __future__ import annotations

import json

from cutout.api.gateway_errors import GATEWAY_ERRORS, GatewayError
from cutout.api.removebg_contract import CODES, TITLES

# The gateway's own explanation, already a quoted JSON string in API Gateway's context.
GATEWAY_MESSAGE = "$context.error.messageString"


def native_error(error: GatewayError) -> str:
    """Our error object, with the request id filled in."""
    text = json.dumps(error.message) if error.message else GATEWAY_MESSAGE
    reason = ""
    if error.reason:
        reason = f', "reason": {json.dumps(error.reason)}'
    elif error.code == "forbidden":  # which refusal: the authorizer's verdict
        reason = ', "reason": "$context.authorizer.error_code"'
    return ('{"code": "' + error.code + '"' + reason + ', "message": ' + text
            + ', "request_id": "$context.requestId"}')


def removebg_answer(error: GatewayError) -> tuple[str, str]:
    """remove.bg's code and title for one response type."""
    code = CODES.get(error.code, error.code)
    fallback = "Internal server error" if error.code == "internal_error" or (
        error.status or 0) >= 500 else "Invalid request"
    return code, TITLES.get(code, fallback)


def removebg_errors(error: GatewayError) -> str:
    """remove.bg's errors list; the detail is our message."""
    code, title = removebg_answer(error)
    detail = json.dumps(error.message) if error.message else GATEWAY_MESSAGE
    return ('[{"title": ' + json.dumps(title) + ', "code": ' + json.dumps(code)
            + ', "detail": ' + detail + "}]")


def body_template(error: GatewayError) -> str:
    """The one body of `error`'s response type: both contracts, substitution only."""
    return '{"error": ' + native_error(error) + ', "errors": ' + removebg_errors(error) + "}"


# Response type -> its `application/json` body template: what the stack deploys.
BODY_TEMPLATES: dict[str, str] = {error.response_type: body_template(error)
                                  for error in GATEWAY_ERRORS}
