"""API: the REST API, its Lambda authorizer on every method, usage plan and stage logs.

Every route requires an API key that the authorizer checks (sha256 hash looked up in the
accounts table); the authorizer returns the hash as `usageIdentifierKey`, so the usage
plan throttles per key (`apiKeySource: AUTHORIZER`). Binary media type `*/*`: every body
reaches the handlers base64-encoded and they decode by `isBase64Encoded`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from aws_cdk import Duration, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from cutout.api.routes import ROUTES
from infrastructure.api_edge import (
    add_custom_domain,
    add_error_responses,
    add_web_acl,
    apply_tls_policy,
)
from infrastructure.nag import acknowledge
from infrastructure.network import Network
from infrastructure.settings import DeploymentSettings

API_KEY_HEADER = "x-api-key"
# What a stage access log line holds: who, what, how it ended. Never bodies, keys or URLs
# with query strings (signed URLs are never requested through the API anyway).
ACCESS_LOG_FIELDS = {
    "requestId": "$context.requestId", "time": "$context.requestTime",
    "ip": "$context.identity.sourceIp", "method": "$context.httpMethod",
    "resource": "$context.resourcePath", "status": "$context.status",
    "responseLength": "$context.responseLength", "latencyMs": "$context.responseLatency",
    "integrationLatencyMs": "$context.integrationLatency",
    "authorizerError": "$context.authorizer.error", "errorType": "$context.error.responseType",
    "tlsVersion": "$context.tlsVersion",  # what clients negotiate under the TLS policy
}


class Api(Construct):
    """Exposes `rest_api`, `usage_plan` and `url`."""

    def __init__(self, scope: Construct, id: str, *, settings: DeploymentSettings,
                 network: Network, key: kms.IKey, retention: logs.RetentionDays,
                 authorizer: lambda_.IFunction, functions: Mapping[str, lambda_.IFunction],
                 ) -> None:
        super().__init__(scope, id)
        access_logs = logs.LogGroup(self, "AccessLogs", retention=retention, encryption_key=key)
        cloudwatch_account = _ApiGatewayLogsRole(self, "CloudWatchRole") \
            if settings.manage_api_logging_role else None
        private = settings.private_api
        self.rest_api = apigw.RestApi(
            self, "Api",
            rest_api_name=f"cutout-{Stack.of(self).stack_name}",
            description="cutout background removal API",
            endpoint_configuration=apigw.EndpointConfiguration(
                types=[apigw.EndpointType.PRIVATE if private else apigw.EndpointType.REGIONAL],
                vpc_endpoints=[network.private_api_endpoint] if private else None),
            policy=_private_api_policy(network) if private else None,
            binary_media_types=["*/*"],
            # With a custom domain, it is the one URL (the execute-api URL carries the same
            # TLS policy, see apply_tls_policy, but two front doors are one too many).
            disable_execute_api_endpoint=bool(settings.domain_name),
            api_key_source_type=apigw.ApiKeySourceType.AUTHORIZER,
            cloud_watch_role=False,
            deploy_options=apigw.StageOptions(
                stage_name=settings.stage_name,
                logging_level=apigw.MethodLoggingLevel.ERROR,
                data_trace_enabled=False,  # would log request and response bodies: never
                metrics_enabled=True,
                tracing_enabled=True,
                # Stage-wide ceiling in front of the per-key usage plan: requests with made-up
                # keys (each an authorizer cache miss) are refused here too.
                throttling_rate_limit=settings.stage_throttle_rate_limit,
                throttling_burst_limit=settings.stage_throttle_burst_limit,
                access_log_destination=apigw.LogGroupLogDestination(access_logs),
                access_log_format=apigw.AccessLogFormat.custom(json.dumps(ACCESS_LOG_FIELDS))),
        )
        apply_tls_policy(self.rest_api, settings.tls_policy)
        if cloudwatch_account:
            self.rest_api.deployment_stage.node.add_dependency(cloudwatch_account)
        self.rest_api.node.try_remove_child("Endpoint")  # the stack's ApiUrl output replaces it
        # API Gateway writes ERROR-level execution logs here; created by us so that they are
        # KMS-encrypted and expire like every other log.
        execution_logs = logs.LogGroup(
            self, "ExecutionLogs", retention=retention, encryption_key=key,
            log_group_name=f"API-Gateway-Execution-Logs_{self.rest_api.rest_api_id}/"
                           f"{settings.stage_name}")
        # Before the stage serves anything, or API Gateway would create the group itself.
        self.rest_api.deployment_stage.node.add_dependency(execution_logs)

        key_authorizer = apigw.RequestAuthorizer(
            self, "KeyAuthorizer",
            handler=authorizer,
            identity_sources=[apigw.IdentitySource.header(API_KEY_HEADER)],
            results_cache_ttl=Duration.seconds(settings.authorizer_cache_ttl_seconds),
        )
        validator = self.rest_api.add_request_validator(
            "Validator", validate_request_body=True, validate_request_parameters=True)
        for route in ROUTES:  # the route table: one method per entry, nothing else
            resource = self.rest_api.root.resource_for_path(route.path)
            integration = apigw.LambdaIntegration(functions[route.function])
            if not route.authorized:
                _public_method(resource, route.method, integration)
                continue
            resource.add_method(
                route.method, integration,
                authorizer=key_authorizer,
                authorization_type=apigw.AuthorizationType.CUSTOM,
                api_key_required=True,
                request_validator=validator,
                request_parameters={f"method.request.header.{API_KEY_HEADER}": True})

        self.usage_plan = self.rest_api.add_usage_plan(
            "UsagePlan",
            description="cutout: per-API-key throttling; the admin CLI adds each key's hash",
            throttle=apigw.ThrottleSettings(rate_limit=settings.throttle_rate_limit,
                                            burst_limit=settings.throttle_burst_limit),
            quota=apigw.QuotaSettings(limit=settings.quota_requests_per_day,
                                      period=apigw.Period.DAY)
            if settings.quota_requests_per_day else None,
            api_stages=[apigw.UsagePlanPerApiStage(api=self.rest_api,
                                                   stage=self.rest_api.deployment_stage)],
        )
        add_error_responses(self.rest_api)
        if settings.waf_enabled:
            add_web_acl(self, self.rest_api, settings.waf_rate_limit)
        else:
            acknowledge(
                self.rest_api.deployment_stage, "AwsSolutions-APIG3",
                "WAF is the opt-in setting waf_enabled (it adds a monthly charge per web ACL "
                "and rule). Without it every method still requires a valid API key checked by "
                "the authorizer, and the usage plan throttles each key; enable WAF for "
                "internet-facing deployments that need per-IP rate limits.")
        self.url = self.rest_api.url
        if network.api_endpoint_needs_own_url:  # no private DNS: the endpoint-specific name
            stack = Stack.of(self)
            self.url = (f"https://{self.rest_api.rest_api_id}-"
                        f"{network.private_api_endpoint.vpc_endpoint_id}.execute-api.{stack.region}."
                        f"{stack.url_suffix}/{settings.stage_name}/")
        self.domain: apigw.DomainName | None = None
        if settings.domain_name:
            self.domain = add_custom_domain(self, self.rest_api, settings.domain_name,
                                            settings.certificate_arn, settings.tls_policy)
            self.url = f"https://{settings.domain_name}/"
        acknowledge(
            self.rest_api, "AwsSolutions-COG4",
            "Callers are applications holding cutout API keys, not Cognito users. Every "
            "method uses the REQUEST Lambda authorizer, which looks the key's sha256 up in "
            "the accounts table (revocable, hashed at rest) before any image is read.")


def _public_method(resource: apigw.IResource, method: str,
                   integration: apigw.Integration) -> None:
    """A route the table marks `authorized=False`: the account page's own files only."""
    public = resource.add_method(method, integration,
                                 authorization_type=apigw.AuthorizationType.NONE)
    reason = ("The account page's HTML, script and style sheet carry no data: they are the "
              "same static files for everyone and read nothing of any account. Every data "
              "call the page makes goes to an authorized /v1 route with the x-api-key the "
              "person pastes (kept in the tab only). The route table marks exactly these "
              "routes public and a template test asserts every other method has the "
              "authorizer.")
    acknowledge(public, "AwsSolutions-APIG4", reason)
    acknowledge(public, "AwsSolutions-COG4", reason)


def _private_api_policy(network: Network) -> iam.PolicyDocument:
    """A PRIVATE API must have a resource policy: invocable only through our VPC endpoint."""
    anyone, invoke = [iam.AnyPrincipal()], ["execute-api:Invoke"]
    return iam.PolicyDocument(statements=[
        iam.PolicyStatement(principals=anyone, actions=invoke, resources=["execute-api:/*"]),
        iam.PolicyStatement(
            effect=iam.Effect.DENY, principals=anyone, actions=invoke,
            resources=["execute-api:/*"],
            conditions={"StringNotEquals": {
                "aws:SourceVpce": network.private_api_endpoint.vpc_endpoint_id}}),
    ])


class _ApiGatewayLogsRole(Construct):
    """The region's API Gateway CloudWatch role (an account setting), with an inline policy.

    API Gateway refuses stage execution logging until the account has this role. CDK's own
    option attaches an AWS managed policy (cdk-nag IAM4); this one lists the actions instead.
    """

    def __init__(self, scope: Construct, id: str) -> None:
        super().__init__(scope, id)
        stack = Stack.of(self)
        log_groups = f"arn:{stack.partition}:logs:{stack.region}:{stack.account}:log-group:*"
        role = iam.Role(
            self, "Role", assumed_by=iam.ServicePrincipal("apigateway.amazonaws.com"),
            description="API Gateway: write REST API execution and access logs",
            inline_policies={"WriteApiLogs": iam.PolicyDocument(statements=[
                iam.PolicyStatement(
                    actions=["logs:CreateLogGroup", "logs:CreateLogStream",
                             "logs:DescribeLogGroups", "logs:DescribeLogStreams",
                             "logs:PutLogEvents", "logs:GetLogEvents", "logs:FilterLogEvents"],
                    resources=[log_groups])])})
        acknowledge(
            role, "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:"
            "<AWS::AccountId>:log-group:*]",
            "This is the region-wide API Gateway logging role (an account setting used "
            "by every REST API in the region), so it must reach every API's log groups, "
            "whose names API Gateway chooses. It is limited to this account and region "
            "and to CloudWatch Logs actions.")
        apigw.CfnAccount(self, "Account", cloud_watch_role_arn=role.role_arn)
