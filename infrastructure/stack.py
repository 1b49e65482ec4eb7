"""The cutout stack: wires the constructs, one concern each, and exports what the CLI needs."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_logs as logs
from constructs import Construct

from cutout.api.routes import ACCOUNT, REMOVE_BACKGROUND, UPLOADS
from cutout.data.schema import ACCOUNT_INDEX
from infrastructure.account_page import allow_page_transfers
from infrastructure.accounts import Accounts
from infrastructure.api import Api
from infrastructure.batch import Batch, allow_listed_buckets, batch_resources
from infrastructure.domain_dns import add_domain_dns
from infrastructure.function_defaults import function_environment
from infrastructure.functions import ZipFunctions
from infrastructure.inference import Inference
from infrastructure.monitoring import Monitoring
from infrastructure.network import Network
from infrastructure.retention import Retention
from infrastructure.settings import LOG_RETENTION_DAYS, DeploymentSettings
from infrastructure.storage import Storage

# Stack outputs the admin CLI and the docs rely on: keep the names stable.
OUTPUTS = ("ApiUrl", "RestApiId", "UsagePlanId", "AccountsTableName", "TransientBucketName",
           "TrainingBucketName", "KmsKeyId", "KmsKeyAlias", "StageName")


class CutoutStack(Stack):
    """Everything one customer deploys: private network, storage, functions, API, alarms."""

    def __init__(self, scope: Construct, id: str, *, settings: DeploymentSettings,
                 **kwargs) -> None:
        super().__init__(scope, id, **kwargs)
        self.settings = settings
        retention = getattr(logs.RetentionDays, LOG_RETENTION_DAYS[settings.log_retention_days])

        storage = Storage(self, "Storage", settings=settings)
        accounts = Accounts(self, "Accounts", settings=settings, key=storage.key)
        network = Network(self, "Network", settings=settings, key=storage.key,
                          log_retention=retention)

        if not settings.imports_vpc and network.gateway_endpoints:
            network.restrict_gateway_endpoints(
                [storage.transient_bucket, storage.training_store,
                 *allow_listed_buckets(self, settings)], accounts.table,
                index=ACCOUNT_INDEX)

        resources = {
            "accounts_table": accounts.table.table_name,
            "transient_bucket": storage.transient_bucket.bucket_name,
            "training_bucket": storage.training_store.bucket_name,
            "kms_key_id": storage.key.key_arn,
            **batch_resources(self, settings),
        }
        environment = {name: {**function_environment(settings, resources, service=name),
                              **network.endpoint_environment}
                       for name in ("remove_background", "authorizer", "account", "uploads",
                                    "sweeper")}
        data: dict[str, Any] = {"key": storage.key, "table": accounts.table,
                "transient_bucket": storage.transient_bucket,
                "training_store": storage.training_store}

        inference = Inference(self, "Inference", settings=settings, network=network,
                              environment=environment["remove_background"], retention=retention,
                              **data)
        zip_functions = ZipFunctions(self, "Functions", settings=settings, network=network,
                                     environment=environment, retention=retention, **data)

        api = Api(self, "Api", settings=settings, network=network, key=storage.key,
                  retention=retention, authorizer=zip_functions.authorizer, functions={
                      # the route table (cutout.api.routes) names each route's function
                      REMOVE_BACKGROUND: inference.function, UPLOADS: zip_functions.uploads,
                      ACCOUNT: zip_functions.account,
                  })
        allow_page_transfers(storage.transient_bucket, api.rest_api, settings, network)
        monitored = {"RemoveBackground": inference.function,
                     "Authorizer": zip_functions.authorizer, "Account": zip_functions.account,
                     "Uploads": zip_functions.uploads}
        if settings.batch_source_buckets:  # catalogue batches (docs/batch.md)
            batch = Batch(self, "Batch", settings=settings, network=network,
                          environment=environment["remove_background"], retention=retention,
                          api_function=inference.function, **data)
            monitored["BatchWorker"] = batch.worker
        Retention(self, "Retention", settings=settings, sweeper=zip_functions.sweeper)
        monitored["Sweeper"] = zip_functions.sweeper
        Monitoring(self, "Monitoring", settings=settings, api=api.rest_api, functions=monitored)

        for name, value in (
            ("ApiUrl", api.url), ("RestApiId", api.rest_api.rest_api_id),
            ("UsagePlanId", api.usage_plan.usage_plan_id),
            ("AccountsTableName", accounts.table.table_name),
            ("TransientBucketName", storage.transient_bucket.bucket_name),
            ("TrainingBucketName", storage.training_store.bucket_name),
            ("KmsKeyId", storage.key.key_id),
            ("KmsKeyAlias", storage.key_alias),
            ("StageName", settings.stage_name),
        ):
            CfnOutput(self, name, value=value)
        if api.domain:
            add_domain_dns(self, api.domain, settings)
