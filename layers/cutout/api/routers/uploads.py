"""`POST /v1/uploads`: a presigned, KMS-encrypted PUT for one account-bound object key."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.metrics import MetricUnit

from cutout.api.responses import json_response
from cutout.api.routes import route_named
from cutout.api.routing import Call, handles
from cutout.api.views import upload_view

router = Router()
call = Call(router)


@handles(router, "create_upload")
def create_upload() -> Response:
    upload = call.uploads.create(call.caller.account_id, call.receipt)
    telemetry = call.telemetry
    telemetry.metrics.add_metric(name="UploadsCreated", unit=MetricUnit.Count, value=1)
    telemetry.logger.info("upload url issued", extra={"expires_in": upload.presigned.expires_in})
    return json_response(route_named("create_upload").success_status, upload_view(upload),
                         call.request_id)
