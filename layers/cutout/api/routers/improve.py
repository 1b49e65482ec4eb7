"""remove.bg's `POST /v1.0/improve`: an image kept for training, only when the account opted in."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.metrics import MetricUnit

from cutout.api.improve_request import parse_improve_request
from cutout.api.removebg_views import improve_view
from cutout.api.responses import json_response
from cutout.api.routing import Call, handles

router = Router()
call = Call(router)


@handles(router, "improve_removebg")
def improve_removebg() -> Response:
    submission = parse_improve_request(call.body(), call.header("content-type"))
    submission_id = call.improvements.submit(submission, call.caller.account_id,
                                             call.request_id, call.receipt)
    call.telemetry.metrics.add_metric(name="TrainingSubmissions", unit=MetricUnit.Count,
                                      value=1)
    return json_response(200, improve_view(submission_id), call.request_id)
