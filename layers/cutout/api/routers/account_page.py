"""`GET /account` and its script and style sheet: the account page, without the authorizer.

Static files only (no account data, nothing read from the request): the page itself asks
the authorized /v1 routes for everything, with the API key the person pastes.
"""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.metrics import MetricUnit

from cutout.api.account_page import page_file_response
from cutout.api.routing import Call, handles

router = Router()
call = Call(router)


def _serve(operation: str) -> Response:
    call.telemetry.metrics.add_metric(name="AccountPageFiles", unit=MetricUnit.Count, value=1)
    return page_file_response(operation, call.signed_url_origin, call.request_id)


@handles(router, "get_account_page")
def get_account_page() -> Response:
    return _serve("get_account_page")


@handles(router, "get_account_page_script")
def get_account_page_script() -> Response:
    return _serve("get_account_page_script")


@handles(router, "get_account_page_style")
def get_account_page_style() -> Response:
    return _serve("get_account_page_style")
