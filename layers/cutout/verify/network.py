"""Private network checks: each function runs in the VPC, its subnets' route tables hold no
route to an internet or NAT gateway, and the gateway endpoints' policies name only the
stack's buckets and table (the exfiltration guard)."""

from __future__ import annotations

import json
from typing import Any

from cutout.settings import env_name
from cutout.verify.report import Check, Evidence, NotApplicable, Verifies
from cutout.verify.stack import Deployment

PROMISE = ("private network: the functions run in private isolated subnets (no NAT, no "
           "internet route) and reach AWS only through VPC endpoints")


def _functions(deployment: Deployment) -> list[dict[str, Any]]:
    if "functions" not in deployment.cache:
        client = deployment.client("lambda")
        deployment.cache["functions"] = [
            client.get_function_configuration(FunctionName=item.physical_id)
            for item in deployment.of_type("AWS::Lambda::Function")]
    return deployment.cache["functions"]


@Verifies("network.functions_in_vpc", PROMISE,
           "lambda GetFunctionConfiguration of each function: VpcConfig.SubnetIds")
def functions_in_vpc(deployment: Deployment, this: Verifies) -> Check:
    evidence, failures = [], []
    for function in _functions(deployment):
        subnets = (function.get("VpcConfig") or {}).get("SubnetIds") or []
        evidence.append(Evidence(function["FunctionArn"], "VpcConfig.SubnetIds", subnets))
        if not subnets:
            failures.append(f"function {function['FunctionName']} runs outside the VPC")
    if not evidence:
        raise NotApplicable("The stack has no function.")
    return this.result(failures, evidence,
                       "Every function of the stack runs in the VPC's subnets.")


@Verifies("network.no_internet_route", PROMISE,
           ("ec2 DescribeRouteTables of each function subnet (its own association, else the "
            "VPC's main table): no route to an igw-, eigw- or nat- gateway"))
def no_internet_route(deployment: Deployment, this: Verifies) -> Check:
    ec2 = deployment.client("ec2")
    subnets = sorted({subnet for function in _functions(deployment)
                      for subnet in (function.get("VpcConfig") or {}).get("SubnetIds") or []})
    if not subnets:
        raise NotApplicable("No function runs in a subnet.")
    evidence, failures = [], []
    for subnet in subnets:
        table = _route_table(ec2, subnet)
        routes = [_target(route) for route in (table or {}).get("Routes", [])]
        evidence.append(Evidence(f"{subnet} -> {(table or {}).get('RouteTableId')}",
                                 "Routes[].target", routes))
        outward = [target for target in routes if target.startswith(("igw-", "eigw-", "nat-"))]
        if outward:
            failures.append(f"subnet {subnet} routes to {', '.join(outward)}")
    return this.result(failures, evidence,
                       "No function subnet has a route to an internet or NAT gateway.")


def _route_table(ec2: Any, subnet: str) -> dict[str, Any] | None:
    tables = ec2.describe_route_tables(
        Filters=[{"Name": "association.subnet-id", "Values": [subnet]}])["RouteTables"]
    if tables:
        return tables[0]
    vpc = ec2.describe_subnets(SubnetIds=[subnet])["Subnets"][0]["VpcId"]
    main = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc]},
                                              {"Name": "association.main", "Values": ["true"]}])
    return main["RouteTables"][0] if main["RouteTables"] else None


def _target(route: dict[str, Any]) -> str:
    for name in ("GatewayId", "NatGatewayId", "EgressOnlyInternetGatewayId",
                 "TransitGatewayId", "VpcPeeringConnectionId", "NetworkInterfaceId"):
        if route.get(name):
            return str(route[name])
    return "unknown"


@Verifies("network.endpoint_policies", PROMISE,
           ("ec2 DescribeVpcEndpoints of the stack's gateway endpoints: every Resource of "
            "every Allow is one of the stack's buckets (or their objects) or its table"))
def endpoint_policies(deployment: Deployment, this: Verifies) -> Check:
    ids = [item.physical_id for item in deployment.of_type("AWS::EC2::VPCEndpoint")]
    found = deployment.client("ec2").describe_vpc_endpoints(
        VpcEndpointIds=ids)["VpcEndpoints"] if ids else []
    gateways = [item for item in found if item.get("VpcEndpointType") == "Gateway"]
    if not gateways:
        raise NotApplicable("The stack created no gateway endpoint (an imported VPC's "
                              "endpoints are governed by its owner).")
    allowed = _own_resources(deployment)
    evidence, failures = [], []
    for endpoint in gateways:
        named = _allowed_resources(json.loads(endpoint.get("PolicyDocument") or "{}"))
        evidence.append(Evidence(endpoint["VpcEndpointId"], "PolicyDocument Allow Resources",
                                 sorted(named)))
        foreign = sorted(resource for resource in named if not _is_own(resource, allowed))
        if foreign:
            failures.append(f"endpoint {endpoint['VpcEndpointId']} allows "
                            f"{', '.join(foreign)}")
    return this.result(failures, evidence,
                       "The gateway endpoints reach only the stack's buckets and table.")


def _own_resources(deployment: Deployment) -> list[str]:
    """ARN prefixes of what the endpoints may name: the stack's buckets (allow-listed batch
    buckets too, which the stack names in the endpoint policy) and its table."""
    arns = [deployment.bucket_arn(item.physical_id) for item in
            deployment.of_type("AWS::S3::Bucket")]
    for function in _functions(deployment):  # the batch allow-list, as the functions got it
        variables = (function.get("Environment") or {}).get("Variables") or {}
        for setting in ("batch_source_buckets", "batch_destination_buckets"):
            arns += [deployment.bucket_arn(name) for name in
                     variables.get(env_name(setting), "").split(",") if name]
    table = deployment.output("AccountsTableName")
    if table:
        arns.append(deployment.client("dynamodb").describe_table(
            TableName=table)["Table"]["TableArn"])
    return arns


def _allowed_resources(policy: dict[str, Any]) -> set[str]:
    named: set[str] = set()
    for statement in policy.get("Statement", []):
        if statement.get("Effect") != "Allow":
            continue
        resources = statement.get("Resource", [])
        named |= {resources} if isinstance(resources, str) else set(resources)
    return named


def _is_own(resource: str, allowed: list[str]) -> bool:
    return any(resource == arn or resource.startswith(arn + "/") for arn in allowed)


CHECKS = (functions_in_vpc, no_internet_route, endpoint_policies)
