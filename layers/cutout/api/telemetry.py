"""Metrics and log fields we emit: counts, sizes and timings, never content, keys or URLs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_lambda_powertools.metrics import MetricUnit, single_metric

if TYPE_CHECKING:
    from aws_lambda_powertools import Metrics

    from cutout.api.routing import Telemetry
    from cutout.service.removal import Removal

NAMESPACE = "Cutout"


def record_error(metrics: Metrics, code: str) -> None:
    """An `Errors` count in the function metrics, and one by error code (emitted at once)."""
    metrics.add_metric(name="Errors", unit=MetricUnit.Count, value=1)
    with single_metric(name="Errors", unit=MetricUnit.Count, value=1,
                       namespace=NAMESPACE) as metric:
        metric.add_dimension(name="code", value=code)


def record_removal(metrics: Metrics, width: int, height: int, timings: dict[str, float],
                   processing_ms: float) -> None:
    """Images processed, megapixels and each stage's time for one removal."""
    metrics.add_metric(name="ImagesProcessed", unit=MetricUnit.Count, value=1)
    metrics.add_metric(name="Megapixels", unit=MetricUnit.Count,
                       value=round(width * height / 1_000_000, 3))
    metrics.add_metric(name="ProcessingTime", unit=MetricUnit.Milliseconds, value=processing_ms)
    for stage, milliseconds in timings.items():
        metrics.add_metric(name=f"Stage_{stage}", unit=MetricUnit.Milliseconds,
                           value=milliseconds)


def removal_done(telemetry: Telemetry, removal: Removal) -> None:
    """Metrics and one log line for a finished removal (`cutout.service.removal.Removal`)."""
    result = removal.result
    record_removal(telemetry.metrics, result.width, result.height, result.timings,
                   removal.processing_ms)
    telemetry.logger.info("background removed", extra={
        "width": result.width, "height": result.height, "timings_ms": result.timings,
        "training_capture": removal.trained})
