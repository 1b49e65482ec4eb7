"""Network: isolated subnets with no route to the internet, reached AWS only through endpoints.

By default a new VPC with private isolated subnets only: no NAT gateway, no internet
gateway. S3 and DynamoDB are reached through (free) gateway endpoints; the interface
endpoints listed in the `interface_endpoints` setting admit HTTPS only from the functions'
security group. The enterprise variant imports an existing VPC and subnets by id, and must
not change it for anyone else: no second gateway endpoint where the route tables already
have one (`existing_s3_endpoint`, `existing_dynamodb_endpoint`), and no private DNS on the
endpoints it creates (settings.py refuses it), since that would answer for the service
across the whole VPC; the functions then get each endpoint's URL as AWS_ENDPOINT_URL_*.
"""

from __future__ import annotations

from aws_cdk import Fn
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infrastructure.settings import DeploymentSettings

_service = ec2.InterfaceVpcEndpointAwsService
# The names the `interface_endpoints` setting accepts (settings.KNOWN_INTERFACE_ENDPOINTS).
INTERFACE_SERVICES = {
    "kms": _service.KMS,
    "logs": _service.CLOUDWATCH_LOGS,
    "xray": _service.XRAY,
    "sts": _service.STS,
    "monitoring": _service.CLOUDWATCH_MONITORING,
    "states": _service.STEP_FUNCTIONS,  # batch jobs: the API function starts executions
}
# The AWS SDKs' service-specific endpoint variables (AWS_ENDPOINT_URL_<service id>): how the
# functions reach an interface endpoint that has no private DNS.
ENDPOINT_URL_VARIABLES = {
    "kms": "AWS_ENDPOINT_URL_KMS",
    "logs": "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS",
    "xray": "AWS_ENDPOINT_URL_XRAY",
    "sts": "AWS_ENDPOINT_URL_STS",
    "monitoring": "AWS_ENDPOINT_URL_CLOUDWATCH",
    "states": "AWS_ENDPOINT_URL_SFN",
}


class Network(Construct):
    """Exposes `vpc`, `subnets`, `function_security_group` and the endpoints it created."""

    def __init__(self, scope: Construct, id: str, *, settings: DeploymentSettings,
                 key: kms.IKey, log_retention: logs.RetentionDays) -> None:
        super().__init__(scope, id)
        self.vpc = self._imported_vpc(settings) if settings.imports_vpc else self._new_vpc(
            settings, key, log_retention)
        self.subnets = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)

        self.function_security_group = ec2.SecurityGroup(
            self, "Functions", vpc=self.vpc, allow_all_outbound=False,
            description="cutout functions: HTTPS out only (isolated subnets have no internet "
                        "route, so this reaches only the VPC endpoints)")
        self.function_security_group.add_egress_rule(
            ec2.Peer.any_ipv4(), ec2.Port.tcp(443), "HTTPS to VPC endpoints")

        self.gateway_endpoints: dict[str, ec2.GatewayVpcEndpoint] = {}
        self.interface_endpoints: dict[str, ec2.InterfaceVpcEndpoint] = {}
        # Extra function environment: endpoint URLs where private DNS is off.
        self.endpoint_environment: dict[str, str] = {}
        self.private_dns = settings.interface_endpoint_private_dns
        if settings.create_vpc_endpoints:
            self._add_endpoints(settings)
        self.api_endpoint = self._add_api_endpoint(settings) if settings.private_api else None
        # True when the private API is reached through an endpoint cutout made without
        # private DNS: clients then need the endpoint-specific URL.
        self.api_endpoint_needs_own_url = (settings.private_api and not self.private_dns
                                           and not settings.api_vpc_endpoint_id)

    def _new_vpc(self, settings: DeploymentSettings, key: kms.IKey,
                 log_retention: logs.RetentionDays) -> ec2.IVpc:
        vpc = ec2.Vpc(
            self, "Vpc",
            ip_addresses=ec2.IpAddresses.cidr(settings.vpc_cidr),
            max_azs=settings.max_azs,
            nat_gateways=0,
            subnet_configuration=[ec2.SubnetConfiguration(
                name="isolated", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=24)],
            restrict_default_security_group=False,
        )
        # Flow logs record connections (addresses, ports, bytes), never payloads.
        flow_logs = logs.LogGroup(self, "FlowLogs", retention=log_retention, encryption_key=key)
        vpc.add_flow_log("FlowLog",
                         destination=ec2.FlowLogDestination.to_cloud_watch_logs(flow_logs),
                         traffic_type=ec2.FlowLogTrafficType.ALL)
        return vpc

    def _imported_vpc(self, settings: DeploymentSettings) -> ec2.IVpc:
        """The customer's VPC, by id: nothing is looked up, so synthesis needs no credentials."""
        return ec2.Vpc.from_vpc_attributes(
            self, "Vpc",
            vpc_id=settings.vpc_id,
            vpc_cidr_block=settings.vpc_cidr,
            availability_zones=settings.availability_zones,
            isolated_subnet_ids=settings.subnet_ids,
            isolated_subnet_route_table_ids=settings.route_table_ids or None,
        )

    def _add_endpoints(self, settings: DeploymentSettings) -> None:
        existing = {"s3": settings.existing_s3_endpoint,
                    "dynamodb": settings.existing_dynamodb_endpoint}
        for name, service in (("s3", ec2.GatewayVpcEndpointAwsService.S3),
                              ("dynamodb", ec2.GatewayVpcEndpointAwsService.DYNAMODB)):
            if existing[name]:  # the route tables already reach it: a second one would fail
                continue
            self.gateway_endpoints[name] = self.vpc.add_gateway_endpoint(
                f"{name.capitalize()}Endpoint", service=service, subnets=[self.subnets])
        if not settings.interface_endpoints:
            return
        endpoint_security_group = ec2.SecurityGroup(
            self, "Endpoints", vpc=self.vpc, allow_all_outbound=False,
            description="cutout interface endpoints: HTTPS from the cutout functions only")
        endpoint_security_group.add_ingress_rule(
            self.function_security_group, ec2.Port.tcp(443), "HTTPS from cutout functions")
        for name in settings.interface_endpoints:
            endpoint = self.vpc.add_interface_endpoint(
                f"{name.capitalize()}Endpoint",
                service=INTERFACE_SERVICES[name],
                subnets=self.subnets, security_groups=[endpoint_security_group],
                open=False, private_dns_enabled=self.private_dns)
            self.interface_endpoints[name] = endpoint
            if not self.private_dns:
                self.endpoint_environment[ENDPOINT_URL_VARIABLES[name]] = _endpoint_url(endpoint)

    def restrict_gateway_endpoints(self, buckets: list[s3.IBucket],
                                   table: dynamodb.ITable, index: str) -> None:
        """Only cutout's buckets and table are reachable through the gateway endpoints.

        An exfiltration guard: even a compromised function cannot copy data to another
        bucket or table. Applied only to a VPC cutout created; in an imported VPC the route
        tables may serve other workloads, whose own endpoints the customer governs.
        """
        anyone = [iam.AnyPrincipal()]
        s3_endpoint = self.gateway_endpoints["s3"]
        s3_endpoint.add_to_policy(iam.PolicyStatement(
            principals=anyone,
            actions=["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion"],
            resources=[bucket.arn_for_objects("*") for bucket in buckets]))
        s3_endpoint.add_to_policy(iam.PolicyStatement(
            principals=anyone, actions=["s3:ListBucket", "s3:ListBucketVersions"],
            resources=[bucket.bucket_arn for bucket in buckets]))
        # What the functions call (keys are issued by the admin CLI, outside the VPC: no
        # TransactWriteItems here; nothing deletes an item).
        self.gateway_endpoints["dynamodb"].add_to_policy(iam.PolicyStatement(
            principals=anyone,
            actions=["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem",
                     "dynamodb:Query"],
            resources=[table.table_arn, f"{table.table_arn}/index/{index}"]))

    @property
    def private_api_endpoint(self) -> ec2.IInterfaceVpcEndpoint:
        """The execute-api endpoint of a PRIVATE API (only asked for in that mode)."""
        if self.api_endpoint is None:
            raise ValueError("the execute-api endpoint exists only when private_api is true")
        return self.api_endpoint

    def _add_api_endpoint(self, settings: DeploymentSettings) -> ec2.IInterfaceVpcEndpoint:
        """The execute-api endpoint a PRIVATE API is reached through, open to the VPC's CIDR.

        A VPC can hold only one execute-api endpoint with private DNS, so an existing one
        (`api_vpc_endpoint_id`) is used as it is.
        """
        if settings.api_vpc_endpoint_id:
            return ec2.InterfaceVpcEndpoint.from_interface_vpc_endpoint_attributes(
                self, "ExecuteApiEndpoint", vpc_endpoint_id=settings.api_vpc_endpoint_id,
                port=443)
        clients = ec2.SecurityGroup(
            self, "ApiEndpoint", vpc=self.vpc, allow_all_outbound=False,
            description="cutout private API endpoint: HTTPS from inside the VPC")
        clients.add_ingress_rule(ec2.Peer.ipv4(settings.vpc_cidr), ec2.Port.tcp(443),
                                 "HTTPS from the VPC to the private API")
        return self.vpc.add_interface_endpoint(
            "ExecuteApiEndpoint", service=ec2.InterfaceVpcEndpointAwsService.APIGATEWAY,
            subnets=self.subnets, security_groups=[clients], open=False,
            private_dns_enabled=self.private_dns)


def _endpoint_url(endpoint: ec2.InterfaceVpcEndpoint) -> str:
    """https://<the endpoint's regional DNS name>; entries read "<hosted zone>:<name>"."""
    first = Fn.select(0, endpoint.vpc_endpoint_dns_entries)
    return Fn.join("", ["https://", Fn.select(1, Fn.split(":", first))])
