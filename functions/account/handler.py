"""`GET /v1/account` and `PUT /v1/account/training-opt-in`: the account and its opt-in."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.metrics import MetricUnit

from cutout.api.errors import register_error_handlers
from cutout.api.events import body_bytes, principal
from cutout.api.responses import json_response
from cutout.api.runtime import Handler, LazyEntryPoint, rest_entry
from cutout.api.telemetry import NAMESPACE
from cutout.api.views import account_view
from cutout.data.stores import Stores
from cutout.service.accounts import AccountService, opt_in_from_body
from cutout.settings import Settings

SERVICE = "account"
logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)


def make_handler(
    service: AccountService | None = None, settings: Settings | None = None
) -> Handler:
    """A handler with its collaborators; defaults are built from the environment on first use."""
    app = APIGatewayRestResolver()
    register_error_handlers(app, logger, metrics)

    def accounts() -> AccountService:
        nonlocal service
        if service is None:
            stores = Stores.from_settings(settings or Settings.from_env())
            service = AccountService(stores.accounts, stores.training)
        return service

    @app.get("/v1/account")
    @tracer.capture_method(capture_response=False, capture_error=False)
    def get_account() -> Response:
        caller = principal(app.current_event)
        body = account_view(accounts().get_account(caller.account_id))
        metrics.add_metric(name="AccountReads", unit=MetricUnit.Count, value=1)
        return json_response(200, body, app.current_event.request_context.request_id)

    @app.put("/v1/account/training-opt-in")
    @tracer.capture_method(capture_response=False, capture_error=False)
    def put_training_opt_in() -> Response:
        caller = principal(app.current_event)
        opt_in = opt_in_from_body(body_bytes(app.current_event))
        outcome = accounts().set_opt_in(caller.account_id, opt_in, changed_by=caller.key_prefix)
        metrics.add_metric(name="OptInRequests", unit=MetricUnit.Count, value=1)
        logger.info("training opt-in set", extra={"opt_in": opt_in,
                                                  "deleted": outcome.deleted_training_objects})
        body = {**account_view(outcome.account),
                "deleted_training_objects": outcome.deleted_training_objects}
        return json_response(200, body, app.current_event.request_context.request_id)

    return rest_entry(app, logger, tracer, metrics)


# The Lambda entry point (configured from `CUTOUT_*` variables at the first call)
handler = LazyEntryPoint(make_handler)
