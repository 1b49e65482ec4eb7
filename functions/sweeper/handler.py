"""Scheduled by EventBridge every `sweep_interval_minutes`: hard-delete every transient object
that would otherwise pass 24 hours before the next run (results once their link expired).

S3's lifecycle rule can lag by a day or more; this run keeps the 24-hour rule on our own
schedule. Then, with the time left, it reconciles the training store: it deletes the training
data of every account that is not opted in, which finishes the erasures opt-outs started
(`cutout.service.erasure`). It logs counts and prefixes only: object keys name accounts and
uploads.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit

from cutout import wiring
from cutout.api.runtime import Handler, LazyEntryPoint, entry, telemetry
from cutout.clock import Clock, utc_now
from cutout.data.stores import Stores
from cutout.errors import SweepIncomplete
from cutout.service.erasure import TrainingReconciler
from cutout.service.retention import RetentionRule, Sweeper
from cutout.settings import Settings

SERVICE = "sweeper"
logger, _, metrics = telemetry(SERVICE)

# Stop listing this long before the timeout, leaving time for the last DeleteObjects call.
TIME_MARGIN_MS = 20_000


def make_handler(service: Sweeper | None = None, settings: Settings | None = None,
                 clock: Clock | None = None,
                 reconciler: TrainingReconciler | None = None) -> Handler:
    """A handler with its collaborators; defaults are built from the environment on first use.

    `clock` is used only when the sweeper or the reconciler is built here (from `settings` or
    the environment).
    """
    stores: Stores | None = None

    def current_stores() -> tuple[Settings, Stores]:
        nonlocal stores
        current = settings or Settings.from_env()
        if stores is None:
            stores = wiring.stores(current)
        return current, stores

    def sweeper() -> Sweeper:
        nonlocal service
        if service is None:
            current, built = current_stores()
            service = Sweeper(built.transient, RetentionRule.from_settings(current),
                              clock=clock or utc_now)
        return service

    def training_reconciler() -> TrainingReconciler:
        nonlocal reconciler
        if reconciler is None:
            _, built = current_stores()
            reconciler = TrainingReconciler(built.training, built.accounts,
                                            clock=clock or utc_now)
        return reconciler

    @entry(SERVICE, correlation_paths.EVENT_BRIDGE)
    def handle(event: dict, context: Any) -> dict:
        def out_of_time() -> bool:
            return bool(context.get_remaining_time_in_millis() < TIME_MARGIN_MS)

        report = sweeper().sweep(out_of_time=out_of_time)
        # The training store's reconciliation gets the time the sweep left (the 24-hour rule
        # first); an unfinished pass is continued by the next run.
        reconciled = training_reconciler().reconcile(out_of_time=out_of_time)
        metrics.add_metric(name="TrainingObjectsReconciled", unit=MetricUnit.Count,
                           value=reconciled.deleted)
        if not reconciled.finished:
            logger.warning("training reconciliation stopped for time; the next run continues",
                           extra=reconciled.counts())
        metrics.add_metric(name="TransientObjectsExamined", unit=MetricUnit.Count,
                           value=report.examined)
        metrics.add_metric(name="ExpiredObjectsDeleted", unit=MetricUnit.Count,
                           value=report.deleted)
        metrics.add_metric(name="ExpiredObjectsNotDeleted", unit=MetricUnit.Count,
                           value=report.failed)
        if not report.finished:
            logger.warning("sweep stopped for time; the next run continues",
                           extra=report.counts())
        if report.failed:
            logger.error("some expired objects were not deleted", extra=report.counts())
            # A failed invocation: the Errors alarm fires and EventBridge retries the run.
            raise SweepIncomplete(f"{report.failed} expired objects were not deleted "
                                  f"({report.failure_codes}); the next run retries them")
        logger.info("sweep finished", extra={**report.counts(), **reconciled.counts()})
        return {**report.counts(), **reconciled.counts()}

    return handle


# The Lambda entry point (configured from `CUTOUT_*` variables at the first call)
handler = LazyEntryPoint(make_handler)
