"""The batch state machine's definition (Amazon States Language), as plain data.

Written out rather than built from CDK's Map classes so that the template test, the docs and
a reader see the exact document Step Functions runs: a Distributed Map whose ItemReader lists
the source prefix (S3 ListObjectsV2), whose ItemBatcher hands the worker `{"Items": [...],
"BatchInput": {...}}`, and whose ResultWriter keeps the run's results in the transient bucket.
"""

from __future__ import annotations

from typing import Any

from cutout.data.batches import BATCH_RUNS_PREFIX

# Lambda errors worth retrying: the invocation was throttled or never ran. Not
# Lambda.Unknown or a function error: the worker reports bad items itself, and retrying a
# batch that ran could count its items twice.
RETRIED_ERRORS = ("Lambda.TooManyRequestsException", "Lambda.ServiceException",
                  "Lambda.AWSLambdaException", "Lambda.SdkClientException",
                  "Lambda.ClientExecutionTimeoutException")
MAP_STATE = "CutOutEveryImage"
TASK_STATE = "CutOutOneBatch"


def batch_definition(*, worker_arn: str, transient_bucket: str, max_concurrency: int,
                     batch_size: int, tolerated_failure_percent: int) -> dict[str, Any]:
    """The definition; its input is `cutout.service.batch.execution_input`'s document."""
    return {
        "Comment": "cutout catalogue batch: every image under a prefix, cut out by the worker",
        "StartAt": MAP_STATE,
        "States": {MAP_STATE: {
            "Type": "Map",
            "ItemReader": {
                "Resource": "arn:aws:states:::s3:listObjectsV2",
                "Parameters": {"Bucket.$": "$.source.bucket", "Prefix.$": "$.source.prefix"},
            },
            "ItemBatcher": {"MaxItemsPerBatch": batch_size, "BatchInput.$": "$.batch_input"},
            "MaxConcurrency": max_concurrency,
            "ToleratedFailurePercentage": tolerated_failure_percent,
            "ItemProcessor": {
                "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                "StartAt": TASK_STATE,
                "States": {TASK_STATE: {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::lambda:invoke",
                    "Parameters": {"FunctionName": worker_arn, "Payload.$": "$"},
                    "ResultSelector": {"batch_id.$": "$.Payload.batch_id",
                                       "done.$": "$.Payload.done",
                                       "skipped.$": "$.Payload.skipped",
                                       "failed.$": "$.Payload.failed"},
                    "Retry": [{"ErrorEquals": list(RETRIED_ERRORS), "IntervalSeconds": 2,
                               "BackoffRate": 2.0, "MaxAttempts": 6, "MaxDelaySeconds": 60,
                               "JitterStrategy": "FULL"}],
                    "End": True,
                }},
            },
            "ResultWriter": {
                "Resource": "arn:aws:states:::s3:putObject",
                "Parameters": {"Bucket": transient_bucket,
                               "Prefix": BATCH_RUNS_PREFIX.rstrip("/")},
            },
            "ResultPath": None,
            "End": True,
        }},
    }
