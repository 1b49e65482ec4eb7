"""Put batch jobs together for a deployment: the service the API uses, the item processor
the state machine invokes, and which runner executes jobs (Step Functions, a local thread
pool, or none when the feature is off)."""

from __future__ import annotations

from typing import Any

from cutout.service.batch import LOCAL_RUNNER, AllowList, BatchRunner, BatchService
from cutout.service.batch_items import BatchItemProcessor
from cutout.service.removal import RemovalService
from cutout.settings import Settings


def build_item_processor(settings: Settings, removals: RemovalService,
                         data: Any = None) -> BatchItemProcessor:
    from cutout.data.batch_stores import BatchData

    data = data or BatchData.from_settings(settings)
    job_buckets = None
    if settings.batch_job_role_arn:  # each job's items through its own bounded session
        from cutout.data.batch_access import JobAccess

        job_buckets = JobAccess(settings.batch_job_role_arn, settings.kms_key_id).buckets_for
    return BatchItemProcessor(removals, data.buckets, data.store, data.reports,
                              AllowList.from_settings(settings), job_buckets=job_buckets)


def build_batch_service(settings: Settings, removals: RemovalService,
                        data: Any = None) -> BatchService:
    """The service with the runner the settings name (None: the routes answer 403)."""
    from cutout.data.batch_stores import BatchData, step_functions_runner

    data = data or BatchData.from_settings(settings)
    allow = AllowList.from_settings(settings)
    runner: BatchRunner | None = None
    arn = settings.batch_state_machine_arn
    if allow.enabled and arn == LOCAL_RUNNER:
        from cutout.local.batch_runner import ThreadPoolRunner

        processor = build_item_processor(settings, removals, data)
        runner = ThreadPoolRunner(processor.process, data.buckets,
                                  concurrency=settings.batch_max_concurrency,
                                  batch_size=settings.batch_size,
                                  tolerated_failure_percent=settings.batch_tolerated_failure_percent)
    elif allow.enabled and arn:
        runner = step_functions_runner(arn)
    return BatchService(data.store, data.buckets, data.reports, runner, allow,
                        report_url_ttl=settings.result_url_ttl_seconds)

