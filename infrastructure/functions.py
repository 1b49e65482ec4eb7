"""The zip functions: authorizer, account, uploads and sweeper, each with only what it needs.

They run the Python zip runtime with the shared library and Powertools as layers, in the
same isolated subnets as the inference function. Their grants are written action by action:
the authorizer may only GetItem; uploads may only put `uploads/*` (it presigns PUTs); account
reads and writes the table and lists/deletes the account's training data on opt-out; the
sweeper lists the transient bucket and deletes under `uploads/`, `results/` and `batches/`,
and erases the training data of accounts not opted in.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from constructs import Construct

from cutout.data import schema
from cutout.data.accounts import ERASURE_PROGRESS_ATTRIBUTES
from cutout.data.batches import BATCHES_PREFIX
from cutout.limits import API_GATEWAY_TIMEOUT_SECONDS
from cutout.service.retention import RUN_TIME
from infrastructure.function_defaults import KEY_READ, FunctionBase, grant_key
from infrastructure.grants import grant_attribute_updates, grant_list, grant_objects, grant_table
from infrastructure.layer import REPO_ROOT, ZIP_RUNTIME, SharedLibrary
from infrastructure.network import Network
from infrastructure.settings import DeploymentSettings


class ZipFunctions(Construct):
    """Exposes `authorizer`, `account`, `uploads` and `sweeper`."""

    def __init__(self, scope: Construct, id: str, *, settings: DeploymentSettings,
                 network: Network, key: kms.IKey, table: dynamodb.ITable,
                 transient_bucket: s3.IBucket, training_store: s3.IBucket,
                 environment: dict[str, dict[str, str]], retention: logs.RetentionDays) -> None:
        super().__init__(scope, id)
        self._settings, self._network, self._key = settings, network, key
        self._environment, self._retention = environment, retention
        self._layers = SharedLibrary(self, "SharedLibrary", settings=settings).layers

        self.authorizer, role = self._function(
            "Authorizer", "authorizer", "Checks the API key hash against the accounts table",
            reserved=settings.authorizer_reserved_concurrency)
        grant_table(role, table, "dynamodb:GetItem")
        grant_key(role, key, *KEY_READ)

        # Opting out deletes the account's training data in the same request: allow up to the
        # API's own limit.
        self.account, role = self._function(
            "Account", "account", "Reads the account and changes its training opt-in",
            timeout_seconds=API_GATEWAY_TIMEOUT_SECONDS)
        grant_table(role, table, "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem",
                    "dynamodb:Query", index=schema.ACCOUNT_INDEX)
        # Opting out deletes every object and version under the account's training prefix.
        # (every delete names a version: cutout.data.training.erase)
        grant_objects(role, training_store, schema.TRAINING_PREFIX, "s3:DeleteObjectVersion")
        grant_list(role, training_store, "s3:ListBucketVersions", prefix=schema.TRAINING_PREFIX)
        # Table reads and writes and S3 deletes: the key is only ever decrypted with.
        grant_key(role, key, *KEY_READ)

        self.uploads, role = self._function(
            "Uploads", "uploads", "Presigns PUT URLs for large uploads")
        grant_objects(role, transient_bucket, schema.UPLOADS_PREFIX, "s3:PutObject")
        # The presigned PUT is executed with this role's credentials: SSE-KMS needs a data key
        # (and nothing else: S3 does not describe the key with the caller's permissions).
        grant_key(role, key, "kms:GenerateDataKey")

        # The 24-hour sweeper, scheduled by the Retention construct (retention.py).
        self.sweeper, role = self._function(
            "Sweeper", "sweeper", "Deletes transient objects before they pass 24 hours",
            # the run time the 24-hour arithmetic assumes (cutout.service.retention)
            timeout_seconds=int(RUN_TIME.total_seconds()))
        for prefix in (schema.UPLOADS_PREFIX, schema.RESULTS_PREFIX, BATCHES_PREFIX):
            grant_objects(role, transient_bucket, prefix, "s3:DeleteObject")
        grant_list(role, transient_bucket, "s3:ListBucket")
        # Training reconciliation (cutout.service.erasure): it lists the training store,
        # reads each account's opt-in and deletes the data of accounts not opted in,
        # recording an opt-out's erasure progress on the account's profile item.
        grant_objects(role, training_store, schema.TRAINING_PREFIX,
                      "s3:DeleteObjectVersion")
        grant_list(role, training_store, "s3:ListBucketVersions",
                   prefix=schema.TRAINING_PREFIX)
        grant_table(role, table, "dynamodb:GetItem")
        # its erasure's progress only (the opt-in is read by the update's condition)
        grant_attribute_updates(role, table, *ERASURE_PROGRESS_ATTRIBUTES)
        grant_key(role, key, *KEY_READ)

    def _function(self, id: str, name: str, description: str, timeout_seconds: int = 10,
                  reserved: int = 0,
                  ) -> tuple[lambda_.Function, iam.IRole]:
        base = FunctionBase(self, f"{id}Base", description=f"cutout {name}: {description}",
                            key=self._key, retention=self._retention)
        function = lambda_.Function(
            self, id,
            description=f"cutout {name}: {description}",
            runtime=ZIP_RUNTIME,
            handler="handler.handler",
            code=lambda_.Code.from_asset(str(REPO_ROOT / "functions" / name),
                                         exclude=["__pycache__", "*.pyc"]),
            layers=self._layers,
            memory_size=self._settings.function_memory_mb,
            timeout=Duration.seconds(timeout_seconds),
            reserved_concurrent_executions=reserved or None,
            **base.function_options(self._settings, self._network, self._environment[name],
                                    self._key),
        )
        return function, base.role
