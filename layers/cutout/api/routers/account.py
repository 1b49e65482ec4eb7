"""`GET /v1/account` and `PUT /v1/account/training-opt-in`: the account and its opt-in."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.metrics import MetricUnit

from cutout.api.opt_in_request import parse_opt_in
from cutout.api.responses import json_response
from cutout.api.routing import Call, handles
from cutout.api.views import account_view

router = Router()
call = Call(router)


@handles(router, "get_account")
def get_account() -> Response:
    account_id = call.caller.account_id
    account = call.dependency("accounts").get_account(account_id)
    usage = call.dependency("usage").this_month(account_id)
    call.telemetry.metrics.add_metric(name="AccountReads", unit=MetricUnit.Count, value=1)
    return json_response(200, account_view(account, usage), call.request_id)


@handles(router, "set_training_opt_in")
def set_training_opt_in() -> Response:
    caller = call.caller
    opt_in = parse_opt_in(call.body())
    outcome = call.dependency("accounts").set_opt_in(caller.account_id, opt_in,
                                                     changed_by=caller.key_prefix)
    telemetry = call.telemetry
    telemetry.metrics.add_metric(name="OptInRequests", unit=MetricUnit.Count, value=1)
    telemetry.logger.info("training opt-in set", extra={
        "opt_in": opt_in, "deleted": outcome.deleted_training_objects})
    body = {**account_view(outcome.account),
            "deleted_training_objects": outcome.deleted_training_objects}
    return json_response(200, body, call.request_id)
