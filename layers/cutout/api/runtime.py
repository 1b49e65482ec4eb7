"""Run a Powertools resolver so that nothing of the request survives the invocation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.event_handler.api_gateway import BaseRouter


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
