"""A deployment as `cutout verify` finds it, built straight in moto: every resource kind the
stack creates, configured as the stack configures it, plus `break_*` helpers that undo one
promise each. moto lists stack resources only for stacks it created, so the resource list
is handed in; every read verify makes is still a real boto3 call against moto."""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3

from cutout.api.routes import ROUTES
from cutout.data.schema import account_pk, key_pk
from cutout.verify.stack import SERVICES, Deployment, StackResource

REGION = "us-east-1"
ANYONE = {"AWS": "*"}


@dataclass
class World:
    clients: dict[str, Any]
    resources: list[StackResource] = field(default_factory=list)
    outputs: dict[str, str] = field(default_factory=dict)
    ids: dict[str, str] = field(default_factory=dict)

    def add(self, logical_id: str, resource_type: str, physical_id: str) -> None:
        self.resources.append(StackResource(logical_id, resource_type, physical_id))

    def deployment(self, now=None) -> Deployment:
        extra = {"now": now} if now else {}
        return Deployment("cutout", list(self.resources), dict(self.outputs), self.clients,
                          region=REGION, **extra)


def clients() -> dict[str, Any]:
    return {name: boto3.client(name, region_name=REGION) for name in (*SERVICES, "iam")}


def tls_only_policy(bucket: str) -> str:
    """What CDK's enforceSSL writes: deny every s3 action without TLS."""
    arn = f"arn:aws:s3:::{bucket}"
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Deny", "Principal": ANYONE, "Action": "s3:*",
        "Resource": [arn, f"{arn}/*"], "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]})


def build() -> World:
    """The good deployment: every check of verify has what it looks for."""
    world = World(clients())
    c = world.clients
    key = c["kms"].create_key(Description="cutout")["KeyMetadata"]
    c["kms"].enable_key_rotation(KeyId=key["KeyId"])
    world.outputs["KmsKeyId"] = key["KeyId"]
    world.ids["key_arn"] = key["Arn"]
    world.add("StorageKey", "AWS::KMS::Key", key["KeyId"])

    for logical, name, days in (("StorageTransientBucket", "cutout-transient", 1),
                                ("StorageTrainingStore", "cutout-training", 30),
                                ("StorageAccessLogs", "cutout-access-logs", 90)):
        c["s3"].create_bucket(Bucket=name)
        sse = ({"SSEAlgorithm": "AES256"} if "AccessLogs" in logical
               else {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key["Arn"]})
        c["s3"].put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": sse}]})
        c["s3"].put_public_access_block(Bucket=name, PublicAccessBlockConfiguration={
            setting: True for setting in ("BlockPublicAcls", "IgnorePublicAcls",
                                          "BlockPublicPolicy", "RestrictPublicBuckets")})
        c["s3"].put_bucket_policy(Bucket=name, Policy=tls_only_policy(name))
        c["s3"].put_bucket_lifecycle_configuration(Bucket=name, LifecycleConfiguration={
            "Rules": [{"ID": "expire", "Status": "Enabled", "Filter": {"Prefix": ""},
                       "Expiration": {"Days": days}}]})
        world.add(logical, "AWS::S3::Bucket", name)
    world.outputs.update(TransientBucketName="cutout-transient",
                         TrainingBucketName="cutout-training")

    table = c["dynamodb"].create_table(
        TableName="cutout-accounts", BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                   {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                              {"AttributeName": "sk", "AttributeType": "S"}],
        SSESpecification={"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": key["Arn"]},
    )["TableDescription"]
    world.ids["table_arn"] = table["TableArn"]
    world.outputs["AccountsTableName"] = "cutout-accounts"
    world.add("AccountsTable", "AWS::DynamoDB::Table", "cutout-accounts")

    c["logs"].create_log_group(logGroupName="cutout-access-logs", kmsKeyId=key["Arn"])
    world.add("ApiAccessLogs", "AWS::Logs::LogGroup", "cutout-access-logs")

    _network(world)
    _functions(world)
    _api(world)
    _accounts(world)
    return world


def _network(world: World) -> None:
    ec2 = world.clients["ec2"]
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    ec2.associate_route_table(RouteTableId=table, SubnetId=subnet)
    world.ids.update(vpc=vpc, subnet=subnet, route_table=table)
    policy = {"Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": ["s3:GetObject"],
         "Resource": ["arn:aws:s3:::cutout-transient/*", "arn:aws:s3:::cutout-training/*"]}]}
    endpoint = ec2.create_vpc_endpoint(
        VpcId=vpc, ServiceName=f"com.amazonaws.{REGION}.s3", VpcEndpointType="Gateway",
        RouteTableIds=[table], PolicyDocument=json.dumps(policy))["VpcEndpoint"]
    world.ids["s3_endpoint"] = endpoint["VpcEndpointId"]
    world.add("NetworkVpcS3Endpoint", "AWS::EC2::VPCEndpoint", endpoint["VpcEndpointId"])


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return None\n")
    return buffer.getvalue()


def _functions(world: World) -> None:
    c = world.clients
    role = c["iam"].create_role(RoleName="cutout-fn", AssumeRolePolicyDocument=json.dumps({
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                       "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]
    world.ids["role"] = role
    for logical, name in (("InferenceFunction", "cutout-remove-background"),
                          ("FunctionsSweeper", "cutout-sweeper")):
        create_function(world, name)
        world.add(logical, "AWS::Lambda::Function", name)
    sweeper_arn = c["lambda"].get_function_configuration(
        FunctionName="cutout-sweeper")["FunctionArn"]
    c["events"].put_rule(Name="cutout-sweep", ScheduleExpression="rate(60 minutes)",
                         State="ENABLED")
    c["events"].put_targets(Rule="cutout-sweep", Targets=[{"Id": "sweeper", "Arn": sweeper_arn}])
    world.add("RetentionSchedule", "AWS::Events::Rule", "cutout-sweep")
    c["cloudwatch"].put_metric_data(Namespace="AWS/Lambda", MetricData=[{
        "MetricName": "Invocations", "Value": 1.0, "Unit": "Count",
        "Timestamp": datetime.now(UTC) - timedelta(minutes=20),
        "Dimensions": [{"Name": "FunctionName", "Value": "cutout-sweeper"}]}])


def create_function(world: World, name: str, in_vpc: bool = True) -> None:
    extra = {"VpcConfig": {"SubnetIds": [world.ids["subnet"]], "SecurityGroupIds": []}} \
        if in_vpc else {}
    world.clients["lambda"].create_function(
        FunctionName=name, Runtime="python3.12", Role=world.ids["role"],
        Handler="handler.handler", Code={"ZipFile": _zip()}, **extra)


def _api(world: World) -> None:
    apigateway = world.clients["apigateway"]
    api = apigateway.create_rest_api(name="cutout")["id"]
    authorizer = apigateway.create_authorizer(
        restApiId=api, name="KeyAuthorizer", type="REQUEST",
        identitySource="method.request.header.x-api-key",
        authorizerUri=f"arn:aws:apigateway:{REGION}:lambda:path/functions/x/invocations")["id"]
    world.ids.update(api=api, authorizer=authorizer)
    for route in ROUTES:
        put_method(world, route.method, route.path, route.authorized)
    plan = apigateway.create_usage_plan(name="cutout", apiStages=[])["id"]
    world.outputs.update(RestApiId=api, UsagePlanId=plan,
                         ApiUrl=f"https://{api}.execute-api.{REGION}.amazonaws.com/prod/")
    world.add("ApiApi", "AWS::ApiGateway::RestApi", api)


def put_method(world: World, method: str, path: str, authorized: bool) -> None:
    apigateway, api = world.clients["apigateway"], world.ids["api"]
    resources = {item["path"]: item["id"] for item in
                 apigateway.get_resources(restApiId=api)["items"]}
    parent = resources["/"]
    for depth, part in enumerate(path.strip("/").split("/"), start=1):
        here = "/" + "/".join(path.strip("/").split("/")[:depth])
        if here not in resources:
            resources[here] = apigateway.create_resource(restApiId=api, parentId=parent,
                                                         pathPart=part)["id"]
        parent = resources[here]
    extra = {"authorizerId": world.ids["authorizer"]} if authorized else {}
    apigateway.put_method(restApiId=api, resourceId=parent, httpMethod=method,
                          authorizationType="CUSTOM" if authorized else "NONE", **extra)


def issue_key(world: World, key_hash: str, in_plan: bool = True) -> None:
    world.clients["dynamodb"].put_item(TableName="cutout-accounts", Item={
        "pk": {"S": key_pk(key_hash)}, "sk": {"S": "KEY"}})
    if in_plan:
        apigateway = world.clients["apigateway"]
        key = apigateway.create_api_key(name=f"cutout-{key_hash[:8]}", value=key_hash,
                                        enabled=True)["id"]
        apigateway.create_usage_plan_key(usagePlanId=world.outputs["UsagePlanId"], keyId=key,
                                         keyType="API_KEY")


def add_account(world: World, account: str, opt_in: bool, recorded: bool) -> None:
    dynamodb = world.clients["dynamodb"]
    dynamodb.put_item(TableName="cutout-accounts", Item={
        "pk": {"S": account_pk(account)}, "sk": {"S": "PROFILE"}, "opt_in": {"BOOL": opt_in}})
    if recorded:
        dynamodb.put_item(TableName="cutout-accounts", Item={
            "pk": {"S": account_pk(account)}, "sk": {"S": "OPTIN#2026-12-01T00:00:00Z#a1"},
            "opt_in": {"BOOL": opt_in}})


def _accounts(world: World) -> None:
    issue_key(world, "a" * 64)
    add_account(world, "acct-off", opt_in=False, recorded=False)
    add_account(world, "acct-on", opt_in=True, recorded=True)
