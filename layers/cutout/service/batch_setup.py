"""Put batch jobs together for a deployment: the service the API uses (on the deployment's
state machine, or none when the feature is off) and the item processor the state machine
invokes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cutout.service.batch import AllowList, BatchRunner, BatchService
from cutout.service.batch_items import BatchItemProcessor
from cutout.service.receipt import Lifetimes
from cutout.service.removal import RemovalService
from cutout.settings import Settings

if TYPE_CHECKING:
    from cutout.data.batch_stores import BatchData


def build_item_processor(settings: Settings, removals: RemovalService,
                         data: BatchData | None = None) -> BatchItemProcessor:
    from cutout import wiring

    data = data or wiring.batch_data(settings)
    job_buckets = None
    if settings.batch_job_role_arn:  # each job's items through its own bounded session
        from cutout.data.batch_access import JobAccess

        job_buckets = JobAccess(settings.batch_job_role_arn, settings.kms_key_id).buckets_for
    return BatchItemProcessor(removals, data, AllowList.from_settings(settings),
                              job_buckets=job_buckets)


def build_batch_service(settings: Settings, data: BatchData | None = None) -> BatchService:
    """The service on the state machine the settings name (None: the routes answer 403).

    It starts and reads jobs only: the engine is the worker's, so no removal service (and
    no model) is built for it.
    """
    from cutout import wiring
    from cutout.data.batch_stores import step_functions_runner

    data = data or wiring.batch_data(settings)
    allow = AllowList.from_settings(settings)
    runner: BatchRunner | None = None
    if allow.enabled and settings.batch_state_machine_arn:
        runner = step_functions_runner(settings.batch_state_machine_arn)
    return BatchService(data, runner, allow,
                        report_url_ttl=settings.result_url_ttl_seconds,
                        lifetimes=Lifetimes.from_settings(settings))
