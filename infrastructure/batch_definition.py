"""The batch state machine's definition, built from the CDK's typed Step Functions constructs.

A Distributed Map whose ItemReader lists the source prefix (S3 ListObjectsV2), whose
ItemBatcher hands the worker `{"Items": [...], "BatchInput": {...}}`, whose ResultWriter keeps
the run's results in the transient bucket, and whose one task invokes the batch worker with a
retry on throttling. The typed constructs refuse what the States Language does not have (a
hand-written document once carried an invalid `"BatchInput.$"` to synth); the suite runs the
synthesized result through `statelint` and moto's interpreter (docs/batch.md).
"""

from __future__ import annotations

from dataclasses import fields

import jsii
from aws_cdk import Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from cutout.data.batches import BATCH_RUNS_PREFIX, COUNTERS
from cutout.service.batch_items import BatchInput

# Lambda errors worth retrying: the invocation was throttled or never ran. Not
# Lambda.Unknown or a function error: the worker reports bad items itself, and retrying a
# batch that ran could count its items twice.
RETRIED_ERRORS = ("Lambda.TooManyRequestsException", "Lambda.ServiceException",
                  "Lambda.AWSLambdaException", "Lambda.SdkClientException",
                  "Lambda.ClientExecutionTimeoutException")
MAP_STATE = "CutOutEveryImage"
TASK_STATE = "CutOutOneBatch"


def batch_input_template() -> dict[str, str]:
    """The ItemBatcher's BatchInput: a payload template, one `.$` path per field the worker
    reads (`cutout.service.batch_items.BatchInput`), from the execution input's `batch_input`.
    The States Language has no `BatchInput.$`; each field is selected on its own."""
    return {f"{field.name}.$": f"$.batch_input.{field.name}" for field in fields(BatchInput)}


@jsii.implements(sfn.IItemReader)
class SourcePrefixReader(sfn.S3ObjectsItemReader):
    """The S3ObjectsItemReader over the execution's own bucket and prefix.

    The bucket is a path (a job names one of the allow-listed sources), so the CDK's own
    grant would be `s3:ListBucket` on `*`; instead the Batch construct grants ListBucket on
    exactly the allow-listed source buckets (infrastructure/batch.py).
    """

    def __init__(self) -> None:
        super().__init__(bucket_name_path=sfn.JsonPath.string_at("$.source.bucket"),
                         prefix=sfn.JsonPath.string_at("$.source.prefix"))

    def provide_policy_statements(self) -> list[iam.PolicyStatement]:
        return []  # granted on the allow-listed source buckets by the Batch construct


class RunResultsWriter(sfn.ResultWriterV2):
    """The ResultWriterV2 into the transient bucket's `batches/runs/`.

    The CDK's own grant is PutObject and the multipart actions on the whole bucket; the Batch
    construct grants them under the runs prefix only (infrastructure/batch.py).
    """

    def __init__(self, bucket: s3.IBucket) -> None:
        super().__init__(bucket=bucket, prefix=BATCH_RUNS_PREFIX.rstrip("/"))

    def provide_policy_statements(self) -> list[iam.PolicyStatement]:
        return []  # granted under the runs prefix by the Batch construct


def batch_definition(scope: Construct, *, worker: lambda_.IFunction,
                     transient_bucket: s3.IBucket, max_concurrency: int, batch_size: int,
                     tolerated_failure_percent: int) -> sfn.DistributedMap:
    """The Map state; its input is `cutout.service.batch.execution_input`'s document."""
    one_batch = tasks.LambdaInvoke(
        scope, TASK_STATE, lambda_function=worker,
        payload=sfn.TaskInput.from_json_path_at("$"),
        retry_on_service_exceptions=False,  # our own retry below, without Lambda.Unknown
        # Only counts leave the worker (object keys go to the job's own report).
        result_selector={"batch_id.$": "$.Payload.batch_id",
                         **{f"{name}.$": f"$.Payload.{name}" for name in COUNTERS}})
    # Waits of 2, 5, 12.5, 31 and 60 s (capped), jittered: about three minutes for a throttle
    # to clear. The rate is not whole: the CDK writes 2.0 as 2, which statelint refuses
    # (BackoffRate must be a float there).
    one_batch.add_retry(errors=list(RETRIED_ERRORS), interval=Duration.seconds(2),
                        backoff_rate=2.5, max_attempts=6, max_delay=Duration.seconds(60),
                        jitter_strategy=sfn.JitterType.FULL)
    every_image = sfn.DistributedMap(
        scope, MAP_STATE,
        comment="cutout catalogue batch: every image under a prefix, cut out by the worker",
        item_reader=SourcePrefixReader(),
        item_batcher=sfn.ItemBatcher(max_items_per_batch=batch_size,
                                     batch_input=batch_input_template()),
        max_concurrency=max_concurrency,
        tolerated_failure_percentage=tolerated_failure_percent,
        # Rendered only with app.py's useDistributedMapResultWriterV2 flag (a test checks it).
        result_writer_v2=RunResultsWriter(transient_bucket),
        result_path=sfn.JsonPath.DISCARD,
        map_execution_type=sfn.StateMachineType.STANDARD)
    every_image.item_processor(one_batch)
    return every_image
