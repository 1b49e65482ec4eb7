"""The batch worker's entry point (same image, `CMD batch_items.handler`): Step Functions'
Distributed Map invokes it directly with `{"Items": [...], "BatchInput": {...}}`.

Answers one result per item; raises only for a broken payload or a bucket outside the
allow-list, which fails that item batch (and counts against the tolerated failures).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from cutout.api.runtime import LazyEntryPoint, entry, telemetry
from cutout.data.batches import COUNTERS
from cutout.service.batch_items import BatchItemProcessor
from cutout.service.batch_setup import build_item_processor
from cutout.service.removal import build_removal_service
from cutout.settings import Settings

Handler = Callable[[dict, Any], dict]
SERVICE = "batch-worker"


def make_handler(processor: BatchItemProcessor | None = None,
                 settings: Settings | None = None) -> Handler:
    """A handler around one processor (built from the environment unless handed in)."""
    logger, _, metrics = telemetry(SERVICE)
    if processor is None:
        configured = settings or Settings.from_env()
        processor = build_item_processor(configured, build_removal_service(configured))

    @entry(SERVICE)
    def handle(event: dict, context: Any) -> dict:
        outcome = processor.process(event, context.get_remaining_time_in_millis)
        for status in COUNTERS:
            metrics.add_metric(name=f"BatchItems{status.capitalize()}", unit=MetricUnit.Count,
                               value=outcome[status])
        # Counts only: keys can be customer file names, and they go to the report instead.
        logger.info("batch items processed", extra={
            "batch_id": outcome["batch_id"], "done": outcome["done"],
            "skipped": outcome["skipped"], "failed": outcome["failed"]})
        return outcome

    return handle


# The Lambda entry point (configured from `CUTOUT_*` variables at the first call)
handler = LazyEntryPoint(make_handler)
