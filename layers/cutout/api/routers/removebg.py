"""remove.bg's `POST /v1.0/removebg`: the same removal, in remove.bg's contract."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from cutout.api.removebg_contract import RESULT_TOO_LARGE, removebg_response
from cutout.api.removebg_request import parse_removebg_request
from cutout.api.routing import Call, handles
from cutout.api.telemetry import removal_done
from cutout.errors import ResultTooLarge
from cutout.service.removebg import remove_for_removebg

router = Router()
call = Call(router)


@handles(router, "remove_background_removebg")
def remove_background_removebg() -> Response:
    request = parse_removebg_request(call.body(), call.header("content-type"), call.query)
    try:
        removal = remove_for_removebg(call.removals, request,
                                      call.caller.account_id, call.request_id,
                                      call.receipt)
    except ResultTooLarge:
        raise ResultTooLarge(RESULT_TOO_LARGE) from None
    removal_done(call.telemetry, removal)
    return removebg_response(removal, call.header("accept"), call.request_id)
