"""What every cutout function shares: environment, log group, execution role, network.

One place so the functions cannot differ by accident. The environment is built by
iterating the runtime settings model (`cutout.settings.Settings`), so a field added there
fails synthesis until the deployment side provides it: the two cannot drift.
"""

from __future__ import annotations

from dataclasses import fields

from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from cutout.api.telemetry import NAMESPACE as METRICS_NAMESPACE
from cutout.settings import Settings as RuntimeSettings
from cutout.settings import env_name
from infrastructure.nag import acknowledge
from infrastructure.network import Network
from infrastructure.settings import DeploymentSettings, SettingsError

# Runtime fields whose values are resources of this stack rather than settings.
RESOURCE_FIELDS = ("accounts_table", "transient_bucket", "training_bucket", "kms_key_id",
                   "batch_state_machine_arn", "batch_source_buckets", "batch_destination_buckets",
                   "batch_job_role_arn", "image_url_role_arn")


def function_environment(settings: DeploymentSettings, resources: dict[str, str],
                         service: str) -> dict[str, str]:
    """Every CUTOUT_* variable the runtime settings model reads, plus Powertools' own."""
    environment: dict[str, str] = {}
    for field in fields(RuntimeSettings):
        if field.name in RESOURCE_FIELDS:
            value = resources[field.name]
        elif hasattr(settings, field.name):
            value = getattr(settings, field.name)
        else:
            raise SettingsError(f"runtime setting {field.name} has no deployment setting "
                                "(add it to infrastructure/settings.py)")
        environment[env_name(field.name)] = str(value).lower() if isinstance(value, bool) \
            else str(value)
    environment.update({
        "POWERTOOLS_SERVICE_NAME": service,
        "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
        "LOG_LEVEL": settings.log_level,
    })
    return environment


def architecture(settings: DeploymentSettings) -> lambda_.Architecture:
    return lambda_.Architecture.ARM_64 if settings.architecture == "arm64" \
        else lambda_.Architecture.X86_64


class FunctionBase(Construct):
    """The log group and execution role of one function, with only the baseline grants.

    The role is written out instead of using AWS managed policies (cdk-nag IAM4): logs go
    only to this function's own KMS-encrypted log group; the VPC permissions are the
    network-interface actions Lambda needs to place the function in the isolated subnets.
    """

    def __init__(self, scope: Construct, id: str, *, description: str, key: kms.IKey,
                 retention: logs.RetentionDays) -> None:
        super().__init__(scope, id)
        self.log_group = logs.LogGroup(self, "Logs", retention=retention, encryption_key=key)
        self.role = iam.Role(self, "Role", description=description,
                             assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
        self.log_group.grant_write(self.role)
        self.role.add_to_policy(iam.PolicyStatement(
            sid="AttachToIsolatedSubnets",
            actions=["ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces",
                     "ec2:DescribeSubnets", "ec2:DeleteNetworkInterface",
                     "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses"],
            resources=["*"]))
        acknowledge(
            self.role, "AwsSolutions-IAM5[Resource::*]",
            "Two statements use Resource '*'. (1) The EC2 network-interface actions Lambda "
            "performs with this role to attach the function to its subnets: "
            "ec2:DescribeNetworkInterfaces and ec2:DescribeSubnets have no resource-level "
            "permissions; CreateNetworkInterface, DeleteNetworkInterface and Assign/"
            "UnassignPrivateIpAddresses do support resource ARNs, but Lambda checks the "
            "role's permission for them when the function is created or its VPC settings "
            "change, and AWS documents '*' for them (as its own "
            "AWSLambdaVPCAccessExecutionRole grants). Which subnets and security group the "
            "interfaces use is fixed by the function's VPC configuration in this template, "
            "not by the role. (2) xray:PutTraceSegments and PutTelemetryRecords, which have "
            "no resource-level permissions, for active tracing. Neither grants access to any "
            "data; data access is scoped to bucket prefixes, the table and the key.")

    def function_options(self, settings: DeploymentSettings, network: Network,
                         environment: dict[str, str], key: kms.IKey) -> dict:
        """Keyword arguments every Function/DockerImageFunction of cutout is created with."""
        return {
            "role": self.role,
            "log_group": self.log_group,
            "environment": environment,
            "environment_encryption": key,
            "architecture": architecture(settings),
            "vpc": network.vpc,
            "vpc_subnets": network.subnets,
            "security_groups": [network.function_security_group],
            "tracing": lambda_.Tracing.ACTIVE,
        }


def grant_key(role: iam.IRole, key: kms.IKey, *actions: str) -> None:
    """Named KMS actions on the one key (no `kms:*` wildcards for cdk-nag IAM5)."""
    role.add_to_principal_policy(iam.PolicyStatement(actions=list(actions),
                                                     resources=[key.key_arn]))


# What the functions' own calls need from the key (the code never calls KMS itself):
# reading an SSE-KMS object (and the CMK-encrypted table) needs Decrypt; writing an SSE-KMS
# object, or signing a PUT another party executes, needs GenerateDataKey. Nothing needs
# kms:Encrypt (S3 and DynamoDB encrypt with data keys, not with the key itself).
KEY_READ = ("kms:Decrypt", "kms:DescribeKey")
KEY_WRITE = ("kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey")
