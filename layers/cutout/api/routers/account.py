"""`GET /v1/account` and `PUT /v1/account/training-opt-in`: the account and its opt-in."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.metrics import MetricUnit

from cutout.api.opt_in_request import parse_opt_in
from cutout.api.responses import json_response
from cutout.api.routing import Call, handles
from cutout.api.views import account_view
from cutout.data.accounts import SCOPE_ADMIN

if TYPE_CHECKING:  # the body's one definition; types only, no pydantic at run time
    from cutout.openapi.models import OptInOutcome

# Counted on every accepted "on": each one starts keeping the account's images.
OPT_IN_ENABLED_METRIC = "TrainingOptInEnabled"

router = Router()
call = Call(router)


@handles(router, "get_account")
def get_account() -> Response:
    account_id = call.caller.account_id
    account = call.accounts.account_status(account_id)
    usage = call.usage.this_month(account_id)
    call.telemetry.metrics.add_metric(name="AccountReads", unit=MetricUnit.Count, value=1)
    return json_response(200, account_view(account, usage), call.request_id)


@handles(router, "set_training_opt_in")
def set_training_opt_in() -> Response:
    caller = call.caller
    opt_in = parse_opt_in(call.body())
    telemetry = call.telemetry
    # Every attempt is logged with the key prefix and scope (never the key): a refused "on"
    # from a use-scoped key is what a reviewer looks for.
    telemetry.logger.info("training opt-in requested", extra={
        "opt_in": opt_in, "key_prefix": caller.key_prefix, "key_scope": caller.key_scope})
    outcome = call.accounts.set_opt_in(
        caller.account_id, opt_in, changed_by=caller.key_prefix,
        by_admin=caller.key_scope == SCOPE_ADMIN)
    telemetry.metrics.add_metric(name="OptInRequests", unit=MetricUnit.Count, value=1)
    if opt_in:  # the alarm TrainingOptInTurnedOn watches this (infrastructure/monitoring.py)
        telemetry.metrics.add_metric(name=OPT_IN_ENABLED_METRIC, unit=MetricUnit.Count,
                                     value=1)
    telemetry.logger.info("training opt-in set", extra={
        "opt_in": opt_in, "deleted": outcome.deleted_training_objects})
    body: OptInOutcome = {**account_view(outcome.account),
            "deleted_training_objects": outcome.deleted_training_objects}
    return json_response(200, body, call.request_id)
