"""A batch is recorded with its execution id before the execution starts, so no job can run
that its record does not name (a failure after starting can no longer orphan a job)."""

from __future__ import annotations

import json

import boto3
from integration_support import REGION

from cutout.data.step_functions import StepFunctionsRunner


def test_the_step_functions_runner_knows_an_executions_arn_before_starting_it(aws):
    # Given a state machine (moto) and the runner over it
    client = boto3.client("stepfunctions", region_name=REGION)
    iam = boto3.client("iam", region_name=REGION)
    role = iam.create_role(RoleName="sfn", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": []}))["Role"]["Arn"]
    machine = client.create_state_machine(
        name="cutout-batches", roleArn=role,
        definition=json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}))
    runner = StepFunctionsRunner(client, machine["stateMachineArn"])
    # When the runner names an execution, then starts it
    expected = runner.execution_for("0123abcd" * 4)
    started = runner.start("0123abcd" * 4, {"source": {}, "batch_input": {}})
    # Then the name it gave beforehand is the ARN Step Functions answers
    assert started == expected

