"""remove.bg's `GET /v1.0/account`: this month's usage, in remove.bg's account shape."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.metrics import MetricUnit

from cutout.api.removebg_views import removebg_account_view
from cutout.api.responses import json_response
from cutout.api.routing import Call, handles

router = Router()
call = Call(router)


@handles(router, "get_account_removebg")
def get_account_removebg() -> Response:
    account_id = call.caller.account_id
    call.accounts.get_account(account_id)  # a deleted account: 404, not zeros
    usage = call.usage.this_month(account_id)
    call.telemetry.metrics.add_metric(name="AccountReads", unit=MetricUnit.Count, value=1)
    return json_response(200, removebg_account_view(usage), call.request_id)
