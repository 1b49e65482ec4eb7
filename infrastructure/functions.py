"""The zip functions: authorizer, account and uploads, each with only what it needs.

They run the Python zip runtime with the shared library and Powertools as layers, in the
same isolated subnets as the inference function. Their grants are written action by action:
the authorizer may only GetItem; uploads may only put `uploads/*` (it presigns PUTs); account
reads and writes the table and lists/deletes the account's training data on opt-out.
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
from infrastructure.function_defaults import KEY_READ, KEY_WRITE, FunctionBase, grant_key
from infrastructure.grants import grant_list, grant_objects, grant_table
from infrastructure.layer import REPO_ROOT, ZIP_RUNTIME, SharedLibrary
from infrastructure.network import Network
from infrastructure.settings import DeploymentSettings


class ZipFunctions(Construct):
    """Exposes `authorizer`, `account` and `uploads` (lambda_.Function)."""

    def __init__(self, scope: Construct, id: str, *, settings: DeploymentSettings,
                 network: Network, key: kms.IKey, table: dynamodb.ITable,
                 transient_bucket: s3.IBucket, training_store: s3.IBucket,
                 environment: dict[str, dict[str, str]], retention: logs.RetentionDays) -> None:
        super().__init__(scope, id)
        self._settings, self._network, self._key = settings, network, key
        self._environment, self._retention = environment, retention
        self._layers = SharedLibrary(self, "SharedLibrary", settings=settings).layers

        self.authorizer, role = self._function(
            "Authorizer", "authorizer", "Checks the API key hash against the accounts table")
        grant_table(role, table, "dynamodb:GetItem")
        grant_key(role, key, *KEY_READ)

        self.account, role = self._function(
            "Account", "account", "Reads the account and changes its training opt-in")
        grant_table(role, table, "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem",
                    "dynamodb:Query", index=schema.ACCOUNT_INDEX)
        # Opting out deletes every object and version under the account's training prefix.
        grant_objects(role, training_store, schema.TRAINING_PREFIX,
                      "s3:DeleteObject", "s3:DeleteObjectVersion")
        grant_list(role, training_store, "s3:ListBucket", "s3:ListBucketVersions",
                   prefix=schema.TRAINING_PREFIX)
        grant_key(role, key, *KEY_WRITE)

        self.uploads, role = self._function(
            "Uploads", "uploads", "Presigns PUT URLs for large uploads")
        grant_objects(role, transient_bucket, schema.UPLOADS_PREFIX, "s3:PutObject")
        # The presigned PUT is executed with this role's credentials: SSE-KMS needs a data key.
        grant_key(role, key, "kms:GenerateDataKey", "kms:DescribeKey")

    def _function(self, id: str, name: str, description: str) -> tuple[lambda_.Function,
                                                                       iam.IRole]:
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
            timeout=Duration.seconds(10),
            **base.function_options(self._settings, self._network, self._environment[name],
                                    self._key),
        )
        return function, base.role
