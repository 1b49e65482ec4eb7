"""The API's edge: gateway error responses in each route's contract, WAF, custom domain.

Requests the gateway rejects itself (no key, denied key, throttled, body over 10 MB) never
reach a handler, so their bodies are set here to the shape the route's handlers answer
with: remove.bg's `{"errors": [...]}` on the remove.bg routes, our `{"error": {...}}` with
the request id a customer quotes to support on every other.
"""

from __future__ import annotations

from typing import cast

from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from cutout.api.gateway_errors import GATEWAY_ERRORS, GATEWAY_HEADERS, retry_after
from cutout.api.gateway_templates import BODY_TEMPLATES

# The gateway's own answers, from the library's table (the local gateway renders the same
# templates): one Velocity body template per response type, remove.bg's shape on the
# remove.bg routes and ours on the others (`cutout.api.gateway_templates`).
ERROR_RESPONSES = tuple(
    (apigw.ResponseType.of(error.response_type),
     str(error.status) if error.status else None, BODY_TEMPLATES[error.response_type])
    for error in GATEWAY_ERRORS)
# Headers every gateway answer carries, like every handler answer (`GATEWAY_HEADERS`, the
# retention receipt `none` among them). Values are mapping expressions: `context.requestId`
# (unquoted) is the request id, a value in single quotes is a static string.
GATEWAY_RESPONSE_HEADERS = {
    **{name: f"'{value}'" for name, value in GATEWAY_HEADERS.items()},
    "X-Request-Id": "context.requestId",
}


def add_error_responses(api: apigw.RestApi) -> None:
    for response_type, status, template in ERROR_RESPONSES:
        headers = dict(GATEWAY_RESPONSE_HEADERS)
        headers.update({name: f"'{value}'"
                        for name, value in retry_after(int(status) if status else None).items()})
        api.add_gateway_response(
            f"{response_type.response_type.title().replace('_', '')}Response",
            type=response_type, status_code=status, response_headers=headers,
            templates={"application/json": template})


def add_web_acl(scope: Construct, api: apigw.RestApi, rate_limit: int) -> wafv2.CfnWebACL:
    """A rate-based rule per client IP plus AWS's common rules, minus the 8 KB body limit.

    `SizeRestrictions_BODY` would block every image (bodies over 8 KB), so it only counts.
    """
    def visibility(name: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
        return wafv2.CfnWebACL.VisibilityConfigProperty(
            cloud_watch_metrics_enabled=True, metric_name=name, sampled_requests_enabled=False)

    acl = wafv2.CfnWebACL(
        scope, "WebAcl",
        scope="REGIONAL",
        default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
        visibility_config=visibility("cutout-web-acl"),
        rules=[
            wafv2.CfnWebACL.RuleProperty(
                name="rate-limit-per-ip", priority=0,
                action=wafv2.CfnWebACL.RuleActionProperty(block={}),
                statement=wafv2.CfnWebACL.StatementProperty(
                    rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                        limit=rate_limit, aggregate_key_type="IP")),
                visibility_config=visibility("cutout-rate-limit")),
            wafv2.CfnWebACL.RuleProperty(
                name="aws-common-rules", priority=1,
                override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
                statement=wafv2.CfnWebACL.StatementProperty(
                    managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                        vendor_name="AWS", name="AWSManagedRulesCommonRuleSet",
                        rule_action_overrides=[wafv2.CfnWebACL.RuleActionOverrideProperty(
                            name="SizeRestrictions_BODY",
                            action_to_use=wafv2.CfnWebACL.RuleActionProperty(count={}))])),
                visibility_config=visibility("cutout-common-rules")),
        ],
    )
    wafv2.CfnWebACLAssociation(scope, "WebAclAssociation",
                               resource_arn=api.deployment_stage.stage_arn,
                               web_acl_arn=acl.attr_arn)
    return acl


def enhanced(tls_policy: str) -> bool:
    """Enhanced policies (`SecurityPolicy_*`) must come with an endpoint access mode."""
    return tls_policy.startswith("SecurityPolicy_")


def apply_tls_policy(api: apigw.RestApi, tls_policy: str) -> None:
    """The API's own TLS policy, on every endpoint type.

    A regional REST API without one negotiates TLS 1.0 on its execute-api URL; the RestApi
    L2 has no property for it, so it is set on the L1 resource (CloudFormation
    `SecurityPolicy`, plus `EndpointAccessMode: STRICT` for an enhanced policy: requests
    must arrive through the API's own endpoint type, with a matching SNI host).
    """
    resource = cast(apigw.CfnRestApi, api.node.default_child)
    resource.security_policy = tls_policy
    if enhanced(tls_policy):
        resource.endpoint_access_mode = "STRICT"


def add_custom_domain(scope: Construct, api: apigw.RestApi, domain_name: str,
                      certificate_arn: str, tls_policy: str) -> apigw.DomainName:
    """A regional custom domain with the API's TLS policy, mapped to the stage."""
    return api.add_domain_name(
        "CustomDomain",
        domain_name=domain_name,
        certificate=acm.Certificate.from_certificate_arn(scope, "Certificate", certificate_arn),
        # The CDK enum's members drop the "SecurityPolicy_" prefix that CloudFormation uses.
        security_policy=apigw.SecurityPolicy[tls_policy.removeprefix("SecurityPolicy_")],
        endpoint_access_mode=apigw.EndpointAccessMode.STRICT if enhanced(tls_policy) else None,
        endpoint_type=apigw.EndpointType.REGIONAL,
    )
