"""`POST /v1/remove-background`: one image in, its cutout out (inline, or a signed link)."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from cutout.api.removal_request import parse_removal_request
from cutout.api.responses import (
    image_response,
    json_response,
    removal_headers,
)
from cutout.api.routing import Call, handles
from cutout.api.telemetry import removal_done
from cutout.api.views import result_link_view

router = Router()
call = Call(router)


@handles(router, "remove_background")
def remove_background() -> Response:
    request = parse_removal_request(call.body(), call.header("content-type"), call.query)
    removal = call.removals.remove(request, call.caller.account_id,
                                                 call.request_id, receipt=call.receipt)
    removal_done(call.telemetry, removal)
    result = removal.result
    headers = removal_headers(result.width, result.height, result.foreground, result.timings,
                              removal.processing_ms)
    if removal.link is None:
        return image_response(result.data, result.content_type, call.request_id, headers)
    return json_response(200, result_link_view(removal), call.request_id, headers)
