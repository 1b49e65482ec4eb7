"""Least-privilege grants written out action by action, scoped to real ARNs.

CDK's `grant_read_write` helpers add wildcard actions (`s3:GetObject*`, `kms:GenerateDataKey*`)
and whole-bucket object ARNs; cutout grants name each action and each key prefix instead, so
a reviewer can read exactly what every function may touch.
"""

from __future__ import annotations

from typing import cast

from aws_cdk import CfnElement, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import IConstruct

from cutout.data import schema
from infrastructure.nag import acknowledge


def grant_table(role: iam.IRole, table: dynamodb.ITable, *actions: str,
                index: str | None = None) -> None:
    """Named DynamoDB actions on the table (and one named index, never `index/*`)."""
    resources = [table.table_arn]
    if index:
        resources.append(f"{table.table_arn}/index/{index}")
    role.add_to_principal_policy(iam.PolicyStatement(actions=list(actions), resources=resources))


def grant_list(role: iam.IRole, bucket: s3.IBucket, *actions: str,
               prefix: str | None = None) -> None:
    """Bucket-level list actions, limited to listings under `prefix` when one is given."""
    conditions = {"StringLike": {"s3:prefix": [f"{prefix}*"]}} if prefix else None
    role.add_to_principal_policy(iam.PolicyStatement(
        actions=list(actions), resources=[bucket.bucket_arn], conditions=conditions))


def logical_id(construct: IConstruct) -> str:
    """The template's logical id of a construct's resource (how cdk-nag names it)."""
    return Stack.of(construct).get_logical_id(cast(CfnElement, construct.node.default_child))


def grant_objects(role: iam.IRole, bucket: s3.IBucket, prefix: str, *actions: str) -> None:
    """Named object actions under one key prefix of one bucket."""
    role.add_to_principal_policy(iam.PolicyStatement(
        actions=list(actions), resources=[bucket.arn_for_objects(f"{prefix}*")]))
    acknowledge(
        role, f"AwsSolutions-IAM5[Resource::<{logical_id(bucket)}.Arn>/{prefix}*]",
        f"Objects are created per request with unguessable keys, so the grant can only "
        f"name their key prefix: {', '.join(actions)} on '{prefix}*' of this one "
        f"bucket, nothing else in it.")


def grant_attribute_updates(role: iam.IRole, table: dynamodb.ITable, *attributes: str) -> None:
    """UpdateItem of the named attributes of account items only: no other attribute, no
    key-hash item (day counters, a job's counters, an erasure's progress).

    `dynamodb:Attributes` limits the request to the key and the named attributes (so the
    grant cannot touch an opt-in or a key unless named), and `LeadingKeys` to account
    partitions.
    """
    role.add_to_principal_policy(iam.PolicyStatement(
        actions=["dynamodb:UpdateItem"], resources=[table.table_arn],
        conditions={
            "ForAllValues:StringEquals": {
                "dynamodb:Attributes": [schema.PARTITION_KEY, schema.SORT_KEY, *attributes]},
            "ForAllValues:StringLike": {"dynamodb:LeadingKeys": [schema.account_pk("*")]},
            "StringEqualsIfExists": {"dynamodb:ReturnValues": "NONE"},
        }))


def grant_training_capture(role: iam.IRole, training_store: s3.IBucket) -> None:
    """Write an opted-in account's input and mask, and take a contribution back (an opt-out
    raced the capture) with every version of it."""
    # Every delete names a version (cutout.data.training.erase): no plain DeleteObject.
    grant_objects(role, training_store, schema.TRAINING_PREFIX,
                  "s3:PutObject", "s3:DeleteObjectVersion")
    grant_list(role, training_store, "s3:ListBucketVersions", prefix=schema.TRAINING_PREFIX)


def grant_job_writes(role: iam.IRole, table: dynamodb.ITable, *attributes: str) -> None:
    """PutItem/UpdateItem of an account's batch job items only: the named job attributes
    (never an opt-in, a key hash or a usage counter) in account partitions (never a key item).

    IAM cannot condition on the sort key, so this is what AWS can enforce; the data layer
    writes only `BATCH#` sort keys (cutout.data.batches) behind it.
    """
    role.add_to_principal_policy(iam.PolicyStatement(
        actions=["dynamodb:PutItem", "dynamodb:UpdateItem"], resources=[table.table_arn],
        conditions={
            "ForAllValues:StringEquals": {
                "dynamodb:Attributes": [schema.PARTITION_KEY, schema.SORT_KEY, *attributes]},
            "ForAllValues:StringLike": {"dynamodb:LeadingKeys": [schema.account_pk("*")]},
            "StringEqualsIfExists": {"dynamodb:ReturnValues": "NONE"},
        }))
