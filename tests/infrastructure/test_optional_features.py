"""Opt-in settings: WAF, custom domain, TLS policy, quotas, arm64, alarm topic, sweeper.

Given every optional feature switched on, when the app is synthesized (once, in the module
fixture), then each test checks that one feature is wired as documented and nag stays clean.
"""

from __future__ import annotations

import json

import pytest
from infra_synth import assert_no_foreign_cors, cfn_lint_errors, describe, statements, synthesize

from cutout.api.routes import ROUTES

CERTIFICATE = "arn:aws:acm:eu-west-1:123456789012:certificate/abcd-1234"
TOPIC = "arn:aws:sns:eu-west-1:123456789012:cutout-alarms"
TLS13 = "SecurityPolicy_TLS13_1_2_PFS_PQ_2025_09"
ZONE_ID = "Z0123456789ABCDEFGHIJ"


@pytest.fixture(scope="module")
def synth():
    return synthesize(
        waf_enabled="true", waf_rate_limit=500, domain_name="api.example.com",
        certificate_arn=CERTIFICATE, tls_policy=TLS13, hosted_zone_id=ZONE_ID,
        hosted_zone_name="example.com",
        inference_reserved_concurrency="50", authorizer_reserved_concurrency=20,
        stage_throttle_rate_limit=500, stage_throttle_burst_limit=1000, architecture="arm64",
        quota_requests_per_day=1000, alarm_topic_arn=TOPIC, zero_retention=True,
        table_deletion_protection="false", training_retention_days=30,
        sweep_interval_minutes=15)


def test_aws_solutions_pack_reports_nothing_unacknowledged(synth):
    assert synth.violations == [], describe(synth.violations)


def test_the_web_acl_rate_limits_each_ip_and_lets_image_bodies_through(synth):
    acl = synth.one("AWS::WAFv2::WebACL")
    assert acl["Scope"] == "REGIONAL"
    rules = {rule["Name"]: rule for rule in acl["Rules"]}
    rate = rules["rate-limit-per-ip"]["Statement"]["RateBasedStatement"]
    assert rate == {"Limit": 500, "AggregateKeyType": "IP"}
    common = rules["aws-common-rules"]["Statement"]["ManagedRuleGroupStatement"]
    assert common["RuleActionOverrides"] == [
        {"Name": "SizeRestrictions_BODY", "ActionToUse": {"Count": {}}}]
    association = synth.one("AWS::WAFv2::WebACLAssociation")
    assert "DeploymentStage" in json.dumps(association["ResourceArn"])


def test_the_custom_domain_and_the_api_carry_the_chosen_enhanced_tls_policy(synth):
    # Given tls_policy set to an enhanced (SecurityPolicy_*) policy and a custom domain
    domain = synth.one("AWS::ApiGateway::DomainName")
    api = synth.one("AWS::ApiGateway::RestApi")
    # Then both the domain and the API itself use it, each with endpoint access mode STRICT
    for resource in (domain, api):
        assert resource["SecurityPolicy"] == TLS13
        assert resource["EndpointAccessMode"] == "STRICT"
    assert domain["DomainName"] == "api.example.com"
    assert domain["RegionalCertificateArn"] == CERTIFICATE
    synth.template.resource_count_is("AWS::ApiGateway::BasePathMapping", 1)
    assert synth.raw["Outputs"]["ApiUrl"]["Value"] == "https://api.example.com/"


def test_the_custom_domain_says_where_to_point_its_dns_and_gets_its_alias_record(synth):
    # Given a custom domain and the Route 53 zone it lives in
    domain_id = list(synth.resources("AWS::ApiGateway::DomainName"))[0]
    outputs = synth.raw["Outputs"]
    # Then the stack outputs the domain's regional target and its hosted zone id
    assert outputs["ApiDomainTarget"]["Value"] == {
        "Fn::GetAtt": [domain_id, "RegionalDomainName"]}
    assert outputs["ApiDomainHostedZoneId"]["Value"] == {
        "Fn::GetAtt": [domain_id, "RegionalHostedZoneId"]}
    # and an A alias record for the domain in that zone points at the same target
    record = synth.one("AWS::Route53::RecordSet")
    assert record["HostedZoneId"] == ZONE_ID
    assert record["Name"] == "api.example.com."
    assert record["Type"] == "A"
    assert record["AliasTarget"] == {
        "DNSName": {"Fn::GetAtt": [domain_id, "RegionalDomainName"]},
        "HostedZoneId": {"Fn::GetAtt": [domain_id, "RegionalHostedZoneId"]}}


def test_the_custom_domain_cannot_be_bypassed_through_the_execute_api_endpoint(synth):
    # Otherwise https://<id>.execute-api.<region>.amazonaws.com/<stage> would still answer,
    # outside the domain's TLS 1.2 policy; the ApiUrl output is the domain (test above).
    api = synth.one("AWS::ApiGateway::RestApi")
    assert api["DisableExecuteApiEndpoint"] is True
    assert "execute-api" not in json.dumps(synth.raw["Outputs"])


def test_with_every_feature_on_no_cors_preflight_skips_the_authorizer(synth):
    # No CORS preflight (OPTIONS) methods; the only methods without the key authorizer are
    # the GETs of the route table's public account-page files.
    methods = [m["Properties"] for m in synth.resources("AWS::ApiGateway::Method").values()]
    assert not [m for m in methods if m["HttpMethod"] == "OPTIONS"]
    public = [m for m in methods if m["AuthorizationType"] != "CUSTOM"]
    assert len(public) == len([r for r in ROUTES if not r.authorized])
    assert all(m["HttpMethod"] == "GET" for m in public)
    assert all(m["ApiKeyRequired"] is True for m in methods if m not in public)


def test_no_bucket_admits_a_foreign_browser_origin(synth):
    assert_no_foreign_cors(synth)


def test_functions_follow_the_architecture_setting(synth):
    for name, function in synth.resources("AWS::Lambda::Function").items():
        assert function["Properties"]["Architectures"] == ["arm64"], name
    assert "/aws/service/powertools/python/arm64/" in json.dumps(synth.raw["Parameters"])
    assets = json.loads((synth.outdir / "cutout.assets.json").read_text())
    platforms = [a["source"].get("platform") for a in assets["dockerImages"].values()]
    assert platforms == ["linux/arm64"]


def test_reserved_concurrency_quota_retention_and_alarm_actions_apply(synth):
    functions = synth.resources("AWS::Lambda::Function")
    inference = [f["Properties"] for k, f in functions.items() if "Inference" in k][0]
    assert inference["ReservedConcurrentExecutions"] == 50
    authorizer = [f["Properties"] for k, f in functions.items() if "Authorizer" in k][0]
    assert authorizer["ReservedConcurrentExecutions"] == 20
    stage = synth.one("AWS::ApiGateway::Stage")["MethodSettings"][0]
    assert (stage["ThrottlingRateLimit"], stage["ThrottlingBurstLimit"]) == (500, 1000)
    assert inference["Environment"]["Variables"]["CUTOUT_ZERO_RETENTION"] == "true"
    plan = synth.one("AWS::ApiGateway::UsagePlan")
    assert plan["Quota"] == {"Limit": 1000, "Period": "DAY"}
    synth.template.has_resource_properties("AWS::DynamoDB::Table",
                                           {"DeletionProtectionEnabled": False})
    for alarm in synth.resources("AWS::CloudWatch::Alarm").values():
        assert alarm["Properties"]["AlarmActions"] == [TOPIC]
    rules = [r for b in synth.resources("AWS::S3::Bucket").values()
             for r in b["Properties"].get("LifecycleConfiguration", {}).get("Rules", [])]
    assert {"Id": "expire-training-data", "ExpirationInDays": 30} in [
        {"Id": r.get("Id"), "ExpirationInDays": r.get("ExpirationInDays")} for r in rules]


def test_the_sweeper_runs_on_its_schedule_and_may_only_list_delete_and_track_erasure(synth):
    rule = synth.one("AWS::Events::Rule")
    assert rule["ScheduleExpression"] == "rate(15 minutes)"
    assert "FunctionsSweeper" in json.dumps(rule["Targets"])
    actions = {}
    for statement in statements(synth, "SweeperBaseRole"):
        listed = statement["Action"] if isinstance(statement["Action"], list) \
            else [statement["Action"]]
        for action in listed:
            actions.setdefault(action, []).append(json.dumps(statement["Resource"]))
    data = {a for a in actions if a.startswith(("s3:", "dynamodb:"))}
    # Transient objects by key; training objects by version (the reconciliation); account
    # profiles read and their erasure progress updated. Nothing written to either bucket.
    assert data == {"s3:DeleteObject", "s3:ListBucket", "s3:DeleteObjectVersion",
                    "s3:ListBucketVersions", "dynamodb:GetItem", "dynamodb:UpdateItem"}
    deletes = " ".join(actions["s3:DeleteObject"])
    assert "/uploads/*" in deletes and "/results/*" in deletes and "Training" not in deletes
    assert "Transient" not in " ".join(actions["s3:DeleteObjectVersion"])
    # The erasure's progress only: never an opt-in's switch, a key or a counter
    (update,) = [s for s in statements(synth, "SweeperBaseRole")
                 if "dynamodb:UpdateItem" in json.dumps(s["Action"])]
    attributes = update["Condition"]["ForAllValues:StringEquals"]["dynamodb:Attributes"]
    assert set(attributes) == {"pk", "sk", "erasure_deleted", "erasure_state",
                               "erasure_finished_at", "opt_in"}
    assert update["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"] == [
        "ACCOUNT#*"]
    alarms = " ".join(synth.resources("AWS::CloudWatch::Alarm"))
    assert "SweeperErrors" in alarms and "SweeperThrottles" in alarms


def test_the_template_is_valid_cloudformation(synth):
    errors = cfn_lint_errors(synth)
    if errors is None:
        pytest.skip("cfn-lint is not installed")
    assert errors == []
