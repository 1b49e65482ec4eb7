"""Storage: the customer-managed key, the transient bucket and the opt-in training store.

The transient bucket holds uploads and results for minutes; a 1-day lifecycle rule is the
backstop behind the sweeper and zero-retention deletes. The training store is a separate
bucket so that "kept beyond 24 hours" is one place a reviewer can inspect, and its retention
is a setting. Both are KMS-encrypted with the one key, TLS-only and never public.

Only the training store has S3 server access logs. The transient bucket is where clients PUT
and GET through presigned URLs, and a server access log line's Request-URI keeps the whole
query string (X-Amz-Credential, X-Amz-Security-Token, X-Amz-Signature): logging it would
store every signed link, breaking "logs never contain signed URLs".
"""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infrastructure.nag import acknowledge
from infrastructure.settings import DeploymentSettings


class Storage(Construct):
    """Exposes `key`, `key_alias`, `transient_bucket`, `training_store` and `access_logs`."""

    def __init__(self, scope: Construct, id: str, *, settings: DeploymentSettings) -> None:
        super().__init__(scope, id)
        stack = Stack.of(self)
        self.key_alias = f"alias/cutout/{stack.stack_name}"
        self.key = kms.Key(
            self, "Key",
            description="cutout: encrypts images, results, the accounts table and the logs",
            enable_key_rotation=True,
            alias=self.key_alias,
            removal_policy=RemovalPolicy.RETAIN,
        )
        # CloudWatch Logs encrypts log groups with the key only if the key policy lets the
        # regional Logs service use it, and only for log groups of this account and region.
        self.key.add_to_resource_policy(iam.PolicyStatement(
            principals=[iam.ServicePrincipal(f"logs.{stack.region}.amazonaws.com")],
            actions=["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*",
                     "kms:Describe*"],
            resources=["*"],
            conditions={"ArnLike": {"kms:EncryptionContext:aws:logs:arn":
                                    f"arn:{stack.partition}:logs:{stack.region}:"
                                    f"{stack.account}:log-group:*"}},
        ))

        # Server access logs of the training store: who touched which object key (never
        # object content). S3 delivers them only to an SSE-S3 bucket, so this one bucket is
        # not KMS-encrypted.
        self.access_logs = s3.Bucket(
            self, "AccessLogs",
            encryption=s3.BucketEncryption.S3_MANAGED,
            **_private_bucket_options(),
            lifecycle_rules=[s3.LifecycleRule(
                expiration=Duration.days(settings.access_log_retention_days),
                abort_incomplete_multipart_upload_after=Duration.days(1))],
        )

        self.transient_bucket = s3.Bucket(
            self, "TransientBucket",
            encryption=s3.BucketEncryption.KMS,
            encryption_key=self.key,
            bucket_key_enabled=True,
            **_private_bucket_options(),
            # No server_access_logs_bucket, on purpose: see the module docstring.
            lifecycle_rules=[s3.LifecycleRule(
                id="expire-after-one-day",
                expiration=Duration.days(1),
                abort_incomplete_multipart_upload_after=Duration.days(1)),
                _noncurrent_versions_rule()],
        )
        acknowledge(
            self.transient_bucket, "AwsSolutions-S1",
            "Server access logs are off on this bucket only, deliberately: clients PUT uploads "
            "and GET results here through presigned URLs, and each access log line's "
            "Request-URI keeps the full query string (X-Amz-Credential, X-Amz-Security-Token, "
            "X-Amz-Signature), so the logs would hold every signed link while it is still "
            "valid. Object-level audit of this bucket belongs to CloudTrail S3 data events "
            "(an account's trail, not created by this stack), whose requestParameters for a "
            "presigned request keep X-Amz-Date, X-Amz-Expires, X-Amz-Algorithm and "
            "X-Amz-SignedHeaders but not the credential, token or signature. Objects here are "
            "transient (the 24-hour rule); the training store, never reached through "
            "presigned URLs, keeps its server access logs.")

        self.training_store = s3.Bucket(
            self, "TrainingStore",
            encryption=s3.BucketEncryption.KMS,
            encryption_key=self.key,
            bucket_key_enabled=True,
            **_private_bucket_options(),
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix="training/",
            lifecycle_rules=[s3.LifecycleRule(
                id="expire-training-data",
                expiration=Duration.days(settings.training_retention_days),
                abort_incomplete_multipart_upload_after=Duration.days(1)),
                _noncurrent_versions_rule()],
        )


def _private_bucket_options() -> dict:
    """What every bucket shares: never public, TLS 1.2+ only, no ACLs, no old versions.

    Versioning stays off on purpose: a delete (sweeper, zero retention, opt-out) must
    really remove the bytes rather than leave a noncurrent version behind.
    """
    return {
        "block_public_access": s3.BlockPublicAccess.BLOCK_ALL,
        "enforce_ssl": True,
        "minimum_tls_version": 1.2,
        "object_ownership": s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        "versioned": False,
        "removal_policy": RemovalPolicy.RETAIN,
    }


def _noncurrent_versions_rule() -> s3.LifecycleRule:
    """If versioning is ever turned on (by hand, or by an organisation policy), what a delete
    leaves behind still expires: noncurrent versions after a day, then their delete markers.

    The deletes themselves already remove every version (the training store's deletes list
    versions); this rule is the backstop for any other path.
    """
    return s3.LifecycleRule(id="expire-noncurrent-versions",
                            noncurrent_version_expiration=Duration.days(1),
                            expired_object_delete_marker=True)
