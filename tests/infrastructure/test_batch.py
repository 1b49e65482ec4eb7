"""Catalogue batches in the template: the Distributed Map's reader, batcher, concurrency,
tolerated failures and writer; IAM scoped to the allow-listed buckets; the worker in the
isolated subnets; nothing of it when the allow-lists are empty."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from infra_synth import describe, statements, synthesize

from cutout.data.batches import BatchRecord
from cutout.service.batch import AllowList, Location, execution_input
from infrastructure.batch_definition import batch_input_template
from infrastructure.settings import DeploymentSettings, SettingsError

SOURCE, DESTINATION = "catalogue-in", "catalogue-out"


@pytest.fixture(scope="module")
def synth():
    return synthesize(batch_source_buckets=SOURCE, batch_destination_buckets=DESTINATION,
                      interface_endpoints="states,sts", batch_max_concurrency=40, batch_size=12,
                      batch_tolerated_failure_percent=3)


def _definition(synth) -> dict:
    """The state machine's definition, the partition resolved and other tokens as TOKEN."""
    parts = synth.one("AWS::StepFunctions::StateMachine")["DefinitionString"]["Fn::Join"][1]
    text = "".join(part if isinstance(part, str)
                   else "aws" if part == {"Ref": "AWS::Partition"} else "TOKEN"
                   for part in parts)
    return json.loads(text)


def _map_state(synth) -> dict:
    return next(iter(_definition(synth)["States"].values()))


def _actions(statement) -> list:
    action = statement["Action"]
    return action if isinstance(action, list) else [action]


def _resources(statement) -> list:
    resource = statement["Resource"]
    return resource if isinstance(resource, list) else [resource]


def _buckets_in(statements_: list, action: str) -> set[str]:
    text = json.dumps([s for s in statements_ if action in json.dumps(s["Action"])])
    return {name for name in (SOURCE, DESTINATION, "*") if f":s3:::{name}" in text}


def test_aws_solutions_pack_reports_nothing_unacknowledged(synth):
    assert synth.violations == [], describe(synth.violations)


def test_the_distributed_map_lists_the_source_prefix_and_batches_items(synth):
    state = _map_state(synth)
    assert state["Type"] == "Map"
    assert state["ItemProcessor"]["ProcessorConfig"]["Mode"] == "DISTRIBUTED"
    assert state["ItemReader"] == {"Resource": "arn:aws:states:::s3:listObjectsV2",
                                   "Parameters": {"Bucket.$": "$.source.bucket",
                                                  "Prefix.$": "$.source.prefix"}}
    # BatchInput is a payload template: each field the worker reads, selected from the input
    assert state["ItemBatcher"] == {"MaxItemsPerBatch": 12, "BatchInput": {
        f"{name}.$": f"$.batch_input.{name}" for name in (
            "account_id", "batch_id", "source_bucket", "source_prefix", "destination_bucket",
            "destination_prefix", "options", "overwrite")}}
    assert state["MaxConcurrency"] == 40
    assert state["ToleratedFailurePercentage"] == 3


def test_the_batcher_has_no_batch_input_path_the_states_language_lacks(synth):
    # The States Language has BatchInput (a template), not "BatchInput.$": Step Functions
    # refuses the definition, or every batch reaches the worker without its job.
    assert not [name for name in _map_state(synth)["ItemBatcher"] if name.endswith(".$")]


def test_statelint_passes_the_synthesized_state_machine(synth, tmp_path):
    # Given the definition exactly as synthesized (tokens stand in for ARNs and names)
    path = tmp_path / "definition.json"
    path.write_text(json.dumps(_definition(synth)))
    statelint = shutil.which("statelint", path=str(Path(sys.executable).parent))
    assert statelint, "statelint is a dev dependency (pyproject.toml)"
    # When the outside States Language validator reads it
    result = subprocess.run([statelint, str(path)], capture_output=True, text=True,
                            timeout=120)
    # Then it finds nothing at all (no ignored problem types)
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


def test_the_local_stacks_batch_machine_is_the_synthesized_one(synth):
    # `cutout serve` has no CDK at run time: it creates the committed state machine and
    # worker configuration, which must be this template's (its tuning at the defaults)
    from infrastructure.local_batch_definition import LOCAL_DEFINITION, render

    assert LOCAL_DEFINITION.read_text() == render(synth.raw), \
        "the definition changed: run python -m infrastructure.local_batch_definition"


def test_the_result_writer_is_rendered(synth):
    # The CDK drops ResultWriterV2 without app.py's useDistributedMapResultWriterV2 flag.
    assert "ResultWriter" in _map_state(synth)


def test_the_execution_input_the_service_sends_fits_the_reader_and_batcher_paths():
    # Given the document the service starts an execution with
    record = BatchRecord(account_id="acct_1", batch_id="b" * 32, source="s3://in/p/",
                         destination="s3://out/q/")
    document = execution_input(record, Location("in", "p/"), Location("out", "q/"))
    # Then the paths the definition reads exist in it, every field the batcher selects too
    assert document["source"] == {"bucket": "in", "prefix": "p/"}
    assert document["batch_input"]["destination_prefix"] == "q/"
    selected = {path.removeprefix("$.batch_input.") for path in batch_input_template().values()}
    assert selected <= set(document["batch_input"])


def test_results_go_to_the_transient_bucket_under_the_24_hour_rule(synth):
    writer = _map_state(synth)["ResultWriter"]
    assert writer["Resource"] == "arn:aws:states:::s3:putObject"
    assert writer["Parameters"] == {"Bucket": "TOKEN", "Prefix": "batches/runs"}
    parts = synth.one("AWS::StepFunctions::StateMachine")["DefinitionString"]["Fn::Join"][1]
    tokens = [p for p in parts if not isinstance(p, str)]
    assert {"Ref": _logical(synth, "StorageTransientBucket")} in tokens


def test_the_worker_is_invoked_directly_with_backoff_on_throttling(synth):
    task = next(iter(_map_state(synth)["ItemProcessor"]["States"].values()))
    assert task["Resource"] == "arn:aws:states:::lambda:invoke"
    assert task["Parameters"]["Payload.$"] == "$"
    retry = task["Retry"][0]
    assert "Lambda.TooManyRequestsException" in retry["ErrorEquals"]
    assert retry["BackoffRate"] > 1 and retry["MaxAttempts"] >= 3
    assert "States.ALL" not in retry["ErrorEquals"]  # a batch that ran is never re-run
    # And only counts leave the worker (object keys go to the job's own report)
    assert set(task["ResultSelector"]) == {"batch_id.$", "done.$", "skipped.$", "failed.$"}


def test_the_worker_is_the_inference_image_in_the_isolated_subnets(synth):
    functions = synth.resources("AWS::Lambda::Function")
    worker = next(v["Properties"] for k, v in functions.items() if k.startswith("BatchWorker"))
    api = next(v["Properties"] for k, v in functions.items() if k.startswith("InferenceFunction"))
    assert worker["ImageConfig"]["Command"] == ["batch_items.handler"]
    assert worker["Code"] == api["Code"]  # one image asset: the same engine
    assert worker["VpcConfig"] == api["VpcConfig"]
    assert worker["Timeout"] > 29


def test_logs_are_kms_encrypted_and_keep_no_execution_data(synth):
    config = synth.one("AWS::StepFunctions::StateMachine")["LoggingConfiguration"]
    assert config["IncludeExecutionData"] is False and config["Level"] == "ALL"
    log_group = config["Destinations"][0]["CloudWatchLogsLogGroup"]["LogGroupArn"]["Fn::GetAtt"]
    assert "KmsKeyId" in synth.raw["Resources"][log_group[0]]["Properties"]


def test_sources_are_only_listed_and_read_and_only_allow_listed_buckets_appear(synth):
    worker = statements(synth, "BatchWorkerBaseRole")
    job = statements(synth, "BatchJobRole")
    machine = statements(synth, "BatchStateMachineRole")
    api = statements(synth, "InferenceBaseRole")
    # the worker reaches the allow-listed buckets only as the batch-job role, per job
    assert _buckets_in(worker, "s3:") == set()
    assert _buckets_in(job, "s3:GetObject") == {SOURCE, DESTINATION}
    assert _buckets_in(job, "s3:PutObject") == {DESTINATION}
    assert _buckets_in(job, "s3:ListBucket") == {DESTINATION}
    assert _buckets_in(worker + job + machine + api, "s3:Delete") == set()
    assert _buckets_in(machine, "s3:ListBucket") == {SOURCE}
    assert _buckets_in(api, "s3:ListBucket") == {SOURCE}
    for statement in worker + job + machine + api:
        for resource in _resources(statement):
            assert ":s3:::*" not in json.dumps(resource)


def _only_assumed_by(synth, role_prefix: str, principal_role: str, function_prefix: str,
                     variable: str) -> str:
    """The role's one trust statement names one role of ours, which alone may assume it,
    and only that role's function is told its ARN; its logical id."""
    (lid,) = [k for k in synth.resources("AWS::IAM::Role") if k.startswith(role_prefix)]
    trust = synth.resources("AWS::IAM::Role")[lid]["Properties"]["AssumeRolePolicyDocument"]
    (statement,) = trust["Statement"]
    assert statement["Action"] == "sts:AssumeRole"
    assert json.dumps(statement["Principal"]).count(principal_role) == 1
    assert "Service" not in statement["Principal"]
    for role in synth.resources("AWS::IAM::Role"):
        assumes = [s for s in statements(synth, role) if "sts:AssumeRole" in _actions(s)
                   and {"Fn::GetAtt": [lid, "Arn"]} in _resources(s)]
        assert bool(assumes) == role.startswith(principal_role), role
    for function_lid, function in synth.resources("AWS::Lambda::Function").items():
        value = function["Properties"].get("Environment", {}).get("Variables", {}).get(
            variable, "")
        # the other functions get the variable empty: they never assume it
        assert value == ({"Fn::GetAtt": [lid, "Arn"]}
                         if function_lid.startswith(function_prefix) else ""), function_lid
    return lid


def test_only_the_worker_may_assume_the_batch_job_role_and_it_knows_which(synth):
    _only_assumed_by(synth, "BatchJobRole", "BatchWorkerBaseRole", "BatchWorker",
                     "CUTOUT_BATCH_JOB_ROLE_ARN")
    job = statements(synth, "BatchJobRole")
    assert sorted(a for s in job for a in _actions(s) if a.startswith("kms:")) == [
        "kms:GenerateDataKey"]


def test_only_the_api_function_may_assume_the_image_url_role_which_only_reads_sources(synth):
    # image_url reads (cutout.data.object_access): a session per read, its policy naming the
    # one object; the role itself may only GetObject in the source buckets
    _only_assumed_by(synth, "BatchImageUrlRole", "InferenceBaseRole", "Inference",
                     "CUTOUT_IMAGE_URL_ROLE_ARN")
    role = statements(synth, "BatchImageUrlRole")
    assert sorted({a for s in role for a in _actions(s)}) == ["s3:GetObject"]
    assert _buckets_in(role, "s3:GetObject") == {SOURCE}
    for statement in role:
        assert statement["Effect"] == "Allow" and "Condition" not in statement


def test_the_api_function_may_start_and_read_only_this_state_machine(synth):
    api = statements(synth, "InferenceBaseRole")
    states = [s for s in api if "states:" in json.dumps(s["Action"])]
    assert states, "the API function cannot start jobs"
    for statement in states:
        assert "cutout-batches" in json.dumps(statement["Resource"])


def test_the_worker_may_only_add_to_a_jobs_counters_and_the_accounts_usage(synth):
    updates = [s for s in statements(synth, "BatchWorkerBaseRole")
               if s["Action"] == "dynamodb:UpdateItem"]
    assert len(updates) == 1
    attributes = updates[0]["Condition"]["ForAllValues:StringEquals"]["dynamodb:Attributes"]
    # batch images are usage: the RemovalService the worker runs adds requests and pixels
    assert set(attributes) == {"pk", "sk", "done", "skipped", "failed", "requests", "pixels"}


def test_with_batches_the_image_function_writes_only_job_items_and_counters(synth):
    """Issue 23, item 6: no unconditioned table write (it could set an opt-in or a key)."""
    writes = [s for s in statements(synth, "InferenceBaseRole")
              if {"dynamodb:PutItem", "dynamodb:UpdateItem"} & set(_actions(s))]
    assert len(writes) == 2
    for statement in writes:
        conditions = statement["Condition"]
        assert conditions["ForAllValues:StringLike"]["dynamodb:LeadingKeys"] == ["ACCOUNT#*"]
        attributes = set(conditions["ForAllValues:StringEquals"]["dynamodb:Attributes"])
        assert attributes <= {"pk", "sk", *BatchRecord.__dataclass_fields__, "requests",
                              "pixels"}
        assert not attributes & {"training_opt_in", "key_hash", "revoked_at", "scope"}


def test_the_s3_endpoint_admits_the_allow_listed_buckets(synth):
    policies = [v["Properties"].get("PolicyDocument") for v in
                synth.resources("AWS::EC2::VPCEndpoint").values()]
    text = json.dumps(policies)
    assert f":s3:::{SOURCE}/*" in text and f":s3:::{DESTINATION}/*" in text


def test_without_allow_listed_buckets_there_is_no_batch_machinery():
    plain = synthesize()
    assert plain.resources("AWS::StepFunctions::StateMachine") == {}
    worker = [k for k in plain.resources("AWS::Lambda::Function") if k.startswith("Batch")]
    assert worker == []
    assert not any(s for s in statements(plain, "InferenceBaseRole")
                   if "states:" in json.dumps(s["Action"]))


@pytest.mark.parametrize(("context", "named"), [
    ({"batch_source_buckets": [SOURCE]}, "batch_destination_buckets"),
    ({"batch_source_buckets": [SOURCE], "batch_destination_buckets": [DESTINATION]},
     "interface_endpoints"),
    ({"batch_source_buckets": ["Not_A_Bucket"], "batch_destination_buckets": [DESTINATION],
      "interface_endpoints": ["states", "sts"]}, "batch_source_buckets"),
    ({"batch_size": 500}, "batch_size"),
])
def test_a_bad_batch_setting_names_itself(context, named):
    with pytest.raises(SettingsError, match=named):
        DeploymentSettings.from_context({f"cutout:{k}": v for k, v in context.items()}.get)


def test_the_runtime_allow_list_reads_what_the_stack_sets(synth):
    functions = synth.resources("AWS::Lambda::Function")
    worker = next(v["Properties"] for k, v in functions.items() if k.startswith("BatchWorker"))
    variables = worker["Environment"]["Variables"]
    allow = AllowList.from_settings(type("S", (), {
        "batch_source_buckets": variables["CUTOUT_BATCH_SOURCE_BUCKETS"],
        "batch_destination_buckets": variables["CUTOUT_BATCH_DESTINATION_BUCKETS"]}))
    assert allow == AllowList(frozenset({SOURCE}), frozenset({DESTINATION}))
    assert "cutout-batches" in json.dumps(variables["CUTOUT_BATCH_STATE_MACHINE_ARN"])


def _logical(synth, prefix: str) -> str:
    return next(k for k in synth.raw["Resources"] if k.startswith(prefix))


def test_both_routes_reach_the_api_function_behind_the_authorizer(synth):
    resources = synth.raw["Resources"]
    batches = [k for k, v in synth.resources("AWS::ApiGateway::Resource").items()
               if v["Properties"]["PathPart"] in ("batches", "{batch_id}")]
    methods = [v["Properties"] for v in synth.resources("AWS::ApiGateway::Method").values()
               if v["Properties"]["ResourceId"].get("Ref") in batches]
    assert sorted(m["HttpMethod"] for m in methods) == ["GET", "POST"]
    inference = next(k for k in resources if k.startswith("InferenceFunction")
                     and resources[k]["Type"] == "AWS::Lambda::Function")
    for method in methods:
        assert method["AuthorizationType"] == "CUSTOM" and method["ApiKeyRequired"] is True
        assert inference in json.dumps(method["Integration"]["Uri"])


@pytest.mark.parametrize("role", ["batch_source_buckets", "batch_destination_buckets"])
def test_synthesis_refuses_allow_listing_the_stacks_own_buckets(role):
    # Given the transient bucket's name as CloudFormation makes it (stack "cutout")
    own = "cutout-storagetransientbucket0a1b2c3d-4e5f6a7b8c9d"
    context = {"batch_source_buckets": [SOURCE], "batch_destination_buckets": [DESTINATION],
               "interface_endpoints": ["states", "sts"], role: [own]}
    # When / Then the stack is not built, and the message names the bucket
    with pytest.raises(SettingsError, match=own):
        synthesize(**context)
