"""`POST /v1/remove-background` and remove.bg's `POST /v1.0/removebg` (container Lambda):
one image in, its cutout out."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response

from cutout.api.errors import register_error_handlers
from cutout.api.events import body_bytes, header, principal
from cutout.api.removal import removal_response
from cutout.api.removebg import REMOVEBG_PATH, removebg_response
from cutout.api.runtime import Handler, LazyEntryPoint, rest_entry
from cutout.api.telemetry import NAMESPACE, record_removal
from cutout.service.removal import Removal, RemovalService, build_removal_service
from cutout.service.removebg import parse_removebg_request, remove_for_removebg
from cutout.service.requests import parse_removal_request
from cutout.settings import Settings

SERVICE = "remove-background"
logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)


def make_handler(
    service: RemovalService | None = None, settings: Settings | None = None
) -> Handler:
    """A handler with its collaborators; defaults are built from the environment on first use."""
    app = APIGatewayRestResolver()
    register_error_handlers(app, logger, metrics)

    def removals() -> RemovalService:
        nonlocal service
        if service is None:
            service = build_removal_service(settings or Settings.from_env())
        return service

    @app.post("/v1/remove-background")
    @tracer.capture_method(capture_response=False, capture_error=False)
    def remove_background() -> Response:
        event, caller = app.current_event, principal(app.current_event)
        request_id = event.request_context.request_id
        request = parse_removal_request(body_bytes(event), header(event, "content-type"),
                                        event.query_string_parameters)
        removal = removals().remove(request, caller.account_id, request_id)
        record(removal)
        return removal_response(removal, lambda r: removals().publish(r, caller.account_id),
                                request_id)

    @app.post(REMOVEBG_PATH)
    @tracer.capture_method(capture_response=False, capture_error=False)
    def remove_background_removebg() -> Response:
        event, caller = app.current_event, principal(app.current_event)
        request_id = event.request_context.request_id
        request = parse_removebg_request(body_bytes(event), header(event, "content-type"),
                                         event.query_string_parameters)
        removal = remove_for_removebg(removals(), request, caller.account_id, request_id)
        record(removal)
        return removebg_response(removal, header(event, "accept"), request_id)

    def record(removal: Removal) -> None:
        result = removal.result
        record_removal(metrics, result.width, result.height, result.timings, removal.processing_ms)
        logger.info("background removed", extra={"width": result.width, "height": result.height,
                                                 "timings_ms": result.timings,
                                                 "training_capture": removal.trained})

    return rest_entry(app, logger, tracer, metrics)


# The Lambda entry point (configured from `CUTOUT_*` variables at the first call)
handler = LazyEntryPoint(make_handler)
