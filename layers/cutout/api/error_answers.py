"""The one place where library errors become HTTP answers.

Body: `{"error": {"code", "message", "request_id"}}`, the status from the error class, never
a stack trace. Unexpected exceptions are logged (with their traceback, in our logs only)
and answered as a 500 `internal_error` that carries the request id for support. On the
remove.bg-compatible route the same errors take remove.bg's shape (`cutout.api.removebg_contract`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError

from cutout.api.gateway_errors import retry_after
from cutout.api.removebg_contract import removebg_error_response, speaks_removebg
from cutout.api.responses import json_response
from cutout.api.telemetry import record_error
from cutout.errors import CutoutError

if TYPE_CHECKING:
    from aws_lambda_powertools import Logger, Metrics

    from cutout.openapi.models import Error  # the body's one definition; a type only

SERVER_ERROR_MESSAGE = (
    "something went wrong on our side; quote the request id when you contact support"
)


def error_body(code: str, message: str, request_id: str) -> Error:
    return {"error": {"code": code, "message": message, "request_id": request_id}}


def error_response(error: CutoutError, request_id: str, *, removebg: bool = False) -> Response:
    """The JSON answer for a library error, with the status its class carries."""
    headers = retry_after(error.status)
    if removebg:
        return removebg_error_response(error.status, error.code, error.message, request_id,
                                       headers)
    return json_response(error.status, error_body(error.code, error.message, request_id),
                         request_id, headers)


def register_error_handlers(app: APIGatewayRestResolver, logger: Logger, metrics: Metrics,
                            ) -> None:
    """Map every error a route can raise, and unknown routes, to our JSON error shape."""

    def request_id() -> str:
        return app.current_event.request_context.request_id or "unknown"

    @app.exception_handler(CutoutError)
    def handle_cutout_error(error: CutoutError) -> Response:
        log = logger.error if error.status >= 500 else logger.info
        log("request refused", extra={"error_code": error.code, "status": error.status})
        record_error(metrics, error.code)
        if error.status >= 500:  # the detail (paths, checksums, AWS codes) stays in our logs
            logger.error("server error detail", extra={"detail": error.message})
            error = type(error)(getattr(error, "public_message", SERVER_ERROR_MESSAGE))
        return error_response(error, request_id(), removebg=speaks_removebg(app.current_event))

    @app.not_found
    def handle_not_found(_: NotFoundError) -> Response:
        record_error(metrics, "route_not_found")
        return json_response(404, error_body("route_not_found", "no such route", request_id()),
                             request_id())

    @app.exception_handler(Exception)
    def handle_unexpected(error: Exception) -> Response:
        logger.exception("unexpected error", extra={"error_type": type(error).__name__})
        record_error(metrics, "internal_error")
        message = SERVER_ERROR_MESSAGE
        if speaks_removebg(app.current_event):
            return removebg_error_response(500, "internal_error",
                                           f"{message} ({request_id()})", request_id())
        return json_response(500, error_body("internal_error", message, request_id()),
                             request_id())
