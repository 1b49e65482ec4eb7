"""`POST /v1/batches` and `GET /v1/batches/{batch_id}`: start a catalogue job, read its state."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.metrics import MetricUnit

from cutout.api.batch_request import parse_batch_request
from cutout.api.responses import json_response
from cutout.api.routes import route_named
from cutout.api.routing import Call, handles
from cutout.data.batches import BatchRecord
from cutout.errors import BatchNotFound
from cutout.service.batch import BatchStatus

if TYPE_CHECKING:  # the body's one definition; types only, no pydantic at run time
    from cutout.openapi.models import Batch

router = Router()
call = Call(router)
_BATCH_ID = frozenset("0123456789abcdef")


@handles(router, "create_batch")
def create_batch() -> Response:
    request = parse_batch_request(call.body())
    record = call.batches.start(call.caller.account_id, request)
    telemetry = call.telemetry
    telemetry.metrics.add_metric(name="BatchesStarted", unit=MetricUnit.Count, value=1)
    telemetry.logger.info("batch started", extra={"batch_id": record.batch_id})
    body: Batch = {**record_view(record), "status_url": f"/v1/batches/{record.batch_id}"}
    return json_response(route_named("create_batch").success_status, body, call.request_id)


@handles(router, "get_batch")
def get_batch(batch_id: str) -> Response:
    if len(batch_id) != 32 or not set(batch_id) <= _BATCH_ID:
        raise BatchNotFound("no batch with that id for this account")
    status = call.batches.status(call.caller.account_id, batch_id, call.receipt)
    return json_response(200, status_view(status), call.request_id)


def record_view(record: BatchRecord, listed: int | None = None) -> Batch:
    return {
        "batch_id": record.batch_id, "state": record.state,
        "source": record.source, "destination": record.destination,
        "options": dict(record.options), "overwrite": record.overwrite,
        "totals": {"listed": listed if listed is not None else record.listed,
                   "done": record.done, "skipped": record.skipped, "failed": record.failed},
        "started_at": record.created_at, "ended_at": record.ended_at,
    }


def status_view(status: BatchStatus) -> Batch:
    """The job; `report_url` (signed, short-lived) only once it has ended with failures and
    its report is written (`report_state`: none, preparing, ready)."""
    report = status.report
    return {**record_view(status.record, status.listed),
            "report_state": status.report_state,
            "report_url": report.url if report else None,
            "report_expires_in": report.expires_in if report else None}
