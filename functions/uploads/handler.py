"""`POST /v1/uploads`: a presigned, KMS-encrypted PUT for one account-bound object key."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.metrics import MetricUnit

from cutout.api.errors import register_error_handlers
from cutout.api.events import principal
from cutout.api.responses import json_response
from cutout.api.runtime import Handler, LazyEntryPoint, rest_entry
from cutout.api.telemetry import NAMESPACE
from cutout.api.views import upload_view
from cutout.data.stores import Stores
from cutout.service.uploads import UploadService
from cutout.settings import Settings

SERVICE = "uploads"
logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)


def make_handler(
    service: UploadService | None = None, settings: Settings | None = None
) -> Handler:
    """A handler with its collaborators; defaults are built from the environment on first use."""
    app = APIGatewayRestResolver()
    register_error_handlers(app, logger, metrics)

    def uploads() -> UploadService:
        nonlocal service
        if service is None:
            current = settings or Settings.from_env()
            service = UploadService(Stores.from_settings(current).transient,
                                    current.upload_url_ttl_seconds)
        return service

    @app.post("/v1/uploads")
    @tracer.capture_method(capture_response=False, capture_error=False)
    def create_upload() -> Response:
        caller = principal(app.current_event)
        upload = uploads().create(caller.account_id)
        metrics.add_metric(name="UploadsCreated", unit=MetricUnit.Count, value=1)
        logger.info("upload url issued", extra={"expires_in": upload.presigned.expires_in})
        return json_response(201, upload_view(upload), app.current_event.request_context.request_id)

    return rest_entry(app, logger, tracer, metrics)


# The Lambda entry point (configured from `CUTOUT_*` variables at the first call)
handler = LazyEntryPoint(make_handler)
