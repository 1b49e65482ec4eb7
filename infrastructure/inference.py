"""Inference: the remove-background function as a container image in the isolated subnets.

A container image because the engine needs numpy, Pillow and ONNX Runtime plus the model
(far beyond the 250 MB zip limit). The Docker build context is the repository root, so the
image can copy `models/` and `layers/cutout`; `.dockerignore` allow-lists only those and the
function's folder. Synthesis stages the context and never builds it: no Docker needed.
"""

from __future__ import annotations

from aws_cdk import Annotations, Duration
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_ecr_assets as ecr_assets
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from constructs import Construct

from cutout.data import schema
from infrastructure.function_defaults import KEY_WRITE, FunctionBase, grant_key
from infrastructure.grants import (
    grant_attribute_updates,
    grant_list,
    grant_objects,
    grant_table,
    grant_training_capture,
)
from infrastructure.layer import REPO_ROOT
from infrastructure.model_image import image_excludes, memory_warning
from infrastructure.network import Network
from infrastructure.settings import DeploymentSettings

DOCKERFILE = "functions/remove_background/Dockerfile"


def inference_image(settings: DeploymentSettings, cmd: list[str] | None = None,
                    ) -> lambda_.DockerImageCode:
    """The inference image, built for the deployment's architecture, carrying only the
    chosen model; `cmd` picks another entry point of the same image (the batch worker)."""
    platform = ecr_assets.Platform.LINUX_ARM64 if settings.architecture == "arm64" \
        else ecr_assets.Platform.LINUX_AMD64
    return lambda_.DockerImageCode.from_image_asset(
        str(REPO_ROOT), file=DOCKERFILE, platform=platform, cmd=cmd,
        exclude=image_excludes(settings))


class Inference(Construct):
    """Exposes `function` (the remove-background DockerImageFunction)."""

    def __init__(self, scope: Construct, id: str, *, settings: DeploymentSettings,
                 network: Network, key: kms.IKey, table: dynamodb.ITable,
                 transient_bucket: s3.IBucket, training_store: s3.IBucket,
                 environment: dict[str, str], retention: logs.RetentionDays) -> None:
        super().__init__(scope, id)
        description = "cutout remove-background: runs the model on one image"
        base = FunctionBase(self, "Base", description=description, key=key, retention=retention)
        self.function = lambda_.DockerImageFunction(
            self, "Function",
            description=description,
            code=inference_image(settings),
            # 3008 MB: about 1.7 vCPU of credit (1,769 MB = 1 vCPU), so ONNX Runtime's second
            # thread pays for itself, and the most a new account may use before a quota raise.
            memory_size=settings.inference_memory_mb,
            timeout=Duration.seconds(settings.inference_timeout_seconds),
            reserved_concurrent_executions=settings.inference_reserved_concurrency or None,
            **base.function_options(settings, network, environment, key),
        )
        warning = memory_warning(settings)
        if warning:
            Annotations.of(self).add_warning_v2("cutout:model-memory", warning)
        role = base.role
        grant_table(role, table, "dynamodb:GetItem")
        grant_attribute_updates(role, table, *schema.USAGE_COUNTERS)  # requests and pixels per day
        # Uploads are read, and deleted once read under zero retention (the uploads function
        # presigns their PUT); results are written, signed for GET, and deleted when a link
        # cannot be signed.
        grant_objects(role, transient_bucket, schema.UPLOADS_PREFIX,
                      "s3:GetObject", "s3:DeleteObject")
        grant_objects(role, transient_bucket, schema.RESULTS_PREFIX,
                      "s3:GetObject", "s3:PutObject", "s3:DeleteObject")
        # Listing lets S3 answer 404 rather than 403 for an upload id that does not exist,
        # so a client's wrong id is a clean "not found" instead of a server error.
        grant_list(role, transient_bucket, "s3:ListBucket")
        grant_training_capture(role, training_store)
        # Decrypt reads uploads and signs result GETs; GenerateDataKey writes results and
        # training copies (SSE-KMS). No kms:Encrypt: nothing encrypts with the key directly.
        grant_key(role, key, *KEY_WRITE)
