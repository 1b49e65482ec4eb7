"""Run a Powertools resolver so that nothing of the request survives the invocation."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler.api_gateway import BaseRouter
from aws_lambda_powertools.logging import correlation_paths


@dataclass(frozen=True)
class LocalContext:
    """A stand-in Lambda context for local runs and tests (the fields Powertools reads)."""

    function_name: str = "cutout-local"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 3008
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:cutout-local"
    aws_request_id: str = "local"
    log_group_name: str = "/aws/lambda/cutout-local"
    log_stream_name: str = "local"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def resolve(app: Any, event: dict, context: Any) -> dict:
    """`app.resolve`, then drop the event Powertools keeps on the router class.

    Powertools stores the current event (body included) as class state; a warm container
    would otherwise hold the last caller's image until the next request replaces it.
    """
    try:
        return app.resolve(event, context)
    finally:
        BaseRouter.current_event = None  # type: ignore[assignment]
        BaseRouter.lambda_context = None  # type: ignore[assignment]
        app.clear_context()


Handler = Callable[[dict, Any], dict]


def rest_entry(app: Any, logger: Logger, tracer: Tracer, metrics: Metrics) -> Handler:
    """A REST handler with the Powertools decorators every API function shares."""

    @logger.inject_lambda_context(
        correlation_id_path=correlation_paths.API_GATEWAY_REST, log_event=False, clear_state=True
    )
    @tracer.capture_lambda_handler(capture_response=False, capture_error=False)
    @metrics.log_metrics
    def handle(event: dict, context: Any) -> dict:
        return resolve(app, event, context)

    return handle


class LazyEntryPoint:
    """A module's Lambda `handler`: built by `factory` on the first call, not at import.

    Building late lets tests and the local stack set the `CUTOUT_*` variables first; the
    handler it builds holds collaborators (stores, engine), never request data.
    """

    def __init__(self, factory: Callable[[], Handler]) -> None:
        self._factory = factory
        self._handler: Handler | None = None

    def __call__(self, event: dict, context: Any) -> dict:
        if self._handler is None:
            self._handler = self._factory()
        return self._handler(event, context)

    def reset(self) -> None:
        """Forget the built handler (tests that change the environment)."""
        self._handler = None
