"""`GET /v1/privacy`: the reviewer's questions answered from this deployment's settings."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.metrics import MetricUnit

from cutout.api.responses import json_response
from cutout.api.routing import Call, handles
from cutout.service.privacy import privacy_document

router = Router()
call = Call(router)


@handles(router, "get_privacy")
def get_privacy() -> Response:
    account = call.accounts.get_account(call.caller.account_id)
    call.telemetry.metrics.add_metric(name="PrivacyReads", unit=MetricUnit.Count, value=1)
    document = privacy_document(call.deployment, account.opt_in)
    return json_response(200, document, call.request_id)
