"""`cutout preflight`: each check fails, with its fix, when `cdk deploy` would fail.

The bootstrap check reads moto's CloudFormation; moto has no Lambda GetAccountSettings and no
Lambda service quotas, so those answers come from botocore's Stubber in the services'
documented shapes. Docker, Finch and Node are asked through the injected version runner.
"""

from __future__ import annotations

import json

import boto3
from botocore.stub import Stubber

from cutout.verify import preflight

REGION = "us-east-1"


def lambda_settings(unreserved: int, total: int = 1000):
    client = boto3.client("lambda", region_name=REGION)
    stubber = Stubber(client)
    stubber.add_response("get_account_settings", {"AccountLimit": {
        "ConcurrentExecutions": total, "UnreservedConcurrentExecutions": unreserved}})
    return client, stubber


def test_reserving_into_the_last_hundred_fails_with_the_fix(aws):
    client, stubber = lambda_settings(unreserved=150)
    with stubber:
        result = preflight.concurrency(client, {"inference_reserved_concurrency": 100})
    assert result.status == "fail" and "at most 50" in result.detail


def test_reserving_what_the_pool_can_spare_passes(aws):
    client, stubber = lambda_settings(unreserved=1000)
    with stubber:
        result = preflight.concurrency(client, {"inference_reserved_concurrency": 100})
    assert result.status == "pass"


def test_memory_over_the_account_quota_fails(aws):
    quotas = boto3.client("service-quotas", region_name=REGION)
    stubber = Stubber(quotas)
    stubber.add_response("list_service_quotas", {"Quotas": [{
        "ServiceCode": "lambda", "QuotaName": "Function memory maximum", "Value": 3008.0}]},
        {"ServiceCode": "lambda"})
    with stubber:
        result = preflight.lambda_memory(quotas, 6144, "birefnet", 6144)
    assert result.status == "fail" and "3008" in result.detail


def test_memory_within_the_new_account_cap_passes_without_asking(aws):
    quotas = boto3.client("service-quotas", region_name=REGION)
    assert preflight.lambda_memory(quotas, 3008, "u2netp", 1024).status == "pass"


def test_no_container_builder_fails_and_a_running_docker_passes():
    missing = preflight.container_builder(run=lambda command: None)
    running = preflight.container_builder(
        run=lambda command: "27.3.1" if command[0] == "docker" else None)
    finch = preflight.container_builder(
        run=lambda command: "finch version v1.4.0" if command[0] == "finch" else None)
    assert missing.status == "fail" and "Finch" in missing.detail
    assert (running.status, finch.status) == ("pass", "pass")


def test_an_old_or_missing_node_fails():
    assert preflight.node(run=lambda command: "v16.20.2").status == "fail"
    assert preflight.node(run=lambda command: None).status == "fail"
    assert preflight.node(run=lambda command: "v22.11.0").status == "pass"


def test_the_real_node_is_asked():
    # The version runner really runs a command: python is on PATH wherever the suite runs.
    assert (preflight.run_version(["python3", "--version"]) or "").startswith("Python 3")
    assert preflight.run_version(["no-such-command-cutout"]) is None


def test_an_unbootstrapped_region_fails_and_a_bootstrapped_one_passes(aws):
    cloudformation = boto3.client("cloudformation", region_name=REGION)
    missing = preflight.bootstrap(cloudformation, REGION)
    cloudformation.create_stack(StackName="CDKToolkit", TemplateBody=json.dumps({
        "Resources": {"StagingBucket": {"Type": "AWS::S3::Bucket"}}}))
    present = preflight.bootstrap(cloudformation, REGION)
    assert missing.status == "fail" and "cdk bootstrap" in missing.detail
    assert present.status == "pass"
