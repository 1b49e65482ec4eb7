"""The batch state machine as synthesized, executed by moto's States Language interpreter.

`POST /v1/batches` starts an execution of the template's own definition; the Distributed Map
lists the prefix (S3 ListObjectsV2) and invokes the worker, which runs in process at moto's
container seam (`cutout.local.step_functions_shims`), configured from the template's own
ImageConfig, Environment, Timeout and MemorySize; `GET /v1/batches/{id}` reads the job.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import replace
from pathlib import Path

import boto3
import pytest
import requests
from batch_support import (
    BROKEN,
    DESTINATION_BUCKET,
    SOURCE_BUCKET,
    allow_listed,
    batch_handler,
    image,
    keys,
    put,
    start,
    wait,
)
from botocore.exceptions import ClientError
from integration_support import REGION, Gateway, load_function

from cutout.local.batch_machine import InProcessWorker
from cutout.local.step_functions_shims import in_process_lambda, runnable_definition
from cutout.service.keys import Authenticator
from cutout.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
ACCOUNT = "123456789012"  # moto's default account
# The template's references, by logical-id prefix, to the moto deployment's settings fields
REFERENCES = {"AccountsTable": "accounts_table", "StorageTransientBucket": "transient_bucket",
              "StorageTrainingStore": "training_bucket", "StorageKey": "kms_key_id",
              "BatchJobRole": "batch_job_role_arn"}


@pytest.fixture(scope="module")
def template() -> dict:
    """The stack with batches on, synthesized once for the module (about 10 s)."""
    sys.path.insert(0, str(ROOT / "tests" / "infrastructure"))
    sys.path.insert(0, str(ROOT))
    node = ROOT / ".venv" / "node" / "bin" / "node"  # as tests/infrastructure/conftest.py
    if "JSII_NODE" not in os.environ and node.exists():
        os.environ["JSII_NODE"] = str(node)
    from infra_synth import synthesize

    return synthesize(batch_source_buckets=SOURCE_BUCKET,
                      batch_destination_buckets=DESTINATION_BUCKET,
                      interface_endpoints="states,sts", batch_size=4,
                      batch_tolerated_failure_percent=0).raw


def _resource(template: dict, kind: str, prefix: str) -> dict:
    return next(v["Properties"] for k, v in template["Resources"].items()
                if v["Type"] == kind and k.startswith(prefix))


def _resolve(value, deployment: Settings, names: dict[str, str]):
    """A CloudFormation value with the pseudo parameters and our resources filled in."""
    if isinstance(value, str | int | float | bool):
        return value
    if "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return separator.join(str(_resolve(p, deployment, names)) for p in parts)
    reference = value.get("Ref") or value.get("Fn::GetAtt", [None])[0]
    pseudo = {"AWS::Partition": "aws", "AWS::Region": REGION, "AWS::AccountId": ACCOUNT}
    if reference in pseudo:
        return pseudo[reference]
    for prefix, name in names.items():
        if reference.startswith(prefix):
            return name
    for prefix, field in REFERENCES.items():
        if reference.startswith(prefix):
            return getattr(deployment, field)
    raise AssertionError(f"the test cannot resolve {value}")


class Deployment:
    """The template's worker and state machine, created in moto as CloudFormation would."""

    def __init__(self, template: dict, deployment: Settings) -> None:
        worker = _resource(template, "AWS::Lambda::Function", "BatchWorker")
        machine = _resource(template, "AWS::StepFunctions::StateMachine", "BatchStateMachine")
        role = boto3.client("iam", region_name=REGION).create_role(
            RoleName="cutout-batch", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        function = boto3.client("lambda", region_name=REGION).create_function(
            FunctionName="cutout-batch-worker", Role=role, PackageType="Image",
            Code={"ImageUri": f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/cutout:latest"},
            ImageConfig=worker["ImageConfig"], Timeout=worker["Timeout"],
            MemorySize=worker["MemorySize"],
            Environment={"Variables": {
                name: str(_resolve(value, deployment, {}))
                for name, value in worker["Environment"]["Variables"].items()}})
        names = {"BatchWorker": function["FunctionArn"]}
        self.definition = json.loads(_resolve(machine["DefinitionString"], deployment, names))
        self.arn = boto3.client("stepfunctions", region_name=REGION).create_state_machine(
            name=machine["StateMachineName"], roleArn=role,
            definition=json.dumps(runnable_definition(self.definition)))["stateMachineArn"]
        self.configured_arn = function["Environment"]["Variables"][
            "CUTOUT_BATCH_STATE_MACHINE_ARN"]
        self.invocations: list[dict] = []
        self.throttle_next = 0
        self.run = InProcessWorker()  # as `cutout serve` runs its worker

    def worker(self, configuration: dict, event: dict) -> dict:
        """The image's CMD (`batch_items.handler`) on the Map's payload, in this process."""
        assert configuration["ImageConfigResponse"]["ImageConfig"]["Command"] == [
            "batch_items.handler"]
        self.invocations.append(event)
        if self.throttle_next:
            self.throttle_next -= 1
            raise ThrottledByLambda("Rate exceeded")
        if any(item["Key"].endswith("crash.png") for item in event["Items"]):
            raise MemoryError("the worker ran out of memory")
        # its settings built from the function's own environment (one environment each)
        return self.run(configuration, event)


class ThrottledByLambda(Exception):
    """Stands for Lambda's own 429: the Map sees `Lambda.TooManyRequestsException`.

    At moto's seam only the function can answer, so the throttle is a function error carrying
    the name Step Functions gives Lambda's 429 (in AWS the invoke itself is refused).
    """


ThrottledByLambda.__name__ = "Lambda.TooManyRequestsException"


@pytest.fixture
def deployed(aws, template, settings, stores):
    """The template's machine in moto (its interpreter on and shimmed: the `aws` fixture)."""
    configured = allow_listed(settings, batch_destination_buckets=DESTINATION_BUCKET)
    deployment = Deployment(template, configured)
    configured = replace(configured, batch_state_machine_arn=deployment.arn)
    authorizer = load_function("authorizer").make_handler(Authenticator(stores.accounts))
    gateway = Gateway(authorizer, {"remove_background": batch_handler(configured, stores)})
    with in_process_lambda({"cutout-batch-worker": deployment.worker}):
        yield deployment, gateway


def test_moto_still_cannot_parse_the_item_batcher(aws, template, settings):
    # Given the definition exactly as synthesized
    deployment = Deployment(template, settings)
    # When moto is handed it without the shim, then its grammar refuses the ItemBatcher:
    # the day this test fails, moto has learnt it and runnable_definition's batcher shim goes.
    with pytest.raises(ClientError, match="ItemBatcher"):
        boto3.client("stepfunctions", region_name=REGION).create_state_machine(
            name="unshimmed", roleArn=f"arn:aws:iam::{ACCOUNT}:role/x",
            definition=json.dumps(deployment.definition))


def test_the_api_starts_the_state_machine_the_template_creates(deployed):
    deployment, _ = deployed
    assert deployment.configured_arn == deployment.arn


def test_a_job_runs_through_the_synthesized_definition(deployed, caller):
    deployment, gateway = deployed
    me = f"{caller.account_id}/"
    # Given three good images and two broken files under one prefix
    for name, fmt in (("a.jpg", "JPEG"), ("b.png", "PNG"), ("sub/c.png", "PNG")):
        put(SOURCE_BUCKET, f"{me}shoot/{name}", image(fmt, (120, 90)))
    put(SOURCE_BUCKET, f"{me}shoot/truncated.jpg", BROKEN["truncated.jpg"]())
    put(SOURCE_BUCKET, f"{me}shoot/notes.png", BROKEN["notes.png"]())
    # And the first invocation throttled by Lambda
    deployment.throttle_next = 1

    # When the job runs through the API, the interpreter and the worker
    answer = start(gateway, caller, f"s3://{SOURCE_BUCKET}/{me}shoot/",
                   f"s3://{DESTINATION_BUCKET}/{me}out/")
    assert answer.status == 202, answer.body
    status = wait(gateway, caller, answer.json()["batch_id"], timeout=120)

    # Then every good image has its output and every broken one is reported with its code
    assert status["state"] == "SUCCEEDED", status
    assert keys(DESTINATION_BUCKET, f"{me}out/") == sorted(
        f"{me}out/{name}.png" for name in ("a", "b", "sub/c"))
    assert {k: v for k, v in status["totals"].items() if k != "listed"} == {
        "done": 3, "skipped": 0, "failed": 2}
    # And each batch reached the worker with the job's BatchInput (the template's paths)
    first = deployment.invocations[0]
    assert set(first) == {"Items", "BatchInput"}
    assert first["BatchInput"]["destination_prefix"] == f"{me}out/"
    # And the throttled invoke was retried: 5 items, one retry, each counted once
    assert len(deployment.invocations) == 6
    assert status["report_state"] == "ready"
    report = requests.get(status["report_url"], timeout=10).json()  # moto answers it
    assert report["failures"] == [
        {"key": f"{me}shoot/notes.png", "error": "undecodable_image"},
        {"key": f"{me}shoot/truncated.jpg", "error": "undecodable_image"}]

    # When the same job runs again, then what exists is skipped
    again = start(gateway, caller, f"s3://{SOURCE_BUCKET}/{me}shoot/",
                  f"s3://{DESTINATION_BUCKET}/{me}out/")
    assert again.status == 202, again.body
    second = wait(gateway, caller, again.json()["batch_id"], timeout=120)
    assert second["state"] == "SUCCEEDED", second
    assert {k: v for k, v in second["totals"].items() if k != "listed"} == {
        "done": 0, "skipped": 3, "failed": 2}


def test_a_crashing_worker_fails_the_job_past_the_tolerated_percentage(deployed, caller):
    deployment, gateway = deployed
    me = f"{caller.account_id}/"
    # Given one image whose batch crashes the worker (the template tolerates 0 %)
    put(SOURCE_BUCKET, f"{me}crashy/a.jpg", image("JPEG", (120, 90)))
    put(SOURCE_BUCKET, f"{me}crashy/crash.png", image("PNG", (120, 90)))
    # When the job runs
    answer = start(gateway, caller, f"s3://{SOURCE_BUCKET}/{me}crashy/",
                   f"s3://{DESTINATION_BUCKET}/{me}out/")
    assert answer.status == 202, answer.body
    status = wait(gateway, caller, answer.json()["batch_id"], timeout=120)
    # Then the job ends FAILED, as Step Functions' threshold makes it
    assert status["state"] == "FAILED", status
    history = boto3.client("stepfunctions", region_name=REGION).get_execution_history(
        executionArn=_execution(deployment), reverseOrder=True)["events"]
    failed = next(e for e in history if e["type"] == "ExecutionFailed")
    assert failed["executionFailedEventDetails"]["error"] == \
        "States.ExceedToleratedFailureThreshold"
    # And the image that did run has its output; the crashed item is not counted as done
    assert keys(DESTINATION_BUCKET, f"{me}out/") == [f"{me}out/a.png"]


def _execution(deployment) -> str:
    client = boto3.client("stepfunctions", region_name=REGION)
    return client.list_executions(stateMachineArn=deployment.arn)["executions"][0]["executionArn"]


def test_a_prefix_of_only_broken_files_ends_with_a_report(deployed, caller):
    deployment, gateway = deployed
    me = f"{caller.account_id}/"
    # Given a prefix holding nothing that decodes
    put(SOURCE_BUCKET, f"{me}junk/notes.png", BROKEN["notes.png"]())
    put(SOURCE_BUCKET, f"{me}junk/empty.jpg", BROKEN["empty.jpg"]())
    # When the job runs through the definition
    answer = start(gateway, caller, f"s3://{SOURCE_BUCKET}/{me}junk/",
                   f"s3://{DESTINATION_BUCKET}/{me}junk-out/")
    assert answer.status == 202, answer.body
    status = wait(gateway, caller, answer.json()["batch_id"], timeout=120)
    # Then it ends (bad items are the worker's answers, not crashes) with both reported
    assert status["state"] == "SUCCEEDED", status
    assert {k: v for k, v in status["totals"].items() if k != "listed"} == {
        "done": 0, "skipped": 0, "failed": 2}
    assert keys(DESTINATION_BUCKET, f"{me}junk-out/") == []
    assert status["report_state"] == "ready"
