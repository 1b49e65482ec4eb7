"""The custom domain's DNS: what to point it at (stack outputs), and optionally the record.

A regional custom domain answers only once its name resolves to the domain's own API Gateway
target (`d-xxxx.execute-api.<region>.amazonaws.com`). The stack always outputs that target
and its hosted zone id, so the record can be made in any DNS; with `hosted_zone_id` and
`hosted_zone_name` it also creates a Route 53 alias record for the domain in that zone.
"""

from __future__ import annotations

from aws_cdk import CfnOutput
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_route53 as route53
from aws_cdk import aws_route53_targets as targets
from constructs import Construct

from infrastructure.settings import DeploymentSettings

# Stack outputs for the domain (present only with domain_name): keep the names stable.
DOMAIN_OUTPUTS = ("ApiDomainTarget", "ApiDomainHostedZoneId")


def add_domain_dns(stack: Construct, domain: apigw.DomainName,
                   settings: DeploymentSettings) -> route53.ARecord | None:
    """Outputs the DNS target of `domain`; adds its alias record when a zone is given."""
    CfnOutput(stack, DOMAIN_OUTPUTS[0], value=domain.domain_name_alias_domain_name,
              description=f"Point {settings.domain_name} here (CNAME, or an alias record)")
    CfnOutput(stack, DOMAIN_OUTPUTS[1], value=domain.domain_name_alias_hosted_zone_id,
              description="Hosted zone id of that target, for a Route 53 alias record")
    if not settings.hosted_zone_id:
        return None
    zone = route53.HostedZone.from_hosted_zone_attributes(
        stack, "ApiHostedZone", hosted_zone_id=settings.hosted_zone_id,
        zone_name=settings.hosted_zone_name)
    return route53.ARecord(
        stack, "ApiDomainRecord", zone=zone, record_name=settings.domain_name,
        target=route53.RecordTarget.from_alias(targets.ApiGatewayDomain(domain)),
        comment="cutout API custom domain")
