"""moto on loopback standing in for S3, DynamoDB, KMS, Step Functions, Lambda and API
Gateway's usage plan, with the resources the stack creates.

The resources are configured as the CDK stack configures them (customer-managed key with
rotation, SSE-KMS buckets with a bucket key, public access blocked, owner-enforced, 1-day
lifecycle on the transient bucket, 365 days on the training store, on-demand KMS-encrypted
table with PITR, a REST API with a usage plan on its `prod` stage), so the handlers meet
locally what they meet in AWS. A CloudFormation stack named as the deployed one carries the
same outputs (`UsagePlanId`...), so the admin CLI finds the plan locally as it does in AWS.
Catalogue batches run on the deployment's own state machine, executed by moto's States
Language interpreter, its worker function in moto's Lambda (`cutout.local.batch_machine`).
The server runs in this process (a thread): one process to stop, nothing orphaned if it is
killed.
"""

from __future__ import annotations

import json
import os
import re
import warnings
from dataclasses import dataclass, replace
from typing import Any

import boto3
from moto.core.config import default_user_config

from cutout.data import schema
from cutout.data.usage_plans import DEFAULT_STACK_NAME, USAGE_PLAN_OUTPUT
from cutout.local.batch_machine import (
    INTERPRETER_CONFIG,
    INTERPRETER_CREDENTIALS,
    WORKER_FUNCTION,
    create_batch_machine,
)
from cutout.local.presign_check import SignatureVerifier
from cutout.settings import default

REGION = "us-east-1"
# moto accepts any credentials; these are fixed so the presigned-URL verifier can check
# signatures, and are obviously not real ones.
ACCESS_KEY_ID = "AKIALOCALCUTOUT00000"
SECRET_ACCESS_KEY = "local-cutout-secret-not-a-real-key"  # noqa: S105 - moto only

KMS_ALIAS = "alias/cutout-local"
ACCOUNTS_TABLE = "cutout-local-accounts"
TRANSIENT_BUCKET = "cutout-local-transient"
TRAINING_BUCKET = "cutout-local-training"
# Stands in for a customer's bucket of catalogue images: the local source allow-list (batches
# and image_url) and destination list; `cutout serve --catalogue-bucket NAME` names another.
CATALOGUE_BUCKET = "cutout-local-catalogue"
_BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
# moto's one account: where its STS makes the batch-job role's sessions
BATCH_JOB_ROLE_ARN = "arn:aws:iam::123456789012:role/cutout-batch-job"
IMAGE_URL_ROLE_ARN = "arn:aws:iam::123456789012:role/cutout-image-url"
IN_MEMORY_OBJECT_BYTES = 128 * 1024 * 1024
# the stack's default `training_retention_days` (the functions' own default: one source)
TRAINING_RETENTION_DAYS: int = default("training_retention_days")
STAGE = "prod"
# The account page's signed upload and result download cross from the API's origin to the
# bucket's (a CORS request): the local API's loopback names, on its one port.
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")


def page_cors_rule(origins: tuple[str, ...] | list[str]) -> dict[str, Any]:
    """The transient bucket's one CORS rule: the page's signed PUT and GET, nothing else."""
    return {
        "AllowedOrigins": list(origins),
        "AllowedMethods": ["PUT", "GET"],
        "AllowedHeaders": ["content-type", "x-amz-server-side-encryption",
                           "x-amz-server-side-encryption-aws-kms-key-id"],
        "MaxAgeSeconds": 600,
    }


@dataclass(frozen=True)
class LocalResources:
    """Where the local stand-ins for AWS live: what the handlers' settings point at."""

    endpoint_url: str
    kms_key_arn: str
    region: str = REGION
    kms_alias: str = KMS_ALIAS
    accounts_table: str = ACCOUNTS_TABLE
    transient_bucket: str = TRANSIENT_BUCKET
    training_bucket: str = TRAINING_BUCKET
    catalogue_bucket: str = CATALOGUE_BUCKET
    usage_plan_id: str = ""
    rest_api_id: str = ""
    batch_state_machine_arn: str = ""
    stack_name: str = DEFAULT_STACK_NAME

    def settings_environment(self) -> dict[str, str]:
        """The CUTOUT_* settings of the functions (the worker function's variables too)."""
        return {
            "CUTOUT_ACCOUNTS_TABLE": self.accounts_table,
            "CUTOUT_TRANSIENT_BUCKET": self.transient_bucket,
            "CUTOUT_TRAINING_BUCKET": self.training_bucket,
            "CUTOUT_KMS_KEY_ID": self.kms_key_arn,
            "CUTOUT_BATCH_STATE_MACHINE_ARN": self.batch_state_machine_arn,
            "CUTOUT_BATCH_SOURCE_BUCKETS": self.catalogue_bucket,
            "CUTOUT_BATCH_DESTINATION_BUCKETS": self.catalogue_bucket,
            # each job's items through its own session (moto's STS enforces no policy)
            "CUTOUT_BATCH_JOB_ROLE_ARN": BATCH_JOB_ROLE_ARN,
            # each image_url read through a one-object session of its role
            "CUTOUT_IMAGE_URL_ROLE_ARN": IMAGE_URL_ROLE_ARN,
        }

    def environment(self) -> dict[str, str]:
        """The variables a handler process needs: CUTOUT_* settings and the AWS endpoint."""
        return {
            **self.settings_environment(),
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_ACCESS_KEY_ID": ACCESS_KEY_ID,
            "AWS_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_REGION": self.region,
        }

    def client(self, service: str) -> Any:
        """A boto3 client for this stack, independent of the process environment."""
        return boto3.client(
            service,
            endpoint_url=self.endpoint_url,
            region_name=self.region,
            aws_access_key_id=ACCESS_KEY_ID,
            aws_secret_access_key=SECRET_ACCESS_KEY,
        )


class MotoStack:
    """Start moto's server on loopback, create the stack's resources, stop it cleanly."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0,
                 catalogue_bucket: str = CATALOGUE_BUCKET) -> None:
        self._host = host
        self._port = port
        self._catalogue_bucket = check_catalogue_bucket(catalogue_bucket)
        self._server: Any = None
        self.resources: LocalResources | None = None

    def start(self) -> LocalResources:
        """Listen (port 0 picks a free one) and create key, buckets and table."""
        from cutout.local.moto_server import LoopbackMotoServer

        # moto spills objects over ~5 MB to temporary files; keep every image in memory so
        # "gone when it stops" holds for uploads too (the API accepts up to 64 MB).
        os.environ.setdefault("MOTO_S3_DEFAULT_KEY_BUFFER_SIZE", str(IN_MEMORY_OBJECT_BYTES))
        verifier = SignatureVerifier(ACCESS_KEY_ID, SECRET_ACCESS_KEY, issued=_issued_secret)
        self._server = LoopbackMotoServer(self._host, self._port, verifier)
        self._server.start()
        host, port = self._server.address
        # moto's interpreter calls S3 and Lambda at http://localhost:$MOTO_PORT (the
        # Distributed Map's reader and writer, the worker's invoke): this server's port.
        os.environ["MOTO_PORT"] = str(port)
        endpoint = f"http://{host}:{port}"
        key_arn = _create_key(_client("kms", endpoint))
        self.resources = LocalResources(endpoint_url=endpoint, kms_key_arn=key_arn,
                                        catalogue_bucket=self._catalogue_bucket)
        s3 = _client("s3", endpoint)
        _create_bucket(s3, TRANSIENT_BUCKET, key_arn, "expire-after-one-day", 1)
        _create_bucket(s3, TRAINING_BUCKET, key_arn, "expire-training-data",
                       TRAINING_RETENTION_DAYS)
        _create_table(_client("dynamodb", endpoint), ACCOUNTS_TABLE, key_arn)
        # the customer's: no rules of ours on it
        s3.create_bucket(Bucket=self._catalogue_bucket)
        api_id, plan_id = _create_usage_plan(_client("apigateway", endpoint))
        self.resources = replace(self.resources, usage_plan_id=plan_id, rest_api_id=api_id)
        self.resources = replace(self.resources,
                                 batch_state_machine_arn=_create_batch_machine(self.resources))
        _publish_outputs(_client("cloudformation", endpoint), self.resources)
        return self.resources

    def allow_page_origins(self, api_port: int) -> None:
        """Let the account page served on `api_port` PUT and GET its signed links (CORS).

        As the stack admits only the API's own origin: here the loopback names on that port.
        """
        if self.resources is None:
            raise RuntimeError("start() first")
        origins = [f"http://{name}:{api_port}" for name in LOOPBACK_NAMES]
        self.resources.client("s3").put_bucket_cors(
            Bucket=TRANSIENT_BUCKET, CORSConfiguration={"CORSRules": [page_cors_rule(origins)]})

    def stop(self) -> None:
        """Stop serving and release the port; safe to call twice."""
        if self._server is not None:
            self._server.stop()
            self._server = None

    def __enter__(self) -> LocalResources:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def check_catalogue_bucket(name: str) -> str:
    """`name` if it can be the local catalogue bucket: an S3 bucket name that is not one of
    the stack's own buckets (the functions refuse those on an allow-list)."""
    if not _BUCKET_NAME.fullmatch(name) or ".." in name:
        raise ValueError(f"{name!r} is not an S3 bucket name (3-63 of a-z, 0-9, '.', '-')")
    if name in (TRANSIENT_BUCKET, TRAINING_BUCKET):
        raise ValueError(f"{name!r} is the local stack's own bucket: name another")
    return name


def _client(service: str, endpoint: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=ACCESS_KEY_ID,
        aws_secret_access_key=SECRET_ACCESS_KEY,
    )


def _issued_secret(access_key_id: str) -> str | None:
    """The secret of a key this moto issued: its interpreter's fixed pair, or the temporary
    credentials of an STS session (the batch worker's job sessions), as AWS accepts them.
    The session token is not checked (moto does not check it either)."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.sts.models import sts_backends

    if access_key_id in INTERPRETER_CREDENTIALS:
        return INTERPRETER_CREDENTIALS[access_key_id]
    session = sts_backends[DEFAULT_ACCOUNT_ID]["aws"].get_assumed_role_from_access_key(
        access_key_id)
    return None if session is None else str(session.secret_access_key)


def _create_batch_machine(resources: LocalResources) -> str:
    """The interpreter on, then the worker and the state machine as the template has them."""
    # What the server's POST /moto-api/config does (moto_api_backend.set_config): that call is
    # unsigned, which our signature check refuses, and the server runs in this process.
    default_user_config.update(INTERPRETER_CONFIG)  # type: ignore[typeddict-item]
    arn = create_batch_machine(resources.client, transient_bucket=resources.transient_bucket,
                               environment=resources.settings_environment())
    # The worker's variables are every function's, the state machine's ARN included (as the
    # stack sets them); it is known once the machine exists.
    resources.client("lambda").update_function_configuration(
        FunctionName=WORKER_FUNCTION, Environment={"Variables": replace(
            resources, batch_state_machine_arn=arn).settings_environment()})
    return arn


def _create_key(kms: Any) -> str:
    key = kms.create_key(
        Description="cutout local stack: buckets and accounts table",
        KeyUsage="ENCRYPT_DECRYPT",
        KeySpec="SYMMETRIC_DEFAULT",
    )["KeyMetadata"]
    kms.enable_key_rotation(KeyId=key["KeyId"])
    kms.create_alias(AliasName=KMS_ALIAS, TargetKeyId=key["KeyId"])
    return key["Arn"]


def _create_bucket(s3: Any, name: str, key_arn: str, rule_id: str, expire_days: int) -> None:
    # The stack's TLS-only bucket policy is not applied here: moto evaluates it without
    # knowing `aws:SecureTransport` and denies every request (measured with moto 5.2), and
    # the local endpoint is plain HTTP on loopback anyway.
    s3.create_bucket(Bucket=name)
    s3.put_public_access_block(
        Bucket=name,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    s3.put_bucket_encryption(
        Bucket=name,
        ServerSideEncryptionConfiguration={
            "Rules": [
                {
                    "ApplyServerSideEncryptionByDefault": {
                        "SSEAlgorithm": "aws:kms",
                        "KMSMasterKeyID": key_arn,
                    },
                    "BucketKeyEnabled": True,
                }
            ]
        },
    )
    s3.put_bucket_ownership_controls(
        Bucket=name, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    )
    rule = {
        "ID": rule_id,
        "Status": "Enabled",
        "Filter": {"Prefix": ""},
        "Expiration": {"Days": expire_days},
        "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
    }
    s3.put_bucket_lifecycle_configuration(Bucket=name, LifecycleConfiguration={"Rules": [rule]})


def _create_table(dynamodb: Any, name: str, key_arn: str) -> None:
    string = "S"
    dynamodb.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": schema.PARTITION_KEY, "AttributeType": string},
            {"AttributeName": schema.SORT_KEY, "AttributeType": string},
            {"AttributeName": schema.ACCOUNT_INDEX_PARTITION_KEY, "AttributeType": string},
            {"AttributeName": schema.ACCOUNT_INDEX_SORT_KEY, "AttributeType": string},
        ],
        KeySchema=[
            {"AttributeName": schema.PARTITION_KEY, "KeyType": "HASH"},
            {"AttributeName": schema.SORT_KEY, "KeyType": "RANGE"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": schema.ACCOUNT_INDEX,
                "KeySchema": [
                    {"AttributeName": schema.ACCOUNT_INDEX_PARTITION_KEY, "KeyType": "HASH"},
                    {"AttributeName": schema.ACCOUNT_INDEX_SORT_KEY, "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        SSESpecification={"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": key_arn},
    )
    dynamodb.update_continuous_backups(
        TableName=name,
        PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
    )


def _create_usage_plan(apigateway: Any) -> tuple[str, str]:
    """The REST API's id and its usage plan's, on the stage the local gateway serves."""
    api_id = apigateway.create_rest_api(name="cutout-local",
                                        apiKeySource="AUTHORIZER")["id"]
    plan = apigateway.create_usage_plan(
        name="cutout-local", description="cutout local stack: keys the gateway admits",
        apiStages=[{"apiId": api_id, "stage": STAGE}])
    return api_id, plan["id"]


def _publish_outputs(cloudformation: Any, resources: LocalResources) -> None:
    """A stack named as the deployed one, with the outputs the admin CLI reads."""
    outputs = {
        USAGE_PLAN_OUTPUT: resources.usage_plan_id,
        "RestApiId": resources.rest_api_id,
        "StageName": STAGE,
        "AccountsTableName": resources.accounts_table,
        "TransientBucketName": resources.transient_bucket,
        "TrainingBucketName": resources.training_bucket,
        "KmsKeyId": resources.kms_key_arn,
        "KmsKeyAlias": resources.kms_alias,
    }
    template = {
        # CloudFormation needs one resource; the real ones were made above, directly.
        "Resources": {"LocalStack": {"Type": "AWS::CloudFormation::WaitConditionHandle"}},
        "Outputs": {name: {"Value": value} for name, value in outputs.items()},
    }
    with warnings.catch_warnings():  # moto notes that it does not model the placeholder
        warnings.simplefilter("ignore", UserWarning)
        cloudformation.create_stack(StackName=resources.stack_name,
                                    TemplateBody=json.dumps(template))
