"""`cutout verify` against a deployment in moto: the good one passes every check moto can
show, and each broken resource fails exactly the check that guards its promise."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import verify_world as world_module
from botocore.stub import Stubber
from verify_world import REGION, add_account, build, create_function, issue_key, put_method

from cutout.cli.main import main
from cutout.clock import utc_now
from cutout.verify import encryption
from cutout.verify.runner import verify_stack
from cutout.verify.stack import read_stack


def statuses(world, now=None) -> dict[str, str]:
    return {item.id: item.status for item in verify_stack(world.deployment(now)).checks}


@pytest.fixture
def world(aws):
    return build()


def test_a_deployment_as_the_stack_builds_it_passes(world):
    # Given a deployment configured as the stack configures it
    # When verify reads it
    report = verify_stack(world.deployment())
    found = {item.id: item.status for item in report.checks}
    # Then every check passes, but for what moto cannot show or the stack does not have:
    # moto's RestAPI keeps no securityPolicy (the good case is below, answered by a Stubber)
    assert found.pop("tls.api_policy") == "fail"
    assert found.pop("tls.domain_policy") == "not_applicable"
    assert set(found.values()) == {"pass"}, found
    assert len(found) == 17


def test_the_api_tls_policy_passes_only_for_tls_1_2_and_later(world):
    # Given API Gateway's answer for a REST API with each policy (moto does not keep it)
    deployment = world.deployment()
    stubber = Stubber(deployment.client("apigateway"))
    for policy, mode in (("TLS_1_2", None), ("SecurityPolicy_TLS13_1_2_2021_06", "STRICT"),
                         ("TLS_1_0", None), ("SecurityPolicy_TLS13_1_2_2021_06", "BASIC")):
        answer = {"id": world.ids["api"], "name": "cutout", "securityPolicy": policy}
        if mode:
            answer["endpointAccessMode"] = mode
        stubber.add_response("get_rest_api", answer, {"restApiId": world.ids["api"]})
    # When the check reads each
    with stubber:
        results = [encryption.api_tls_policy(deployment).status for _ in range(4)]
    # Then TLS 1.2+ passes (an enhanced policy only in STRICT mode), TLS 1.0 fails
    assert results == ["pass", "pass", "fail", "fail"]


def test_a_bucket_without_the_lifecycle_rule_fails(world):
    world.clients["s3"].delete_bucket_lifecycle(Bucket="cutout-transient")
    assert statuses(world)["retention.lifecycle"] == "fail"


def test_a_lifecycle_rule_of_two_days_fails(world):
    world.clients["s3"].put_bucket_lifecycle_configuration(
        Bucket="cutout-transient", LifecycleConfiguration={"Rules": [{
            "ID": "x", "Status": "Enabled", "Filter": {"Prefix": ""}, "Expiration": {"Days": 2}}]})
    assert statuses(world)["retention.lifecycle"] == "fail"


def test_a_training_store_that_never_expires_fails(world):
    world.clients["s3"].delete_bucket_lifecycle(Bucket="cutout-training")
    assert statuses(world)["training.store_expiry"] == "fail"


def test_a_public_bucket_fails(world):
    # Given the public access block removed and a policy that lets anyone read
    s3 = world.clients["s3"]
    s3.delete_public_access_block(Bucket="cutout-training")
    s3.put_bucket_policy(Bucket="cutout-training", Policy=json.dumps({"Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
         "Resource": "arn:aws:s3:::cutout-training/*"}]}))
    found = statuses(world)
    # Then it is public, and its policy no longer denies non-TLS requests
    assert found["access.no_public_bucket"] == "fail"
    assert found["tls.bucket_policies"] == "fail"


def test_a_bucket_with_another_key_fails(world):
    other = world.clients["kms"].create_key()["KeyMetadata"]["Arn"]
    world.clients["s3"].put_bucket_encryption(
        Bucket="cutout-transient", ServerSideEncryptionConfiguration={"Rules": [{
            "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms",
                                                   "KMSMasterKeyID": other}}]})
    assert statuses(world)["encryption.buckets"] == "fail"


def test_a_log_group_without_the_key_fails(world):
    world.clients["logs"].create_log_group(logGroupName="cutout-plain")
    world.add("Plain", "AWS::Logs::LogGroup", "cutout-plain")
    assert statuses(world)["encryption.log_groups"] == "fail"


def test_a_table_with_the_aws_owned_key_fails(world):
    world.clients["dynamodb"].create_table(
        TableName="cutout-plain", BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])
    world.outputs["AccountsTableName"] = "cutout-plain"
    assert statuses(world)["encryption.table"] == "fail"


def test_rotation_off_fails(world):
    world.clients["kms"].disable_key_rotation(KeyId=world.outputs["KmsKeyId"])
    assert statuses(world)["encryption.key_rotation"] == "fail"


def test_a_route_to_an_internet_gateway_fails(world):
    ec2 = world.clients["ec2"]
    gateway = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=gateway, VpcId=world.ids["vpc"])
    ec2.create_route(RouteTableId=world.ids["route_table"], DestinationCidrBlock="0.0.0.0/0",
                     GatewayId=gateway)
    assert statuses(world)["network.no_internet_route"] == "fail"


def test_a_function_outside_the_vpc_fails(world):
    create_function(world, "cutout-loose", in_vpc=False)
    world.add("Loose", "AWS::Lambda::Function", "cutout-loose")
    assert statuses(world)["network.functions_in_vpc"] == "fail"


def test_an_endpoint_policy_naming_another_bucket_fails(world):
    world.clients["ec2"].modify_vpc_endpoint(
        VpcEndpointId=world.ids["s3_endpoint"], PolicyDocument=json.dumps({"Statement": [{
            "Effect": "Allow", "Principal": "*", "Action": "s3:PutObject",
            "Resource": "arn:aws:s3:::somebody-elses-bucket/*"}]}))
    assert statuses(world)["network.endpoint_policies"] == "fail"


def test_a_method_without_the_authorizer_fails(world):
    put_method(world, "DELETE", "/v1/account", authorized=False)
    assert statuses(world)["access.authorizer"] == "fail"


def test_a_key_missing_from_the_usage_plan_fails(world):
    issue_key(world, "b" * 64, in_plan=False)
    assert statuses(world)["access.usage_plan"] == "fail"


def test_an_account_opted_in_without_a_recorded_change_fails(world):
    add_account(world, "acct-sneaky", opt_in=True, recorded=False)
    report = verify_stack(world.deployment())
    check = next(item for item in report.checks if item.id == "training.opted_in")
    assert check.status == "fail" and "acct-sneaky" in check.detail


def test_an_object_older_than_24_hours_fails(world):
    # Given an upload, looked at as if 25 hours had passed
    # (moto reads its requests as non-TLS, so the bucket's TLS-only policy steps aside to write)
    s3 = world.clients["s3"]
    s3.delete_bucket_policy(Bucket="cutout-transient")
    s3.put_object(Bucket="cutout-transient", Key="uploads/a/b", Body=b"x")
    s3.put_bucket_policy(Bucket="cutout-transient",
                         Policy=world_module.tls_only_policy("cutout-transient"))
    later = utc_now() + timedelta(hours=25)
    # Then the oldest-object check fails; a moment after writing it passes
    assert statuses(world, now=lambda: later)["retention.oldest_object"] == "fail"
    assert statuses(world)["retention.oldest_object"] == "pass"


def test_a_disabled_sweeper_schedule_fails(world):
    world.clients["events"].disable_rule(Name="cutout-sweep")
    found = statuses(world)
    assert found["retention.sweeper_schedule"] == "fail"
    assert found["retention.sweeper_runs"] == "not_applicable"


def test_a_sweeper_that_has_not_run_fails(world):
    found = statuses(world, now=lambda: utc_now() + timedelta(hours=5))
    assert found["retention.sweeper_runs"] == "fail"


def test_verify_issues_no_mutating_call(world):
    # Given every client recording the operations it is asked for
    called: list[str] = []
    for client in world.clients.values():
        client.meta.events.register(
            "before-call", lambda model, **_: called.append(model.name))
    # When verify runs every check
    verify_stack(world.deployment())
    # Then it only read
    writes = ("Put", "Create", "Delete", "Update", "Modify", "Tag", "Untag", "Attach",
              "Detach", "Enable", "Disable", "Associate", "Start", "Stop", "Invoke", "Send")
    assert called
    assert [name for name in called if name.startswith(writes)] == []


def test_the_report_names_no_key_hash_and_is_laid_out_for_a_reviewer(world):
    report = verify_stack(world.deployment())
    text = report.json_text() + report.markdown()
    assert "a" * 64 not in text
    document = json.loads(report.json_text())
    assert set(document) == {"ok", "checks"} and document["ok"] is False
    assert set(document["checks"][0]) == {"id", "promise", "status", "evidence", "detail"}
    assert "**How it was checked.**" in report.markdown()


def test_the_stack_reader_lists_a_cloudformation_stack(world):
    # Given a small stack moto created itself, with an output
    cloudformation = world_module.boto3.client("cloudformation", region_name=REGION)
    cloudformation.create_stack(StackName="tiny", TemplateBody=json.dumps({
        "Resources": {"Bucket": {"Type": "AWS::S3::Bucket"}},
        "Outputs": {"TransientBucketName": {"Value": {"Ref": "Bucket"}}}}))
    # When verify reads it
    resources, outputs = read_stack("tiny", cloudformation)
    # Then it has the bucket and the output naming it
    assert [(item.logical_id, item.type) for item in resources] == [("Bucket", "AWS::S3::Bucket")]
    assert outputs["TransientBucketName"] == resources[0].physical_id


def test_the_command_reads_a_stack_and_writes_both_reports(aws, tmp_path, capsys):
    # Given a small stack moto created: one bucket with none of the stack's protections
    cloudformation = world_module.boto3.client("cloudformation", region_name=REGION)
    cloudformation.create_stack(StackName="bare", TemplateBody=json.dumps({
        "Resources": {"Bucket": {"Type": "AWS::S3::Bucket"}},
        "Outputs": {"TransientBucketName": {"Value": {"Ref": "Bucket"}}}}))
    report, markdown = tmp_path / "verify.json", tmp_path / "verify.md"
    # When `cutout verify --stack-name` runs against it
    code = main(["verify", "--stack-name", "bare", "--region", REGION, "--json", str(report),
                 "--markdown", str(markdown)])
    found = {item["id"]: item["status"] for item in json.loads(report.read_text())["checks"]}
    # Then it fails on what the bucket lacks, writes both reports, and says so on exit
    assert code == 1
    assert found["tls.bucket_policies"] == "fail" and found["retention.lifecycle"] == "fail"
    assert found["encryption.table"] == "not_applicable"
    assert "## `tls.bucket_policies`: fail" in markdown.read_text()
    assert "FAIL  tls.bucket_policies" in capsys.readouterr().out


def test_an_api_that_cannot_be_reached_fails_every_probe_without_a_traceback(tmp_path, capsys):
    # Given a loopback port nothing listens on
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    report = tmp_path / "verify.json"
    # When the probes run against it
    code = main(["verify", "--local", f"http://127.0.0.1:{port}", "--api-key",
                 "co_live_unreachable-test-key", "--json", str(report)])
    found = {item["id"]: item["status"] for item in json.loads(report.read_text())["checks"]}
    # Then each probe that needs an answer fails, and the key appears nowhere
    assert code == 1
    assert found == {"probe.no_key": "fail", "probe.tls": "not_applicable",
                     "probe.round_trip": "fail", "probe.nothing_left": "fail"}
    assert "co_live_unreachable-test-key" not in capsys.readouterr().out + report.read_text()
