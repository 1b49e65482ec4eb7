"""Build the data-layer objects of batch jobs from the typed settings (boto3 lives here)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cutout.data.aws import stepfunctions_client
from cutout.data.batch_objects import BatchBuckets, BatchReports
from cutout.data.batches import BatchStore
from cutout.data.step_functions import StepFunctionsRunner
from cutout.settings import Settings


@dataclass(frozen=True)
class BatchData:
    """The jobs' table items, the allow-listed buckets and the reports in the transient bucket."""

    store: BatchStore
    buckets: BatchBuckets
    reports: BatchReports

    @classmethod
    def from_clients(cls, settings: Settings, s3: Any, dynamodb: Any) -> BatchData:
        """The batch data over clients the caller built (`cutout.wiring.batch_data`: the
        process's shared ones)."""
        return cls(store=BatchStore(dynamodb.Table(settings.accounts_table)),
                   buckets=BatchBuckets(s3, settings.kms_key_id),
                   reports=BatchReports(s3, settings.transient_bucket, settings.kms_key_id))


def step_functions_runner(state_machine_arn: str) -> StepFunctionsRunner:
    """The runner for a deployed state machine (its region is the ARN's)."""
    region = state_machine_arn.split(":")[3]
    return StepFunctionsRunner(stepfunctions_client(region), state_machine_arn)
