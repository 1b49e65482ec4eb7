"""Enterprise settings: the customer's own VPC and subnets, and a PRIVATE API.

Given an imported VPC, its subnets and route tables, a KMS interface endpoint and a PRIVATE
API, when the app is synthesized (once, in the module fixture), then each test checks one
promise of the enterprise variant.
"""

from __future__ import annotations

import json

import pytest
from infra_synth import cfn_lint_errors, describe, synthesize

SUBNETS = ["subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb"]
ROUTE_TABLES = ["rtb-0aaaaaaaaaaaaaaaa", "rtb-0bbbbbbbbbbbbbbbb"]
VPC_CIDR = "10.20.0.0/16"


@pytest.fixture(scope="module")
def synth():
    return synthesize(
        vpc_id="vpc-0123456789abcdef0", vpc_cidr=VPC_CIDR, subnet_ids=",".join(SUBNETS),
        availability_zones="eu-west-1a,eu-west-1b", route_table_ids=ROUTE_TABLES,
        api_endpoint_type="PRIVATE", interface_endpoints=["kms"],
        manage_api_logging_role=False)


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
    assert len(kms) == 1 and kms[0]["PrivateDnsEnabled"] is True
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


def test_the_authorizer_still_guards_every_method(synth):
    for method in synth.resources("AWS::ApiGateway::Method").values():
        assert method["Properties"]["AuthorizationType"] == "CUSTOM"


def test_an_organisation_managed_api_logging_role_is_left_alone(synth):
    synth.template.resource_count_is("AWS::ApiGateway::Account", 0)
    stage = synth.one("AWS::ApiGateway::Stage")
    assert stage["MethodSettings"][0]["LoggingLevel"] == "ERROR"


def test_an_existing_execute_api_endpoint_is_used_instead_of_a_new_one():
    # Given a VPC that already has an execute-api endpoint (private DNS allows only one)
    existing = "vpce-0123456789abcdef0"
    # When the private API is synthesized with it
    other = synthesize(api_endpoint_type="PRIVATE", api_vpc_endpoint_id=existing)
    # Then no execute-api endpoint is created and the API admits only the existing one
    assert not [e for e in other.resources("AWS::EC2::VPCEndpoint").values()
                if "execute-api" in json.dumps(e["Properties"]["ServiceName"])]
    api = other.one("AWS::ApiGateway::RestApi")
    assert api["EndpointConfiguration"]["VpcEndpointIds"] == [existing]
    deny = [s for s in api["Policy"]["Statement"] if s["Effect"] == "Deny"][0]
    assert deny["Condition"]["StringNotEquals"]["aws:SourceVpce"] == existing
    assert other.violations == [], describe(other.violations)


def test_the_template_is_valid_cloudformation(synth):
    errors = cfn_lint_errors(synth)
    if errors is None:
        pytest.skip("cfn-lint is not installed")
    assert errors == []
