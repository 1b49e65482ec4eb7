"""Accounts: the DynamoDB table of accounts, API-key hashes and opt-in history.

Key names come from `cutout.data.schema` so the handlers, the local stack and this table
cannot disagree. On-demand billing (traffic is bursty), point-in-time recovery (the opt-in
history is the record of consent), encrypted with the customer's key.
"""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kms as kms
from constructs import Construct

from cutout.data import schema
from infrastructure.settings import DeploymentSettings


class Accounts(Construct):
    """Exposes `table`."""

    def __init__(self, scope: Construct, id: str, *, settings: DeploymentSettings,
                 key: kms.IKey) -> None:
        super().__init__(scope, id)
        string = dynamodb.AttributeType.STRING
        self.table = dynamodb.Table(
            self, "Table",
            partition_key=dynamodb.Attribute(name=schema.PARTITION_KEY, type=string),
            sort_key=dynamodb.Attribute(name=schema.SORT_KEY, type=string),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True),
            encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
            encryption_key=key,
            deletion_protection=settings.table_deletion_protection,
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.table.add_global_secondary_index(
            index_name=schema.ACCOUNT_INDEX,
            partition_key=dynamodb.Attribute(name=schema.ACCOUNT_INDEX_PARTITION_KEY, type=string),
            sort_key=dynamodb.Attribute(name=schema.ACCOUNT_INDEX_SORT_KEY, type=string),
            projection_type=dynamodb.ProjectionType.ALL,
        )
