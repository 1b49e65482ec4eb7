"""Least privilege, proven call by call: every AWS call a function made while the tests ran is
allowed by that function's own synthesized policies (its role, the bucket policy, the KMS key
policy, the gateway endpoint policy), and every action a role grants is used or has a reason.

The recording is session-wide (aws_call_recorder, installed by this folder's conftest.py);
this module runs last (conftest.py moves it there), and drives every function once itself,
so it also holds when run alone. moto enforces no IAM: this is where a grant that AWS would
refuse shows up.
"""

from __future__ import annotations

import copy
import json
import os
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
from aws_call_recorder import RECORDER, Request
from batch_support import (
    DESTINATION_BUCKET,
    OUTSIDE_BUCKET,
    SOURCE_BUCKET,
    batch_handler,
    batch_settings,
    image,
    put,
    start,
    wait,
)
from integration_support import Gateway, LocalContext, load_function
from policy_check import IMAGE_URL_FUNCTION, TABLE, Policies
from served_calls import served_calls

from cutout.data import schema

ROOT = Path(__file__).resolve().parents[2]
TABLE_ARN = f"arn:aws:dynamodb:us-east-1:123456789012:table/{TABLE}"

# Granted actions no test exercises, each with its reason (the reverse direction).
UNEXERCISED = {
    ("*", "ec2:*"): "Lambda's own calls: the network interfaces in the isolated subnets",
    ("*", "logs:*"): "Lambda's own calls: the function's log group",
    ("*", "xray:*"): "Lambda's own calls: tracing segments",
    ("state-machine", "states:*"): "Step Functions' own calls for the Distributed Map (its "
                                   "child executions; CDK's DistributedMapPolicy), made inside "
                                   "moto's interpreter, where no call is recorded",
    ("state-machine", "lambda:InvokeFunction"): "the Map invokes the worker (inside moto's "
                                                "interpreter, as above)",
    ("state-machine", "s3:PutObject"): "the Map's ResultWriter under batches/runs/",
    ("state-machine", "s3:GetObject"): "the Map's ResultWriter under batches/runs/",
    ("state-machine", "s3:ListMultipartUploadParts"): "the ResultWriter's multipart upload",
    ("state-machine", "s3:AbortMultipartUpload"): "the ResultWriter's multipart upload",
    ("state-machine", "kms:Decrypt"): "the ResultWriter's SSE-KMS objects",
    ("state-machine", "kms:GenerateDataKey"): "the ResultWriter's SSE-KMS objects",
    ("remove-background", "s3:DeleteObjectVersion"):
        "takes a capture back (an opt-out raced it) with every version if the training store "
        "was ever versioned; moto's buckets here are not",
    ("batch-worker", "s3:DeleteObjectVersion"): "the same capture take-back as the API's",
    ("account", "s3:DeleteObjectVersion"): "an opt-out deletes every version when versioned",
    ("remove-background", "states:DescribeMapRun"):
        "a job's listed count: read only once its map run is listed, which a short job's "
        "polls may miss",
    ("remove-background", "s3:DeleteObject"):
        "a result whose link cannot be signed is deleted (a fault path: test_faults.py)",
    ("endpoint", "s3:ListBucket"): "as each role's ListBucket (a 404 for a missing object)",
    ("endpoint", "s3:DeleteObject"): "as remove-background's (a fault path)",
    ("*", "s3:ListBucket"):
        "S3 answers a missing object 404 (not 403) only with ListBucket on its bucket: the "
        "recorder sees calls, not answers",
    ("remove-background", "s3:ListBucketVersions"):
        "lists a capture's versions to take it back when an opt-out raced it "
        "(test_training_opt_in.py, test_training_versions.py)",
    ("batch-worker", "s3:ListBucketVersions"): "the same capture take-back as the API's",
    ("sweeper", "dynamodb:UpdateItem"):
        "records an opt-out's erasure progress on the account's profile item (issue 23's "
        "erasure; its tests drive a contribution larger than one run)",
}


def _reason(function: str, action: str) -> str | None:
    return UNEXERCISED.get((function, action)) or UNEXERCISED.get(("*", action)) or UNEXERCISED.get(
        (function, action.split(":")[0] + ":*")) or UNEXERCISED.get(
        ("*", action.split(":")[0] + ":*"))


@pytest.fixture(scope="module")
def policies() -> Policies:
    """The batch-enabled stack, as the integration deployment names it (one synth)."""
    # What tests/infrastructure/conftest.py sets up: app.py importable, jsii's Node.
    for path in (ROOT, ROOT / "tests" / "infrastructure"):
        if str(path) not in sys.path:
            sys.path.append(str(path))
    node = ROOT / ".venv" / "node" / "bin" / "node"
    if "JSII_NODE" not in os.environ and node.exists():
        os.environ["JSII_NODE"] = str(node)
    from infra_synth import synthesize

    synth = synthesize(batch_source_buckets=SOURCE_BUCKET,
                       batch_destination_buckets=f"{DESTINATION_BUCKET},{SOURCE_BUCKET}",
                       interface_endpoints="states,sts")
    return Policies(synth.raw)


@pytest.fixture(scope="module")
def template(policies) -> dict:
    return {"Resources": policies.resources}


@pytest.fixture
def every_function_once(settings, stores, accounts, caller, other_caller, png_image):
    """Each function called once, so that the check holds when this module runs alone."""
    from cutout.service.keys import Authenticator
    from cutout.service.uploads import UploadService

    configured = batch_settings(settings)
    authorizer = load_function("authorizer").make_handler(Authenticator(stores.accounts))
    gateway = Gateway(authorizer, {
        # zero retention: an upload is deleted once read
        "remove_background": batch_handler(replace(configured, zero_retention=True), stores),
        "account": load_function("account").make_handler(accounts, settings=settings),
        "uploads": load_function("uploads").make_handler(
            UploadService(stores.transient, settings.upload_url_ttl_seconds))})
    json_body = {"Content-Type": "application/json"}
    gateway.request("PUT", "/v1/account/training-opt-in", key=caller.secret,
                    headers=json_body, body='{"opt_in": true}')
    removed = gateway.request("POST", "/v1/remove-background", key=caller.secret,
                              headers={"Content-Type": "image/png"}, body=png_image)
    assert removed.status == 200, removed.body
    gateway.request("GET", "/v1/account", key=caller.secret)
    for _ in range(2):  # one is used (and deleted), one left for the sweeper
        upload = gateway.request("POST", "/v1/uploads", key=caller.secret).json()
        requests.put(upload["upload_url"], data=png_image, headers=upload["headers"],
                     timeout=10)
    gateway.request("POST", "/v1/remove-background", key=caller.secret,
                    headers={"Content-Type": "application/json"},
                    body=json.dumps({"upload_id": upload["upload_id"]}))
    me = f"{caller.account_id}/"
    put(SOURCE_BUCKET, f"{me}in/a.png", image("PNG", (64, 48)))
    put(SOURCE_BUCKET, f"{me}in/broken.png", b"not an image")
    job = start(gateway, caller, f"s3://{SOURCE_BUCKET}/{me}in/",
                f"s3://{DESTINATION_BUCKET}/{me}out/")
    assert job.status == 202, job.body
    wait(gateway, caller, job.json()["batch_id"])
    # an image_url: read as a session of the batch-job role naming only that one object
    put(SOURCE_BUCKET, f"{me}url/a.png", image("PNG", (40, 30)))
    by_url = gateway.request("POST", "/v1/remove-background", key=caller.secret,
                             headers={"Content-Type": "application/json"},
                             body=json.dumps({"image_url": f"s3://{SOURCE_BUCKET}/{me}url/a.png"}))
    assert by_url.status == 200, by_url.body
    gateway.request("PUT", "/v1/account/training-opt-in", key=caller.secret,
                    headers=json_body, body='{"opt_in": false}')
    # an account that is not opted in, with training data left behind: the sweeper erases it
    put(settings.training_bucket, schema.training_object_key(other_caller.account_id, "r1", "x"),
        b"left behind")
    # a day later: the sweeper deletes what is left under uploads/, results/ and batches/
    later = load_function("sweeper").make_handler(
        settings=settings, clock=lambda: datetime.now(UTC) + timedelta(hours=25))
    later({}, LocalContext())


def _recorded() -> set[Request]:
    """This process's calls and those of the e2e tests' `cutout serve` processes."""
    return RECORDER.requests | served_calls()


def _verdicts(policies: Policies, requests=None):
    return [v for r in sorted(requests or _recorded(), key=Request.describe)
            for v in policies.evaluate(r)]


def _of_the_deployment(request: Request) -> bool:
    """A test that hands a function a table that does not exist (an error-path test) makes
    calls AWS fails whatever the policy: only the deployment's own table is judged."""
    return not request.action.startswith("dynamodb:") or request.resource.startswith(TABLE_ARN)


def test_every_recorded_call_is_allowed(policies, every_function_once):
    judged = [r for r in _recorded() if _of_the_deployment(r)]
    first = {**dict.fromkeys(served_calls(), "an e2e test's cutout serve"), **RECORDER.first_seen}
    refused = [f"{v.request.describe()}\n    (first in {first.get(v.request)})"
               f"\n    {v.why}" for v in _verdicts(policies, judged) if not v.allowed]
    assert not refused, "AWS would refuse these calls:\n" + "\n".join(refused)


def test_the_e2e_servers_calls_are_judged_when_e2e_tests_ran(request):
    # The e2e tests' `cutout serve` processes record into this session's folder: if any ran,
    # the authorizer's key read (every authorised request makes it) must be among the calls.
    if not any("tests/e2e/" in item.nodeid or item.nodeid.startswith("e2e/")
               for item in request.session.items):
        pytest.skip("no e2e test in this session: only this process's calls are judged")
    served = served_calls()
    assert any(r.function == "authorizer" and r.action == "dynamodb:GetItem" for r in served), (
        "no call recorded from the e2e tests' cutout serve in "
        f"{os.environ.get('CUTOUT_TEST_AWS_CALLS')}")


def test_every_granted_action_is_used_or_has_its_reason(policies, every_function_once):
    used = {(statement.name(), action) for v in _verdicts(policies) if v.allowed
            for statement, action in v.used}
    unused = []
    for function, role in sorted(policies.roles.items()):
        for statement in policies.role_statements[role]:
            actions = statement.body.get("Action", [])
            for action in actions if isinstance(actions, list) else [actions]:
                if (statement.name(), action) not in used and not _reason(function, action):
                    unused.append(f"{function}: {action} ({statement.name()})")
    for service, statements in sorted(policies.endpoint_policies.items()):
        for statement in statements:
            for action in statement.body["Action"]:
                if (statement.name(), action) not in used and not _reason("endpoint", action):
                    unused.append(f"{service} gateway endpoint: {action} ({statement.name()})")
    assert not unused, "granted, never used, no reason given:\n" + "\n".join(sorted(unused))


def test_batch_images_are_metered_within_the_workers_grant(policies, every_function_once):
    # The worker's RemovalService adds the account's day usage (batch images are spend)
    metering = [r for r in RECORDER.requests if r.function == "batch-worker"
                and r.action == "dynamodb:UpdateItem"
                and "requests" in r.condition_values().get("dynamodb:Attributes", [])]
    assert metering, "the batch worker never counted usage"
    # and its own role lets it (before: only done, skipped, failed; AWS refused the write)
    assert all(v.allowed for v in _verdicts(policies, metering)), [
        v.why for v in _verdicts(policies, metering)]


def _write(function: str, action: str, pk: str, sk: str, *attributes: str) -> Request:
    names = tuple(sorted({schema.PARTITION_KEY, schema.SORT_KEY, *attributes}))
    return Request(function, f"dynamodb:{action}", f"dynamodb:{action}", TABLE_ARN,
                   (("dynamodb:Attributes", names), ("dynamodb:LeadingKeys", (pk,))))


def test_a_jobs_session_cannot_reach_another_accounts_prefix(policies, every_function_once):
    # The worker reads and writes a job's items only as the batch-job role, under the job's
    # session policy (cutout.data.batch_access): IAM bounds the job to its two prefixes.
    session = [r for r in _recorded() if r.function == "batch-job"]
    reads = [r for r in session if r.action == "s3:GetObject" and SOURCE_BUCKET in r.resource]
    writes = [r for r in session if r.action == "s3:PutObject"]
    assert reads and writes and all(r.session_policy for r in session)
    assert not [r for r in RECORDER.requests if r.function == "batch-worker"
                and r.action.startswith("s3:") and SOURCE_BUCKET in r.resource]
    for request in (reads[0], writes[0]):
        bucket, key = request.resource.removeprefix("arn:aws:s3:::").split("/", 1)
        other = replace(request, resource=f"arn:aws:s3:::{bucket}/other-account/{key}")
        (verdict, *_) = policies.evaluate(other)
        assert not verdict.allowed and "the session policy" in verdict.why
        # the role alone would allow it: the session is what bounds the job
        (unbounded, *_) = policies.evaluate(replace(other, session_policy=""))
        assert unbounded.allowed, unbounded.why


def test_an_image_url_session_reads_only_the_object_it_names(policies, every_function_once):
    # The API function reads an image_url only as the image-url role, under a session policy
    # naming the one object (cutout.data.object_access): IAM bounds each read.
    session = [r for r in _recorded() if r.function == IMAGE_URL_FUNCTION]
    assert session and all(r.session_policy for r in session)
    reads = [r for r in session if "/url/" in r.resource]  # every_function_once's
    assert {r.call for r in reads} == {"s3:HeadObject", "s3:GetObject"}
    assert any(r.function == "remove-background" and r.action == "sts:AssumeRole"
               for r in _recorded())
    read = next(r for r in reads if r.call == "s3:GetObject")
    bucket, key = read.resource.removeprefix("arn:aws:s3:::").split("/", 1)
    me, _ = key.split("/", 1)
    # another object of the account, and another account's object, in the allow-listed bucket:
    # denied by the session policy (the role alone would allow them: the session bounds it)
    for other in (f"{key}.other", f"{me}/in/a.png", f"acc_someone_else/{key}"):
        elsewhere = replace(read, resource=f"arn:aws:s3:::{bucket}/{other}")
        (verdict, *_) = policies.evaluate(elsewhere)
        assert not verdict.allowed and "the session policy" in verdict.why, verdict.why
        (unbounded, *_) = policies.evaluate(replace(elsewhere, session_policy=""))
        assert unbounded.allowed, unbounded.why


def test_the_image_url_role_can_only_read_source_objects(policies):
    # Even a session with no session policy at all: no bucket off the source list (the
    # destinations, the stack's own, any other), no list, no write, no delete
    denied = [
        ("s3:GetObject", f"arn:aws:s3:::{OUTSIDE_BUCKET}/acc_1/a.png"),
        ("s3:GetObject", f"arn:aws:s3:::{DESTINATION_BUCKET}/acc_1/a.png"),
        ("s3:GetObject", "arn:aws:s3:::cutout-test-training/training/acc_1/r/input"),
        ("s3:GetObject", "arn:aws:s3:::cutout-test-transient/uploads/acc_1/x"),
        ("s3:ListBucket", f"arn:aws:s3:::{SOURCE_BUCKET}"),
        ("s3:PutObject", f"arn:aws:s3:::{SOURCE_BUCKET}/acc_1/a.png"),
        ("s3:PutObject", f"arn:aws:s3:::{DESTINATION_BUCKET}/acc_1/cutouts/a.png"),
        ("s3:DeleteObject", f"arn:aws:s3:::{SOURCE_BUCKET}/acc_1/a.png"),
    ]
    for action, resource in denied:
        (verdict, *_) = policies.evaluate(Request(IMAGE_URL_FUNCTION, action, action, resource))
        assert not verdict.allowed, (action, resource, verdict.why)
    (allowed, *_) = policies.evaluate(Request(
        IMAGE_URL_FUNCTION, "s3:GetObject", "s3:GetObject",
        f"arn:aws:s3:::{SOURCE_BUCKET}/acc_1/a.png"))
    assert allowed.allowed, allowed.why
    # and the API function's own role reads no allow-listed bucket
    (own, *_) = policies.evaluate(Request("remove-background", "s3:GetObject", "s3:GetObject",
                                          f"arn:aws:s3:::{SOURCE_BUCKET}/acc_1/a.png"))
    assert not own.allowed, own.why


def test_the_image_function_cannot_write_an_opt_in_or_a_key(policies):
    """Issue 23, item 6: with batches on, the remove-background function's table writes are
    a job's item and the usage counters, nothing else."""
    account = schema.account_pk("acc_1")
    forbidden = [
        _write("remove-background", "UpdateItem", account, "PROFILE", "training_opt_in"),
        _write("remove-background", "PutItem", schema.key_pk("0" * 64), "KEY", "account_id"),
        _write("remove-background", "PutItem", account, "PROFILE", "training_opt_in"),
    ]
    allowed = [_write("remove-background", "UpdateItem", account, "BATCH#b1", "done"),
               _write("remove-background", "UpdateItem", account, "DAY#2026-12-02",
                      "requests", "pixels")]
    assert [policies.evaluate(r)[0].allowed for r in forbidden] == [False, False, False]
    assert all(v.allowed for v in _verdicts(policies, allowed))


def test_the_check_refuses_a_call_when_its_statement_is_removed(template, every_function_once):
    # Given the worker's usage-counter statement taken out of its synthesized policy
    pruned = copy.deepcopy(template)
    role = Policies(pruned).roles["batch-worker"]
    removed = 0
    for resource in pruned["Resources"].values():
        if resource["Type"] == "AWS::IAM::Policy" and {"Ref": role} in \
                resource["Properties"]["Roles"]:
            document = resource["Properties"]["PolicyDocument"]
            kept = [s for s in document["Statement"] if "dynamodb:Attributes" not in json.dumps(s)]
            removed += len(document["Statement"]) - len(kept)
            document["Statement"] = kept
    assert removed == 1
    policies = Policies(pruned)
    # Then the worker's recorded counter writes are refused, naming the function and call
    writes = [r for r in RECORDER.requests
              if r.function == "batch-worker" and r.action == "dynamodb:UpdateItem"]
    verdicts = [policies.evaluate(r)[0] for r in writes]
    assert writes and not any(v.allowed for v in verdicts)
    assert "batch-worker: dynamodb:UpdateItem" in verdicts[0].request.describe()
    assert "dynamodb:UpdateItem" in verdicts[0].why
