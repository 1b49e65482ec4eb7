"""What the deployed stack holds: its resources (type, logical id, physical id) and outputs,
read from CloudFormation, plus the read-only AWS clients every check group shares.

The checks take a `Deployment`, so tests can hand in the resources they created in moto
(moto lists resources only for stacks it created itself) while every AWS read stays a
real boto3 call.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import boto3

from cutout.clock import utc_now
from cutout.verify.report import NotApplicable

# infrastructure/stack.py OUTPUTS: the names verify relies on
TRANSIENT_BUCKET_OUTPUT = "TransientBucketName"
TRAINING_BUCKET_OUTPUT = "TrainingBucketName"
TABLE_OUTPUT = "AccountsTableName"
KEY_OUTPUT = "KmsKeyId"
REST_API_OUTPUT = "RestApiId"
USAGE_PLAN_OUTPUT = "UsagePlanId"
API_URL_OUTPUT = "ApiUrl"
SERVICES = ("apigateway", "s3", "dynamodb", "kms", "logs", "lambda", "ec2", "events",
            "cloudwatch", "sts")


@dataclass(frozen=True)
class StackResource:
    logical_id: str
    type: str
    physical_id: str


@dataclass
class Deployment:
    """The stack's resources and outputs, the clients to read them, and the clock."""

    name: str
    resources: list[StackResource]
    outputs: dict[str, str]
    clients: dict[str, Any]
    now: Callable[[], datetime] = utc_now
    region: str = ""
    account: str = ""
    cache: dict[str, Any] = field(default_factory=dict)  # reads shared by check groups

    def of_type(self, resource_type: str) -> list[StackResource]:
        return [item for item in self.resources if item.type == resource_type]

    def client(self, service: str) -> Any:
        return self.clients[service]

    def output(self, name: str) -> str | None:
        return self.outputs.get(name)

    def required(self, name: str) -> str:
        """An output a check cannot do without: the check is not applicable without it."""
        value = self.outputs.get(name)
        if not value:
            raise NotApplicable(f"No {name} output.")
        return value

    @property
    def key_arn(self) -> str | None:
        """The stack's KMS key as an ARN (the output is its id): what encryption settings name."""
        if "key_arn" not in self.cache:
            key_id = self.output(KEY_OUTPUT)
            self.cache["key_arn"] = self.client("kms").describe_key(
                KeyId=key_id)["KeyMetadata"]["Arn"] if key_id else None
        return self.cache["key_arn"]

    def bucket_arn(self, name: str) -> str:
        return f"arn:aws:s3:::{name}"


def aws_clients(region: str | None = None, endpoint_url: str | None = None) -> dict[str, Any]:
    """One boto3 client a service, all from the caller's default credentials."""
    session = boto3.session.Session(region_name=region)
    return {name: session.client(name, endpoint_url=endpoint_url) for name in SERVICES}


def read_stack(stack_name: str, cloudformation: Any) -> tuple[list[StackResource], dict[str, str]]:
    """The stack's resources and outputs as CloudFormation reports them."""
    stack = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]
    outputs = {item["OutputKey"]: item["OutputValue"] for item in stack.get("Outputs", [])}
    resources = []
    for page in cloudformation.get_paginator("list_stack_resources").paginate(
            StackName=stack_name):
        resources += [StackResource(item["LogicalResourceId"], item["ResourceType"],
                                    item.get("PhysicalResourceId", ""))
                      for item in page["StackResourceSummaries"]]
    return resources, outputs


def deployment(stack_name: str, clients: dict[str, Any], cloudformation: Any,
               now: Callable[[], datetime] = utc_now) -> Deployment:
    """The deployed stack, read once."""
    resources, outputs = read_stack(stack_name, cloudformation)
    region = clients["s3"].meta.region_name
    return Deployment(stack_name, resources, outputs, clients, now, region)
