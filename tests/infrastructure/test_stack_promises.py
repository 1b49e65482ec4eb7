"""The default deployment keeps every promise the README makes, read off the template.

Given the documented defaults, when the app is synthesized (once, in the module fixture),
then each test checks one promise on the template or on cdk-nag's report.
"""

from __future__ import annotations

import json
from dataclasses import fields

import pytest
from aws_cdk.assertions import Match
from infra_synth import assert_no_foreign_cors, cfn_lint_errors, describe, statements, synthesize

from cutout.api.routes import REMOVE_BACKGROUND, ROUTES
from cutout.data import schema
from cutout.settings import ENVIRONMENT_VARIABLES
from cutout.settings import Settings as RuntimeSettings


@pytest.fixture(scope="module")
def synth():
    return synthesize()


def _functions(synth):
    return synth.resources("AWS::Lambda::Function")


def _function(synth, fragment: str) -> dict:
    found = [v["Properties"] for k, v in _functions(synth).items() if fragment in k]
    assert len(found) == 1, f"expected one function matching {fragment}"
    return found[0]


# --- cdk-nag -------------------------------------------------------------------------------
def test_aws_solutions_pack_reports_nothing_unacknowledged(synth):
    assert synth.violations == [], describe(synth.violations)


# --- encryption ------------------------------------------------------------------------------
def test_the_customer_managed_key_rotates_and_has_an_alias(synth):
    synth.template.has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": True})
    synth.template.has_resource_properties(
        "AWS::KMS::Alias", {"AliasName": "alias/cutout/cutout"})


def test_the_key_lets_cloudwatch_logs_use_it_only_for_this_accounts_log_groups(synth):
    key = synth.one("AWS::KMS::Key")
    logs = [s for s in key["KeyPolicy"]["Statement"]
            if "logs." in json.dumps(s.get("Principal", {}))]
    assert len(logs) == 1
    context = logs[0]["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"]
    assert ":log-group:*" in json.dumps(context) and "AWS::AccountId" in json.dumps(context)


def test_buckets_with_images_are_encrypted_with_the_key_and_a_bucket_key(synth):
    kms_buckets = [
        b for b in synth.resources("AWS::S3::Bucket").values()
        if b["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
        ["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"]
    assert len(kms_buckets) == 2  # transient bucket and training store
    for bucket in kms_buckets:
        rule = bucket["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
        assert rule["BucketKeyEnabled"] is True
        assert "KMSMasterKeyID" in rule["ServerSideEncryptionByDefault"]


def test_the_accounts_table_is_encrypted_with_the_key(synth):
    synth.template.has_resource_properties("AWS::DynamoDB::Table", {
        "SSESpecification": {"SSEEnabled": True, "SSEType": "KMS",
                             "KMSMasterKeyId": Match.any_value()}})


def test_every_log_group_is_encrypted_and_expires(synth):
    groups = synth.resources("AWS::Logs::LogGroup")
    assert len(groups) >= 7  # 4 functions, flow logs, API access and execution logs
    for name, group in groups.items():
        assert "KmsKeyId" in group["Properties"], name
        assert group["Properties"]["RetentionInDays"] == 30, name


def test_every_function_logs_to_its_own_encrypted_log_group(synth):
    for name, function in _functions(synth).items():
        assert "LogGroup" in function["Properties"]["LoggingConfig"], name


# --- buckets ---------------------------------------------------------------------------------
def test_every_bucket_blocks_public_access_and_disables_acls(synth):
    for name, bucket in synth.resources("AWS::S3::Bucket").items():
        props = bucket["Properties"]
        assert props["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True, "BlockPublicPolicy": True,
            "IgnorePublicAcls": True, "RestrictPublicBuckets": True}, name
        assert props["OwnershipControls"]["Rules"] == [
            {"ObjectOwnership": "BucketOwnerEnforced"}], name
        assert "VersioningConfiguration" not in props, name


def test_every_bucket_policy_denies_requests_without_tls_1_2(synth):
    policies = synth.resources("AWS::S3::BucketPolicy")
    assert len(policies) == 3
    for name, policy in policies.items():
        denies = [s for s in policy["Properties"]["PolicyDocument"]["Statement"]
                  if s["Effect"] == "Deny"]
        conditions = json.dumps([s["Condition"] for s in denies])
        assert '"aws:SecureTransport": "false"' in conditions, name
        assert '"s3:TlsVersion": 1.2' in conditions, name


def test_transient_objects_expire_after_one_day(synth):
    synth.template.has_resource_properties("AWS::S3::Bucket", {
        "LifecycleConfiguration": {"Rules": Match.array_with([Match.object_like({
            "ExpirationInDays": 1, "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
            "Status": "Enabled"})])}})


def test_training_data_expires_after_the_retention_setting(synth):
    synth.template.has_resource_properties("AWS::S3::Bucket", {
        "LifecycleConfiguration": {"Rules": Match.array_with([Match.object_like({
            "Id": "expire-training-data", "ExpirationInDays": 365})])}})


@pytest.mark.parametrize("bucket", ["StorageTransientBucket", "StorageTrainingStore"])
def test_if_versioning_is_ever_turned_on_old_versions_still_expire(synth, bucket):
    # Given buckets created unversioned (a delete must remove the bytes), then should anyone
    # turn versioning on later, what deletes leave behind expires within a day
    rules = synth.raw["Resources"][_logical_id(synth, bucket)]["Properties"][
        "LifecycleConfiguration"]["Rules"]
    noncurrent = [r for r in rules if r.get("Id") == "expire-noncurrent-versions"]
    assert len(noncurrent) == 1
    assert noncurrent[0]["NoncurrentVersionExpiration"] == {"NoncurrentDays": 1}
    assert noncurrent[0]["ExpiredObjectDeleteMarker"] is True
    assert noncurrent[0]["Status"] == "Enabled"


def test_only_the_training_store_has_server_access_logs(synth):
    # Clients reach the transient bucket through presigned URLs; an access log line's
    # Request-URI would keep X-Amz-Credential, X-Amz-Security-Token and X-Amz-Signature.
    transient = synth.raw["Resources"][_logical_id(synth, "StorageTransientBucket")]
    training = synth.raw["Resources"][_logical_id(synth, "StorageTrainingStore")]
    assert "LoggingConfiguration" not in transient["Properties"]
    logging = training["Properties"]["LoggingConfiguration"]
    assert logging["DestinationBucketName"] == {"Ref": _logical_id(synth, "StorageAccessLogs")}
    assert logging["LogFilePrefix"] == "training/"
    with_logs = [k for k, b in synth.resources("AWS::S3::Bucket").items()
                 if "LoggingConfiguration" in b["Properties"]]
    assert with_logs == [_logical_id(synth, "StorageTrainingStore")]


def test_no_bucket_admits_a_foreign_browser_origin(synth):
    assert_no_foreign_cors(synth)


# --- accounts table ------------------------------------------------------------------------
def test_the_table_uses_the_schema_keys_on_demand_with_recovery_and_protection(synth):
    synth.template.has_resource_properties("AWS::DynamoDB::Table", {
        "KeySchema": [{"AttributeName": schema.PARTITION_KEY, "KeyType": "HASH"},
                      {"AttributeName": schema.SORT_KEY, "KeyType": "RANGE"}],
        "BillingMode": "PAY_PER_REQUEST",
        "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
        "DeletionProtectionEnabled": True,
        "GlobalSecondaryIndexes": [Match.object_like({
            "IndexName": schema.ACCOUNT_INDEX,
            "KeySchema": [{"AttributeName": schema.ACCOUNT_INDEX_PARTITION_KEY, "KeyType": "HASH"},
                          {"AttributeName": schema.ACCOUNT_INDEX_SORT_KEY, "KeyType": "RANGE"}]})],
    })


# --- network -------------------------------------------------------------------------------
def test_no_nat_gateway_and_no_internet_gateway_exist(synth):
    synth.template.resource_count_is("AWS::EC2::NatGateway", 0)
    synth.template.resource_count_is("AWS::EC2::InternetGateway", 0)
    synth.template.resource_count_is("AWS::EC2::EIP", 0)


def test_no_route_leaves_the_vpc_except_through_gateway_endpoints(synth):
    synth.template.resource_count_is("AWS::EC2::Route", 0)
    for subnet in synth.resources("AWS::EC2::Subnet").values():
        assert subnet["Properties"]["MapPublicIpOnLaunch"] is False


def test_vpc_flow_logs_are_on(synth):
    synth.template.has_resource_properties("AWS::EC2::FlowLog", {"TrafficType": "ALL"})


def test_s3_and_dynamodb_gateway_endpoints_exist_and_reach_only_cutout_data(synth):
    endpoints = synth.resources("AWS::EC2::VPCEndpoint")
    gateways = [e["Properties"] for e in endpoints.values()
                if e["Properties"].get("VpcEndpointType") == "Gateway"]
    services = sorted(json.dumps(g["ServiceName"]) for g in gateways)
    assert len(gateways) == 2 and "dynamodb" in services[0] and "s3" in services[1]
    for gateway in gateways:
        resources = json.dumps([s["Resource"] for s in gateway["PolicyDocument"]["Statement"]])
        assert '"*"' not in resources
    assert not [e for e in endpoints.values()
                if e["Properties"].get("VpcEndpointType") == "Interface"]


def test_every_function_runs_in_the_isolated_subnets(synth):
    subnets = {k for k, v in synth.resources("AWS::EC2::Subnet").items()}
    assert subnets and all("isolated" in k.lower() for k in subnets)
    for name, function in _functions(synth).items():
        vpc = function["Properties"]["VpcConfig"]
        assert sorted(ref["Ref"] for ref in vpc["SubnetIds"]) == sorted(subnets), name


def test_the_functions_security_group_allows_only_https_out(synth):
    groups = [g["Properties"] for g in synth.resources("AWS::EC2::SecurityGroup").values()
              if "cutout functions" in g["Properties"]["GroupDescription"]]
    assert len(groups) == 1
    egress = groups[0]["SecurityGroupEgress"]
    assert [(r["IpProtocol"], r["FromPort"], r["ToPort"]) for r in egress] == [("tcp", 443, 443)]
    assert "SecurityGroupIngress" not in groups[0]


# --- functions -----------------------------------------------------------------------------
def test_the_inference_function_is_a_container_image_with_the_configured_size(synth):
    function = _function(synth, "InferenceFunction")
    assert function["PackageType"] == "Image"
    assert "ImageUri" in function["Code"]
    # derived from u2netp's measured 331 MB / 0.71 s at 12 MP (models/manifest.json) for the
    # default 36 MP max_pixels: the 3008 MB floor, and 0.71 s x 1.18 (1.7 vCPU) x 3 (36 MP) x 3
    # headroom = 7.5 -> 8 s + 5 s of I/O (infrastructure/model_sizing.py)
    assert function["MemorySize"] == 3008
    assert function["Timeout"] == 13
    assert function["Architectures"] == ["x86_64"]
    assert "ReservedConcurrentExecutions" not in function


def test_the_zip_functions_use_the_newest_python_with_both_layers(synth):
    for fragment in ("FunctionsAuthorizer", "FunctionsAccount", "FunctionsUploads"):
        function = _function(synth, fragment)
        assert function["Runtime"] == "python3.14"
        assert function["Handler"] == "handler.handler"
        assert len(function["Layers"]) == 2
    parameters = json.dumps(synth.raw["Parameters"])
    assert "/aws/service/powertools/python/x86_64/python3.14/3.37.0" in parameters


def test_stack_sets_exactly_the_runtime_settings_variables_on_every_function(synth):
    expected = set(ENVIRONMENT_VARIABLES)
    assert len(expected) == len(fields(RuntimeSettings))
    for name, function in _functions(synth).items():
        variables = function["Properties"]["Environment"]["Variables"]
        assert {k for k in variables if k.startswith("CUTOUT_")} == expected, name
        assert set(variables) - expected == {
            "POWERTOOLS_SERVICE_NAME", "POWERTOOLS_METRICS_NAMESPACE", "LOG_LEVEL"}, name
        assert variables["CUTOUT_ZERO_RETENTION"] == "false"
        assert variables["CUTOUT_ACCOUNTS_TABLE"] == {"Ref": _logical_id(synth, "AccountsTable")}
        assert variables["CUTOUT_TRANSIENT_BUCKET"] == {
            "Ref": _logical_id(synth, "StorageTransientBucket")}
        assert variables["CUTOUT_TRAINING_BUCKET"] == {
            "Ref": _logical_id(synth, "StorageTrainingStore")}
        assert variables["CUTOUT_KMS_KEY_ID"] == {
            "Fn::GetAtt": [_logical_id(synth, "StorageKey"), "Arn"]}


def _logical_id(synth, prefix: str) -> str:
    kinds = ("AWS::DynamoDB::Table", "AWS::S3::Bucket", "AWS::KMS::Key")
    found = [k for k, v in synth.raw["Resources"].items()
             if k.startswith(prefix) and v["Type"] in kinds]
    assert len(found) == 1, (prefix, found)
    return found[0]


def test_no_managed_policies_are_attached_to_any_role(synth):
    for name, role in synth.resources("AWS::IAM::Role").items():
        assert "ManagedPolicyArns" not in role["Properties"], name


# --- least privilege -----------------------------------------------------------------------
def _resources(statement) -> list:
    resource = statement["Resource"]
    return resource if isinstance(resource, list) else [resource]


def _actions(statement) -> list[str]:
    action = statement["Action"]
    return action if isinstance(action, list) else [action]


NETWORK_AND_TRACING = {"ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces",
                       "ec2:DescribeSubnets", "ec2:DeleteNetworkInterface",
                       "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses",
                       "xray:PutTraceSegments", "xray:PutTelemetryRecords"}


@pytest.mark.parametrize("role", ["InferenceBaseRole", "AuthorizerBaseRole",
                                  "AccountBaseRole", "UploadsBaseRole"])
def test_wildcard_resources_only_for_actions_without_resource_level_permissions(synth, role):
    for statement in statements(synth, role):
        if "*" in _resources(statement):
            assert set(_actions(statement)) <= NETWORK_AND_TRACING, statement
        for action in _actions(statement):
            assert not action.endswith("*"), statement


def _grants(synth, role: str) -> dict[str, set[str]]:
    """action -> the resources it is granted on, as compact strings."""
    grants: dict[str, set[str]] = {}
    for statement in statements(synth, role):
        for action in _actions(statement):
            for resource in _resources(statement):
                grants.setdefault(action, set()).add(json.dumps(resource))
    return grants


def _on(grants, action: str) -> str:
    return " ".join(sorted(grants.get(action, set())))


def test_the_authorizer_may_only_get_items_from_the_table(synth):
    grants = _grants(synth, "AuthorizerBaseRole")
    data = {a for a in grants if a.split(":")[0] in ("dynamodb", "s3")}
    assert data == {"dynamodb:GetItem"}
    assert "AccountsTable" in _on(grants, "dynamodb:GetItem")


def test_uploads_may_only_put_objects_under_uploads(synth):
    grants = _grants(synth, "UploadsBaseRole")
    assert {a for a in grants if a.startswith(("s3:", "dynamodb:"))} == {"s3:PutObject"}
    assert "TransientBucket" in _on(grants, "s3:PutObject")
    assert '/uploads/*' in _on(grants, "s3:PutObject")
    assert "kms:GenerateDataKey" in grants


def test_remove_background_touches_only_its_prefixes(synth):
    grants = _grants(synth, "InferenceBaseRole")
    # UpdateItem only on the usage counters (conditions: test_account_page_stack.py)
    assert {a for a in grants if a.startswith("dynamodb:")} == {"dynamodb:GetItem",
                                                                "dynamodb:UpdateItem"}
    read = _on(grants, "s3:GetObject")
    assert "/uploads/*" in read and "/results/*" in read and "TrainingStore" not in read
    written = _on(grants, "s3:PutObject")
    # (uploads are PUT through the uploads function's presigned URLs, never by this one)
    assert "/uploads/*" not in written and "/results/*" in written and "/training/*" in written
    listed = _on(grants, "s3:ListBucket")
    assert "TransientBucket" in listed and "TrainingStore" not in listed


def test_account_reads_and_writes_the_table_and_clears_training_data(synth):
    grants = _grants(synth, "AccountBaseRole")
    assert "AccountsTable" in _on(grants, "dynamodb:UpdateItem")
    assert f"/index/{schema.ACCOUNT_INDEX}" in _on(grants, "dynamodb:Query")
    assert "s3:DeleteObject" not in grants  # every delete names a version
    assert "/training/*" in _on(grants, "s3:DeleteObjectVersion")
    assert "TrainingStore" in _on(grants, "s3:ListBucketVersions")
    listing = [st for st in statements(synth, "AccountBaseRole")
               if "s3:ListBucketVersions" in _actions(st)]
    assert listing[0]["Condition"] == {"StringLike": {"s3:prefix": ["training/*"]}}
    assert "s3:ListBucket" not in grants  # the erasure lists versions only
    assert "s3:PutObject" not in grants and "s3:GetObject" not in grants


@pytest.mark.parametrize("role", ["InferenceBaseRole", "AuthorizerBaseRole",
                                  "AccountBaseRole", "UploadsBaseRole"])
def test_kms_actions_are_granted_on_the_one_key_only(synth, role):
    for action, resources in _grants(synth, role).items():
        if action.startswith("kms:"):
            assert all("StorageKey" in r for r in resources), (action, resources)
        if action.startswith(("s3:", "dynamodb:")):
            assert all(r != '"*"' for r in resources), (action, resources)


@pytest.mark.parametrize("role", ["InferenceBaseRole", "AuthorizerBaseRole",
                                  "AccountBaseRole", "UploadsBaseRole"])
def test_no_role_may_encrypt_with_the_key_directly(synth, role):
    # S3 (SSE-KMS) and DynamoDB encrypt with data keys; no function calls kms:Encrypt.
    assert "kms:Encrypt" not in _grants(synth, role)


def test_only_functions_that_write_encrypted_objects_may_generate_data_keys(synth):
    # Inference writes results and training copies; uploads signs PUTs a client executes.
    for role in ("InferenceBaseRole", "UploadsBaseRole"):
        assert "kms:GenerateDataKey" in _grants(synth, role), role
    # The authorizer only reads the table; account reads/writes the table and deletes objects.
    for role in ("AuthorizerBaseRole", "AccountBaseRole"):
        kms = {a for a in _grants(synth, role) if a.startswith("kms:")}
        assert kms == {"kms:Decrypt", "kms:DescribeKey"}, role


def test_remove_background_can_take_back_every_version_of_a_training_copy(synth):
    grants = _grants(synth, "InferenceBaseRole")
    assert "/training/*" in _on(grants, "s3:DeleteObjectVersion")
    listing = [st for st in statements(synth, "InferenceBaseRole")
               if "s3:ListBucketVersions" in _actions(st)]
    assert len(listing) == 1 and "TrainingStore" in json.dumps(listing[0]["Resource"])
    assert listing[0]["Condition"] == {"StringLike": {"s3:prefix": ["training/*"]}}


def _acknowledgements(synth) -> dict[str, list[str]]:
    """cdk-nag rule id -> the reasons given for it, as recorded in the assembly's metadata."""
    metadata = json.loads((synth.outdir / "cutout.metadata.json").read_text())
    found: dict[str, list[str]] = {}
    for entries in metadata.values():
        for entry in entries:
            if entry["type"] == "aws:cdk:acknowledged-rules":
                for rule, reason in entry["data"].items():
                    found.setdefault(rule.removeprefix("Annotation::"), []).append(reason)
    return found


def test_the_wildcard_acknowledgement_states_which_actions_lack_resource_permissions(synth):
    # The network-interface Create/Delete/Assign actions do support resource ARNs; only the
    # Describe actions (and X-Ray's) do not. The reason a reviewer reads must say so.
    reasons = _acknowledgements(synth)["AwsSolutions-IAM5[Resource::*]"]
    assert len(reasons) >= 4  # one per function role
    for reason in reasons:
        assert "ec2:DescribeNetworkInterfaces and ec2:DescribeSubnets have no resource-level" \
            in reason
        assert "do support resource ARNs" in reason
        assert "both for actions without resource-level permissions" not in reason


# --- API ---------------------------------------------------------------------------------------
def _methods(synth) -> dict[str, dict]:
    return {k: v["Properties"] for k, v in synth.resources("AWS::ApiGateway::Method").items()}


def _method_paths(synth) -> dict[tuple[str, str], dict]:
    """Each deployed method by (HTTP method, full path), walking the resource tree."""
    resources = synth.resources("AWS::ApiGateway::Resource")

    def path_of(reference: dict) -> str:
        if "Ref" not in reference:  # the root resource
            return ""
        properties = resources[reference["Ref"]]["Properties"]
        return f"{path_of(properties['ParentId'])}/{properties['PathPart']}"

    return {(method["HttpMethod"], path_of(method["ResourceId"])): method
            for method in _methods(synth).values()}


def _function_fragment(function: str) -> str:
    """The logical-id fragment of a route's Lambda in the template."""
    if function == REMOVE_BACKGROUND:
        return "InferenceFunction"
    return "Functions" + "".join(part.title() for part in function.split("_"))


def test_every_method_requires_the_authorizer_and_an_api_key(synth):
    # Given the synthesized API and the route table
    authorizer = synth.one("AWS::ApiGateway::Authorizer")
    assert authorizer["Type"] == "REQUEST"
    assert authorizer["IdentitySource"] == "method.request.header.x-api-key"
    assert authorizer["AuthorizerResultTtlInSeconds"] == 300
    methods = _method_paths(synth)
    # Then exactly the table's methods exist, and every one the table does not mark
    # public is behind the authorizer with an API key
    assert set(methods) == {(route.method, route.path) for route in ROUTES}
    for route in ROUTES:
        method = methods[(route.method, route.path)]
        if not route.authorized:
            assert method["AuthorizationType"] == "NONE", route.path
            assert route.method == "GET" and route.path.startswith("/account"), route.path
            continue
        assert method["AuthorizationType"] == "CUSTOM", route.path
        assert "AuthorizerId" in method, route.path
        assert method["ApiKeyRequired"] is True, route.path
        assert method["RequestParameters"] == {"method.request.header.x-api-key": True}
        assert "RequestValidatorId" in method, route.path


def test_the_routes_reach_the_right_functions(synth):
    # Given the synthesized methods
    methods = _method_paths(synth)
    # Then each route's integration invokes the function the route table names
    for route in ROUTES:
        uri = json.dumps(methods[(route.method, route.path)]["Integration"]["Uri"])
        assert _function_fragment(route.function) in uri, (route.path, uri)


def test_the_api_is_regional_with_binary_media_and_keys_from_the_authorizer(synth):
    api = synth.one("AWS::ApiGateway::RestApi")
    assert api["EndpointConfiguration"]["Types"] == ["REGIONAL"]
    assert api["BinaryMediaTypes"] == ["*/*"]
    assert api["ApiKeySourceType"] == "AUTHORIZER"
    # Without a custom domain the execute-api endpoint is the API's only URL.
    assert api.get("DisableExecuteApiEndpoint", False) is False


def test_the_default_execute_api_endpoint_refuses_tls_below_1_2(synth):
    # Given the default (regional) deployment, whose execute-api URL is the API
    # Then the API itself carries the TLS 1.2 policy (without one it negotiates TLS 1.0)
    api = synth.one("AWS::ApiGateway::RestApi")
    assert api["SecurityPolicy"] == "TLS_1_2"
    # a legacy policy takes no endpoint access mode (only SecurityPolicy_* ones do)
    assert "EndpointAccessMode" not in api
    fields_logged = json.loads(synth.one("AWS::ApiGateway::Stage")["AccessLogSetting"]["Format"])
    assert fields_logged["tlsVersion"] == "$context.tlsVersion"


def test_the_stage_throttles_all_traffic_before_any_key_is_checked(synth):
    # Given the defaults, then every method of the stage shares a ceiling (100 rps, burst 200)
    # that also holds back a flood of made-up keys, each of which would miss the cache
    settings = synth.one("AWS::ApiGateway::Stage")["MethodSettings"]
    assert len(settings) == 1
    assert settings[0]["ResourcePath"] == "/*" and settings[0]["HttpMethod"] == "*"
    assert settings[0]["ThrottlingRateLimit"] == 100
    assert settings[0]["ThrottlingBurstLimit"] == 200


def test_no_concurrency_is_reserved_by_default(synth):
    # Reserving takes from the account's unreserved pool: only on request (a setting).
    for name, function in _functions(synth).items():
        assert "ReservedConcurrentExecutions" not in function["Properties"], name


def test_without_a_custom_domain_there_is_no_dns_output_or_record(synth):
    assert not [o for o in synth.raw["Outputs"] if o.startswith("ApiDomain")]
    synth.template.resource_count_is("AWS::Route53::RecordSet", 0)


def test_the_usage_plan_throttles_each_key(synth):
    plan = synth.one("AWS::ApiGateway::UsagePlan")
    assert plan["Throttle"] == {"RateLimit": 10, "BurstLimit": 20}
    assert len(plan["ApiStages"]) == 1
    assert "Quota" not in plan


def test_the_stage_logs_access_and_errors_but_never_bodies(synth):
    stage = synth.one("AWS::ApiGateway::Stage")
    assert stage["StageName"] == "prod"
    assert stage["TracingEnabled"] is True
    assert "DestinationArn" in stage["AccessLogSetting"]
    fields_logged = json.loads(stage["AccessLogSetting"]["Format"])
    assert "$context.requestId" in fields_logged.values()
    settings = stage["MethodSettings"][0]
    assert settings["LoggingLevel"] == "ERROR" and settings["DataTraceEnabled"] is False
    synth.template.has_resource_properties("AWS::Logs::LogGroup", {
        "LogGroupName": {"Fn::Join": ["", ["API-Gateway-Execution-Logs_", Match.any_value(),
                                           "/prod"]]}})


def test_the_api_gateway_logging_role_is_registered_with_an_inline_policy(synth):
    account = synth.one("AWS::ApiGateway::Account")
    role_id = account["CloudWatchRoleArn"]["Fn::GetAtt"][0]
    role = synth.raw["Resources"][role_id]["Properties"]
    assert role["Policies"][0]["PolicyName"] == "WriteApiLogs"


def test_the_request_validator_checks_parameters_and_body(synth):
    validator = synth.one("AWS::ApiGateway::RequestValidator")
    assert validator["ValidateRequestBody"] is True
    assert validator["ValidateRequestParameters"] is True


def deployed_gateway_response(synth, response_type: str) -> dict:
    responses = [r["Properties"] for r in synth.resources("AWS::ApiGateway::GatewayResponse")
                 .values() if r["Properties"]["ResponseType"] == response_type]
    assert len(responses) == 1
    return responses[0]


def render_deployed(template: str) -> dict:
    """The deployed template with API Gateway's `$context` fields it names substituted."""
    import airspeed

    context = {"requestId": "req-1", "error": {"message": "m", "messageString": '"m"'},
               "authorizer": {"error_code": "invalid_api_key"}}
    return json.loads(airspeed.Template(template).merge({"context": context}))


@pytest.mark.parametrize("response_type,status,code,removebg_code,title", [
    ("UNAUTHORIZED", "401", "unauthorized", "auth_failed", "API Key invalid"),
    ("ACCESS_DENIED", "403", "forbidden", "auth_failed", "API Key invalid"),
    ("THROTTLED", "429", "throttled", "throttled", "Rate limit exceeded"),
    ("QUOTA_EXCEEDED", "429", "throttled", "throttled", "Rate limit exceeded"),
    ("REQUEST_TOO_LARGE", "413", "image_too_large", "file_too_large", "File too large"),
    ("DEFAULT_4XX", None, "invalid_request", "invalid_request", "Invalid request"),
    ("DEFAULT_5XX", None, "internal_error", "internal_error", "Internal server error"),
    ("AUTHORIZER_CONFIGURATION_ERROR", "503", "service_unavailable", "service_unavailable",
     "Internal server error"),
    ("AUTHORIZER_FAILURE", "503", "service_unavailable", "service_unavailable",
     "Internal server error"),
    # each with a code of its own, not DEFAULT_4XX's 403 invalid_request
    ("MISSING_AUTHENTICATION_TOKEN", "404", "route_not_found", "route_not_found",
     "Invalid request"),
    ("INVALID_API_KEY", "403", "forbidden", "auth_failed", "API Key invalid"),
    ("WAF_FILTERED", "403", "request_blocked", "request_blocked", "Invalid request")])
def test_gateway_responses_speak_both_contracts_by_substitution_alone(
        synth, response_type, status, code, removebg_code, title):
    response = deployed_gateway_response(synth, response_type)
    assert response.get("StatusCode") == status
    template = response["ResponseTemplates"]["application/json"]
    # AWS runs no Velocity over a gateway response (simple variable substitution only): no
    # directive, so the text means the same whichever way it is read
    for directive in ("#if", "#set", "#else", "#end", "#foreach", "#{", "responseOverride"):
        assert directive not in template
    # One body: ours for our clients, remove.bg's `errors` for both remove.bg clients
    body = render_deployed(template)
    assert sorted(body) == ["error", "errors"]
    native = body["error"]
    assert native["code"] == code and native["request_id"] == "req-1"
    assert len(body["errors"]) == 1 and body["errors"][0]["code"] == removebg_code
    assert body["errors"][0]["title"] == title and body["errors"][0]["detail"]
    headers = response["ResponseParameters"]
    # The headers every answer carries: a mapping expression (unquoted) for the request id,
    # static values in single quotes.
    assert headers["gatewayresponse.header.X-Request-Id"] == "context.requestId"
    assert headers["gatewayresponse.header.Cache-Control"] == "'no-store'"
    assert headers["gatewayresponse.header.Content-Type"] == "'application/json'"
    assert headers["gatewayresponse.header.X-Content-Type-Options"] == "'nosniff'"
    # A refusal of the gateway's runs no handler and writes nothing: its receipt says so
    assert headers["gatewayresponse.header.X-Cutout-Retention"] == "'none'"
    if code in ("throttled", "service_unavailable"):  # the same request may come back
        assert response["ResponseParameters"]["gatewayresponse.header.Retry-After"] == "'1'"
    if response_type == "ACCESS_DENIED":  # which refusal: the authorizer's verdict
        assert native["reason"] == "invalid_api_key"
    if response_type == "INVALID_API_KEY":  # a revoked key still in the authorizer's cache
        assert native["reason"] == "revoked_api_key"


def test_the_local_gateway_renders_the_deployed_gateway_response_templates(synth):
    # Given every customised response type as the stack deploys it (one body on every route,
    # the remove.bg route's included: the templates have no branch, a test above keeps it so)
    from cutout.api.gateway_errors import GATEWAY_ERRORS
    from cutout.local.gateway_responses import GatewayRefusal, gateway_context, render_template

    for error in GATEWAY_ERRORS:
        deployed = deployed_gateway_response(synth, error.response_type)
        refusal = GatewayRefusal(error.response_type, error.status or 400, reason="denied")
        # When cutout serve refuses a request as that type
        local_status, local_body = refusal.status, refusal.body("req-1")
        # Then its status and body are what the synthesized template renders to
        status = int(deployed.get("StatusCode") or refusal.status)
        body = render_template(deployed["ResponseTemplates"]["application/json"],
                               gateway_context(refusal, "req-1"))
        assert (local_status, local_body.decode()) == (status, body), error.response_type
        assert json.loads(body)  # JSON in either contract


def test_every_gateway_refusal_the_local_gateway_raises_is_a_gateway_response(synth):
    # Given the library's table of the gateway's own answers (the local gateway's source)
    from cutout.api.gateway_errors import GATEWAY_ERRORS

    deployed = {r["Properties"]["ResponseType"]: r["Properties"]
                for r in synth.resources("AWS::ApiGateway::GatewayResponse").values()}
    # Then the stack shapes every one of them, with the same status
    for error in GATEWAY_ERRORS:
        assert error.response_type in deployed, error.response_type
        assert deployed[error.response_type].get("StatusCode") == (
            str(error.status) if error.status else None), error.response_type


def test_no_waf_and_no_custom_domain_by_default(synth):
    synth.template.resource_count_is("AWS::WAFv2::WebACL", 0)
    synth.template.resource_count_is("AWS::ApiGateway::DomainName", 0)


# --- monitoring and outputs --------------------------------------------------------------------
def test_alarms_cover_5xx_rate_latency_and_each_functions_errors_and_throttles(synth):
    alarms = synth.resources("AWS::CloudWatch::Alarm")
    names = " ".join(alarms)
    assert "Api5xxRate" in names and "ApiP99Latency" in names
    for function in ("RemoveBackground", "Authorizer", "Account", "Uploads"):
        assert f"{function}Errors" in names and f"{function}Throttles" in names
    synth.template.resource_count_is("AWS::CloudWatch::Dashboard", 1)


def test_an_alarm_watches_every_accepted_training_opt_in(synth):
    alarms = [a["Properties"] for name, a in synth.resources("AWS::CloudWatch::Alarm").items()
              if "TrainingOptInTurnedOn" in name]
    assert len(alarms) == 1
    assert alarms[0]["MetricName"] == "TrainingOptInEnabled"
    assert alarms[0]["Namespace"] == "Cutout"
    assert alarms[0]["Dimensions"] == [{"Name": "service", "Value": "account"}]
    assert alarms[0]["Threshold"] == 0


def test_the_sweeper_may_reconcile_the_training_store_and_nothing_more(synth):
    found = statements(synth, "Sweeper")
    actions = {action for s in found for action in (
        s["Action"] if isinstance(s["Action"], list) else [s["Action"]])}
    # Deletes and listings under training/ (the reconciliation), the account reads and the
    # erasure progress; never a write to a training object or a key item put
    assert {"s3:DeleteObjectVersion", "s3:ListBucketVersions", "dynamodb:GetItem",
            "dynamodb:UpdateItem"} <= actions
    assert not actions & {"s3:PutObject", "s3:GetObject", "dynamodb:PutItem",
                          "dynamodb:DeleteItem"}
    training = [s for s in found if "s3:DeleteObjectVersion" in s["Action"]]
    assert all(schema.TRAINING_PREFIX in json.dumps(s["Resource"]) for s in training)


def test_outputs_give_the_admin_cli_what_it_needs(synth):
    from infrastructure.stack import OUTPUTS

    assert set(synth.raw["Outputs"]) == set(OUTPUTS)


def test_the_sweeper_deletes_past_24_hours_on_an_hourly_schedule_by_default(synth):
    rule = synth.one("AWS::Events::Rule")
    assert rule["ScheduleExpression"] == "rate(1 hour)"
    assert "FunctionsSweeper" in json.dumps(rule["Targets"])
    assert _function(synth, "FunctionsSweeper")["Timeout"] == 300
    assert len(_functions(synth)) == 5


def test_the_template_is_valid_cloudformation(synth):
    errors = cfn_lint_errors(synth)
    if errors is None:
        pytest.skip("cfn-lint is not installed")
    assert errors == []
