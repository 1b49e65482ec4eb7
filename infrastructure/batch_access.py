"""Names, ARNs and grants of the batch construct: known before the resources exist, so every
function's environment and policy can carry them without a dependency cycle."""

from __future__ import annotations

from dataclasses import fields

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from cutout.data.batches import BatchRecord
from infrastructure.nag import acknowledge

# What a job's item holds (the API function's table writes are limited to these).
JOB_ATTRIBUTES = tuple(field.name for field in fields(BatchRecord))


def state_machine_name(scope: Construct) -> str:
    return f"{Stack.of(scope).stack_name}-batches"


def state_machine_arn(scope: Construct) -> str:
    """Known before the state machine exists, so every function's environment can carry it
    without a dependency cycle (the state machine references the worker)."""
    return Stack.of(scope).format_arn(service="states", resource="stateMachine",
                                      resource_name=state_machine_name(scope),
                                      arn_format=ArnFormat.COLON_RESOURCE_NAME)


def grant_buckets(role: iam.IRole, buckets: list[s3.IBucket], *actions: str) -> None:
    if not buckets:
        return
    role.add_to_principal_policy(iam.PolicyStatement(
        actions=list(actions), resources=[b.arn_for_objects("*") for b in buckets]))
    for bucket in buckets:
        acknowledge(role, f"AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::"
                          f"{bucket.bucket_name}/*]",
                    f"An allow-listed batch bucket (deployment setting): jobs name their own "
                    f"prefixes at run time, so the grant is {', '.join(actions)} on its "
                    f"objects; no delete, no other bucket.")


def executions_arn(scope: Construct) -> str:
    return Stack.of(scope).format_arn(
        service="states", resource="execution", resource_name=f"{state_machine_name(scope)}*",
        arn_format=ArnFormat.COLON_RESOURCE_NAME)


def as_nag(scope: Construct, resource: str, suffix: str = "*") -> str:
    """A states ARN as cdk-nag names it in a finding id (pseudo parameters in <>)."""
    return (f"arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:{resource}:"
            f"{state_machine_name(scope)}{suffix}")

