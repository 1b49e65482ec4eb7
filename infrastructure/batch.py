"""Catalogue batches: a Step Functions Distributed Map over an S3 prefix, and its worker.

The worker is the inference image with another entry point (`batch_items.handler`): same
engine, same isolated subnets, its own role (no allow-listed bucket: it reaches them only
through a session of the batch-job role that each job's policy narrows to its two prefixes)
and a longer timeout than the API's 29 s, so one invocation handles a batch of images. The
API function gets what starting and reading jobs needs, and may assume the image-url role
(GetObject on the source buckets' objects, nothing else) for `image_url` reads of one
allow-listed object each. Built only when the allow-lists name buckets.
"""

from __future__ import annotations

import json
from typing import cast

from aws_cdk import ArnFormat, Duration, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from cutout.data import schema
from cutout.data.batches import BATCH_RUNS_PREFIX, BATCHES_PREFIX, COUNTERS
from cutout.settings import env_name
from infrastructure.batch_access import (
    JOB_ATTRIBUTES,
    as_nag,
    executions_arn,
    grant_buckets,
    state_machine_arn,
    state_machine_name,
)
from infrastructure.batch_definition import batch_definition
from infrastructure.function_defaults import KEY_WRITE, FunctionBase, grant_key
from infrastructure.grants import (
    grant_attribute_updates,
    grant_job_writes,
    grant_list,
    grant_objects,
    grant_table,
    grant_training_capture,
    logical_id,
)
from infrastructure.inference import inference_image
from infrastructure.nag import acknowledge
from infrastructure.network import Network
from infrastructure.settings import DeploymentSettings, SettingsError

WORKER_TIMEOUT_SECONDS = 300  # a batch of images; the worker stops taking items 15 s early


def batch_resources(scope: Construct, settings: DeploymentSettings) -> dict[str, str]:
    """The runtime settings batch jobs read (all empty when the feature is off)."""
    enabled = bool(settings.batch_source_buckets)
    return {"batch_state_machine_arn": state_machine_arn(scope) if enabled else "",
            "batch_source_buckets": ",".join(settings.batch_source_buckets),
            "batch_destination_buckets": ",".join(settings.batch_destination_buckets),
            # only the worker's (Batch._worker): the role it assumes for each job
            "batch_job_role_arn": "",
            # only the API function's (Batch._image_url_role): the role of each image_url read
            "image_url_role_arn": ""}


def allow_listed_buckets(scope: Construct, settings: DeploymentSettings) -> list[s3.IBucket]:
    """Every allow-listed bucket, imported by name once (for the S3 endpoint's policy too)."""
    names = dict.fromkeys([*settings.batch_source_buckets, *settings.batch_destination_buckets])
    return [cast(s3.IBucket, scope.node.try_find_child(f"BatchBucket-{name}"))
            or s3.Bucket.from_bucket_name(scope, f"BatchBucket-{name}", name) for name in names]


def refuse_own_buckets(stack_name: str, settings: DeploymentSettings) -> None:
    """The stack's own buckets (transient, training, access logs) are named by CloudFormation
    `<stack name>-<logical id>-<suffix>`, lower case: an allow-listed name of that form would
    let jobs read every account's uploads or training data, or write outside the swept
    prefixes. (The functions refuse the resolved names again at run time.)"""
    own = f"{stack_name.lower()}-"
    named = [n for n in (*settings.batch_source_buckets, *settings.batch_destination_buckets)
             if n.lower().startswith(own)]
    if named:
        raise SettingsError(f"batch buckets may not be this stack's own buckets (names "
                            f"beginning {own!r}): {', '.join(named)}")


class Batch(Construct):
    """Exposes `worker` (the batch worker function) and `state_machine`."""

    def __init__(self, scope: Construct, id: str, *, settings: DeploymentSettings,
                 network: Network, key: kms.IKey, table: dynamodb.ITable,
                 transient_bucket: s3.IBucket, training_store: s3.IBucket,
                 environment: dict[str, str], retention: logs.RetentionDays,
                 api_function: lambda_.IFunction) -> None:
        super().__init__(scope, id)
        refuse_own_buckets(Stack.of(self).stack_name, settings)
        buckets = {b.bucket_name: b for b in allow_listed_buckets(Stack.of(self), settings)}
        sources = [buckets[name] for name in settings.batch_source_buckets]
        destinations = [buckets[name] for name in settings.batch_destination_buckets]

        self.worker, role, self.job_role = self._worker(settings, network, key, environment,
                                                        retention, sources, destinations)
        grant_table(role, table, "dynamodb:GetItem")  # the account's training opt-in
        # A job's counters, and the account's day usage: batch images are the customer's
        # spend, metered like any removal (the RemovalService adds requests and pixels).
        grant_attribute_updates(role, table, *COUNTERS, *schema.USAGE_COUNTERS)
        grant_objects(role, transient_bucket, BATCHES_PREFIX, "s3:PutObject")  # failure parts
        grant_training_capture(role, training_store)
        grant_key(role, key, *KEY_WRITE)

        self.state_machine = self._state_machine(settings, key, transient_bucket, sources,
                                                 retention)
        if api_function.role is None:
            raise ValueError("the API function has no role to grant batch access to")
        self._grant_api(cast(iam.Role, api_function.role), table, transient_bucket, sources)
        self.image_url_role = self._image_url_role(cast(iam.Role, api_function.role),
                                                   cast(lambda_.Function, api_function), sources)

    def _image_url_role(self, api_role: iam.Role, api_function: lambda_.Function,
                        sources: list[s3.IBucket]) -> iam.Role:
        """`image_url` (cutout.service.image_url): the API function reads an allow-listed
        object only as a session of this role, whose policy names that one object
        (cutout.data.object_access). The role itself may only read source objects (no list,
        no destination, no key), so the API function's own role still holds no allow-listed
        bucket and no session of it can write anywhere."""
        role = self._session_role("ImageUrlRole", api_role,
                                  "cutout image-url: reads the one allow-listed source object "
                                  "each session's policy names")
        grant_buckets(role, sources, "s3:GetObject")  # read only: never List, Put or Delete
        api_function.add_environment(env_name("image_url_role_arn"), role.role_arn)
        return role

    def _session_role(self, construct_id: str, assumer: iam.Role, description: str) -> iam.Role:
        """A role only `assumer` may assume, for sessions of at most an hour (each narrowed by
        the session policy its caller passes), and `assumer` allowed to assume it."""
        role = iam.Role(self, construct_id, assumed_by=assumer, description=description,
                        max_session_duration=Duration.hours(1))
        assumer.add_to_principal_policy(iam.PolicyStatement(
            actions=["sts:AssumeRole"], resources=[role.role_arn]))
        return role

    def _job_role(self, worker_role: iam.Role, key: kms.IKey, sources: list[s3.IBucket],
                  destinations: list[s3.IBucket]) -> iam.Role:
        """The allow-listed buckets, only through this role: the worker assumes it for each
        job with a session policy naming the job's two prefixes (cutout.data.batch_access),
        so IAM bounds a job to its own locations and the worker's role holds none of them."""
        job_role = self._session_role("JobRole", worker_role,
                                      "cutout batch-job: one job's source and destination, as "
                                      "each session's policy narrows them")
        grant_buckets(job_role, sources, "s3:GetObject")  # read only: never Put or Delete
        # HEAD of an output (skip what exists) needs GetObject; ListBucket makes a missing
        # output a 404 rather than a 403.
        grant_buckets(job_role, destinations, "s3:GetObject", "s3:PutObject")
        for bucket in destinations:
            grant_list(job_role, bucket, "s3:ListBucket")
        grant_key(job_role, key, "kms:GenerateDataKey")  # outputs are SSE-KMS, the stack's key
        return job_role

    def _worker(self, settings: DeploymentSettings, network: Network, key: kms.IKey,
                environment: dict[str, str], retention: logs.RetentionDays,
                sources: list[s3.IBucket], destinations: list[s3.IBucket],
                ) -> tuple[lambda_.Function, iam.Role, iam.Role]:
        description = "cutout batch-worker: cuts out one batch of a catalogue job"
        base = FunctionBase(self, "WorkerBase", description=description, key=key,
                            retention=retention)
        job_role = self._job_role(base.role, key, sources, destinations)
        environment = {**environment, env_name("batch_job_role_arn"): job_role.role_arn}
        worker = lambda_.DockerImageFunction(
            self, "Worker", description=description,
            code=inference_image(settings, cmd=["batch_items.handler"]),  # the same image
            memory_size=settings.inference_memory_mb,
            timeout=Duration.seconds(WORKER_TIMEOUT_SECONDS),
            **base.function_options(settings, network,
                                    {**environment, "POWERTOOLS_SERVICE_NAME": "batch-worker"},
                                    key))
        return worker, base.role, job_role

    def _state_machine(self, settings: DeploymentSettings, key: kms.IKey,
                       transient_bucket: s3.IBucket, sources: list[s3.IBucket],
                       retention: logs.RetentionDays) -> sfn.StateMachine:
        definition = batch_definition(
            self, worker=self.worker, transient_bucket=transient_bucket,
            max_concurrency=settings.batch_max_concurrency, batch_size=settings.batch_size,
            tolerated_failure_percent=settings.batch_tolerated_failure_percent)
        # Execution data (object keys) stays out of the logs; states and errors go in.
        log_group = logs.LogGroup(self, "Logs", retention=retention, encryption_key=key)
        role = iam.Role(self, "StateMachineRole", description="cutout batch state machine",
                        assumed_by=iam.ServicePrincipal("states.amazonaws.com"))
        machine = sfn.StateMachine(
            self, "StateMachine", state_machine_name=state_machine_name(self),
            definition_body=sfn.DefinitionBody.from_chainable(definition),
            logs=sfn.LogOptions(destination=log_group, level=sfn.LogLevel.ALL,
                                include_execution_data=False),
            tracing_enabled=True, role=role)
        for bucket in sources:  # the ItemReader lists the source prefix
            grant_list(role, bucket, "s3:ListBucket")
        grant_objects(role, transient_bucket, BATCH_RUNS_PREFIX,
                      "s3:PutObject", "s3:GetObject", "s3:ListMultipartUploadParts",
                      "s3:AbortMultipartUpload")
        grant_key(role, key, "kms:Decrypt", "kms:GenerateDataKey")
        # The CDK grants what the Map itself needs: invoke on the worker (LambdaInvoke) and,
        # since a Distributed Map runs its children as executions of this same state machine,
        # StartExecution on it and Describe/Stop/Redrive on its executions.
        acknowledge(role, "AwsSolutions-IAM5[Resource::*]",
                    "CloudWatch Logs delivery (logs:CreateLogDelivery and the other vended-log "
                    "actions) and X-Ray tracing have no resource-level permissions; CDK writes "
                    "them for the state machine's KMS-encrypted log group and tracing.")
        # The CDK's DistributedMapPolicy names the executions through the machine's own ARN.
        name = json.dumps({"Fn::Select": [6, {"Fn::Split": [":", {"Ref": logical_id(machine)}]}]},
                          separators=(",", ":"))
        executions = f"arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:{name}"
        for suffix in (":*", "/*:*"):  # the child executions, and their redrives
            acknowledge(machine, f"AwsSolutions-IAM5[Resource::{executions}{suffix}]",
                        "The Distributed Map's child executions are named by Step Functions; "
                        "the grant is limited to executions of this one state machine.")
        acknowledge(role, f"AwsSolutions-IAM5[Resource::<{logical_id(self.worker)}.Arn>:*]",
                    "Invoke on the batch worker's versions and aliases (CDK's grant_invoke): "
                    "this one function, nothing else.")
        return machine

    def _grant_api(self, role: iam.Role, table: dynamodb.ITable,
                   transient_bucket: s3.IBucket, sources: list[s3.IBucket]) -> None:
        """Starting a job (checks, the job's item, the execution) and reading it (its
        counters, the map run's count, the report merged and signed)."""
        # The job's item only (its GetItem is the function's own table read): an image-parsing
        # function must not be able to write an opt-in or a key (issue 23, item 6).
        grant_job_writes(role, table, *JOB_ATTRIBUTES)
        for bucket in sources:  # "a prefix with nothing in it" is refused before a start
            grant_list(role, bucket, "s3:ListBucket")
        grant_objects(role, transient_bucket, BATCHES_PREFIX, "s3:GetObject", "s3:PutObject")
        grant_list(role, transient_bucket, "s3:ListBucket", prefix=BATCHES_PREFIX)
        executions = executions_arn(self)
        map_runs = Stack.of(self).format_arn(
            service="states", resource="mapRun", resource_name=f"{state_machine_name(self)}/*",
            arn_format=ArnFormat.COLON_RESOURCE_NAME)
        role.add_to_principal_policy(iam.PolicyStatement(
            actions=["states:StartExecution"], resources=[state_machine_arn(self)]))
        role.add_to_principal_policy(iam.PolicyStatement(
            actions=["states:DescribeExecution", "states:ListMapRuns"], resources=[executions]))
        role.add_to_principal_policy(iam.PolicyStatement(
            actions=["states:DescribeMapRun"], resources=[map_runs]))
        for resource in (as_nag(self, "execution"), as_nag(self, "mapRun", "/*")):
            acknowledge(role, f"AwsSolutions-IAM5[Resource::{resource}]",
                        "Executions and map runs are named per job at run time; the grant is "
                        "limited to those of this deployment's one batch state machine.")
