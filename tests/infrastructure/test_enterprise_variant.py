"""Enterprise settings: the customer's own VPC and subnets, and a PRIVATE API.

Given an imported VPC, its subnets and route tables, a KMS interface endpoint and a PRIVATE
API (private DNS off, as an imported VPC requires), when the app is synthesized (once, in the
module fixture), then each test checks one promise of the enterprise variant; a second
variant (`governed`) is a VPC that already has every endpoint cutout needs.
"""

from __future__ import annotations

import json

import pytest
from infra_synth import cfn_lint_errors, describe, synthesize

from cutout.api.routes import ROUTES

SUBNETS = ["subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb"]
ROUTE_TABLES = ["rtb-0aaaaaaaaaaaaaaaa", "rtb-0bbbbbbbbbbbbbbbb"]
VPC_CIDR = "10.20.0.0/16"
VPC = "vpc-0123456789abcdef0"
EXISTING = {"s3": "vpce-0aaaaaaaaaaaaaaa1", "dynamodb": "vpce-0aaaaaaaaaaaaaaa2",
            "execute-api": "vpce-0aaaaaaaaaaaaaaa3"}


@pytest.fixture(scope="module")
def synth():
    return synthesize(
        vpc_id="vpc-0123456789abcdef0", vpc_cidr=VPC_CIDR, subnet_ids=",".join(SUBNETS),
        availability_zones="eu-west-1a,eu-west-1b", route_table_ids=ROUTE_TABLES,
        api_endpoint_type="PRIVATE", interface_endpoints=["kms"],
        interface_endpoint_private_dns=False, manage_api_logging_role=False)


@pytest.fixture(scope="module")
def governed():
    """A customer VPC whose route tables already reach S3 and DynamoDB, with an execute-api
    endpoint of its own: cutout must add no endpoint at all (and needs no route tables)."""
    return synthesize(
        vpc_id=VPC, vpc_cidr=VPC_CIDR, subnet_ids=SUBNETS,
        availability_zones="eu-west-1a,eu-west-1b", api_endpoint_type="PRIVATE",
        existing_s3_endpoint=EXISTING["s3"], existing_dynamodb_endpoint=EXISTING["dynamodb"],
        api_vpc_endpoint_id=EXISTING["execute-api"], manage_api_logging_role=False)


def _endpoints(synth, kind: str) -> list[dict]:
    return [e["Properties"] for e in synth.resources("AWS::EC2::VPCEndpoint").values()
            if e["Properties"].get("VpcEndpointType") == kind]


def test_aws_solutions_pack_reports_nothing_unacknowledged(synth):
    assert synth.violations == [], describe(synth.violations)


def test_no_vpc_subnet_or_gateway_is_created(synth):
    for kind in ("AWS::EC2::VPC", "AWS::EC2::Subnet", "AWS::EC2::NatGateway",
                 "AWS::EC2::InternetGateway", "AWS::EC2::Route"):
        synth.template.resource_count_is(kind, 0)


def test_every_function_runs_in_the_imported_subnets(synth):
    functions = synth.resources("AWS::Lambda::Function")
    assert len(functions) >= 4
    for name, function in functions.items():
        assert function["Properties"]["VpcConfig"]["SubnetIds"] == SUBNETS, name


def test_gateway_endpoints_attach_to_the_imported_route_tables_without_narrowing_them(synth):
    gateways = _endpoints(synth, "Gateway")
    assert len(gateways) == 2
    for gateway in gateways:
        assert gateway["VpcId"] == "vpc-0123456789abcdef0"
        assert gateway["RouteTableIds"] == ROUTE_TABLES
        # The customer's route tables may serve other workloads: no cutout-only policy here.
        assert "PolicyDocument" not in gateway


def test_interface_endpoints_admit_only_the_functions(synth):
    interfaces = _endpoints(synth, "Interface")
    kms = [e for e in interfaces if "kms" in json.dumps(e["ServiceName"])]
    assert len(kms) == 1
    assert kms[0]["SubnetIds"] == SUBNETS
    group_id = kms[0]["SecurityGroupIds"][0]["Fn::GetAtt"][0]
    group = synth.raw["Resources"][group_id]["Properties"]
    ingress = group.get("SecurityGroupIngress", [])
    rules = ingress + [r["Properties"] for r in
                       synth.resources("AWS::EC2::SecurityGroupIngress").values()
                       if r["Properties"]["GroupId"]["Fn::GetAtt"][0] == group_id]
    assert len(rules) == 1
    assert rules[0]["FromPort"] == 443 and rules[0]["ToPort"] == 443
    assert "NetworkFunctions" in rules[0]["SourceSecurityGroupId"]["Fn::GetAtt"][0]
    assert "CidrIp" not in rules[0]


def test_no_endpoint_takes_over_dns_for_the_customers_whole_vpc(synth):
    # Private DNS on a new endpoint would answer for its service for every workload in the
    # VPC, whose calls the endpoint (open to cutout only) would then refuse.
    interfaces = _endpoints(synth, "Interface")
    assert len(interfaces) == 2  # kms and execute-api
    for endpoint in interfaces:
        assert endpoint["PrivateDnsEnabled"] is False


def test_functions_reach_the_kms_endpoint_by_its_own_name(synth):
    kms_id = [k for k, e in synth.resources("AWS::EC2::VPCEndpoint").items()
              if "kms" in json.dumps(e["Properties"]["ServiceName"])][0]
    for name, function in synth.resources("AWS::Lambda::Function").items():
        url = json.dumps(function["Properties"]["Environment"]["Variables"]
                         ["AWS_ENDPOINT_URL_KMS"])
        assert kms_id in url and "DnsEntries" in url and "https://" in url, name


def test_private_api_clients_get_the_endpoint_specific_url(synth):
    url = json.dumps(synth.raw["Outputs"]["ApiUrl"]["Value"])
    endpoint = [k for k, e in synth.resources("AWS::EC2::VPCEndpoint").items()
                if "execute-api" in json.dumps(e["Properties"]["ServiceName"])][0]
    assert endpoint in url and ".execute-api." in url and "/prod/" in url


def test_the_api_is_private_behind_its_execute_api_endpoint(synth):
    api = synth.one("AWS::ApiGateway::RestApi")
    assert api["EndpointConfiguration"]["Types"] == ["PRIVATE"]
    endpoint_ref = api["EndpointConfiguration"]["VpcEndpointIds"][0]["Ref"]
    endpoint = synth.raw["Resources"][endpoint_ref]["Properties"]
    assert "execute-api" in json.dumps(endpoint["ServiceName"])
    deny = [s for s in api["Policy"]["Statement"] if s["Effect"] == "Deny"]
    assert len(deny) == 1
    assert deny[0]["Condition"]["StringNotEquals"]["aws:SourceVpce"] == {"Ref": endpoint_ref}


def test_the_private_api_refuses_tls_below_1_2(synth):
    api = synth.one("AWS::ApiGateway::RestApi")
    assert api["SecurityPolicy"] == "TLS_1_2"


def test_the_private_api_endpoint_admits_https_from_the_vpc_only(synth):
    groups = [g["Properties"] for g in synth.resources("AWS::EC2::SecurityGroup").values()
              if "private API" in g["Properties"]["GroupDescription"]]
    assert len(groups) == 1
    assert [(r["CidrIp"], r["FromPort"]) for r in groups[0]["SecurityGroupIngress"]] == [
        (VPC_CIDR, 443)]


def test_the_authorizer_still_guards_every_method_but_the_public_page_files(synth):
    methods = [m["Properties"] for m in synth.resources("AWS::ApiGateway::Method").values()]
    public = [m for m in methods if m["AuthorizationType"] != "CUSTOM"]
    assert len(public) == len([r for r in ROUTES if not r.authorized])
    assert all(m["AuthorizationType"] == "NONE" and m["HttpMethod"] == "GET" for m in public)


def test_an_organisation_managed_api_logging_role_is_left_alone(synth):
    synth.template.resource_count_is("AWS::ApiGateway::Account", 0)
    stage = synth.one("AWS::ApiGateway::Stage")
    assert stage["MethodSettings"][0]["LoggingLevel"] == "ERROR"


def test_a_vpc_that_already_has_every_endpoint_gets_no_new_one(governed):
    # Given route tables that already reach S3 and DynamoDB (AWS refuses a second gateway
    # endpoint for a service on a route table) and an execute-api endpoint of the customer's
    # Then cutout creates no endpoint at all, and the API admits only the existing one
    governed.template.resource_count_is("AWS::EC2::VPCEndpoint", 0)
    api = governed.one("AWS::ApiGateway::RestApi")
    assert api["EndpointConfiguration"]["VpcEndpointIds"] == [EXISTING["execute-api"]]
    deny = [s for s in api["Policy"]["Statement"] if s["Effect"] == "Deny"][0]
    assert deny["Condition"]["StringNotEquals"]["aws:SourceVpce"] == EXISTING["execute-api"]
    assert governed.violations == [], describe(governed.violations)


def test_an_existing_vpc_with_its_own_endpoints_keeps_its_dns(governed):
    # Nothing created means nothing to resolve differently: no endpoint URL variables.
    for name, function in governed.resources("AWS::Lambda::Function").items():
        variables = function["Properties"]["Environment"]["Variables"]
        assert not [v for v in variables if v.startswith("AWS_ENDPOINT_URL")], name


def test_the_template_is_valid_cloudformation(synth):
    errors = cfn_lint_errors(synth)
    if errors is None:
        pytest.skip("cfn-lint is not installed")
    assert errors == []
