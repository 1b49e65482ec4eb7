"""The deployment's batch state machine and worker, created in moto and run by its interpreter.

`cutout serve` (and the integration tests) run catalogue jobs as AWS does: the definition the
synthesized template carries (committed as `batch_state_machine.json`, rendered and kept equal
to the synth by `infrastructure/local_batch_definition.py`), executed by moto's States
Language interpreter, its Distributed Map listing the source prefix and invoking the worker
function in moto's Lambda. That function runs in this process at moto's container seam: its
image's CMD (`batch_items.handler`) on the payload the Map produces, configured from the
function's own environment. The gaps of moto's interpreter are filled by
`cutout.local.step_functions_shims` (docs/batch.md lists what stays unshown).
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from cutout.local.functions import EXECUTION_ENVIRONMENT, LambdaContext, functions_dir
from cutout.local.step_functions_shims import (
    in_process_lambda,
    map_runs_listed,
    runnable_definition,
    tolerated_failures,
)
from cutout.settings import Settings

MACHINE_FILE = Path(__file__).with_name("batch_state_machine.json")
WORKER_FUNCTION = "cutout-batch-worker"
# The inference image the worker shares with the API's container function (functions/<this>/)
WORKER_IMAGE_FUNCTION = "remove_background"
# moto's switch for its States Language interpreter (mock_aws's config, or its server's
# POST /moto-api/config); without it executions are recorded and never run.
INTERPRETER_CONFIG = {"stepfunctions": {"execute_state_machine": True}}
# The key pair moto's interpreter signs its own S3 and Lambda calls with (as the state
# machine's role calls them in AWS): moto.stepfunctions.parser.asl.utils.boto_client
INTERPRETER_CREDENTIALS = {"ak": "sk"}
_TRUST = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": ["states.amazonaws.com", "lambda.amazonaws.com"]},
    "Action": "sts:AssumeRole"}]}

Client = Callable[[str], Any]  # a boto3 client for the named service, pointed at moto


def committed_machine() -> dict[str, Any]:
    """`{"StateMachine": {"StateMachineName", "Definition"}, "Worker": {...}}` as rendered."""
    machine: dict[str, Any] = json.loads(MACHINE_FILE.read_text())
    return machine


def definition_for(worker_arn: str, transient_bucket: str) -> dict[str, Any]:
    """The committed definition with its placeholders filled in (as CloudFormation would)."""
    text = json.dumps(committed_machine()["StateMachine"]["Definition"])
    text = text.replace("${BatchWorkerArn}", worker_arn)
    definition: dict[str, Any] = json.loads(text.replace("${TransientBucket}", transient_bucket))
    return definition


def create_batch_machine(client: Client, *, transient_bucket: str,
                         environment: Mapping[str, str]) -> str:
    """Create the worker function and the state machine in moto; the state machine's ARN.

    The worker is configured as the template configures it (ImageConfig, Timeout,
    MemorySize), with `environment` as its variables; the API is then configured with the
    returned ARN, as the stack configures it with its own.
    """
    machine = committed_machine()
    account = client("sts").get_caller_identity()["Account"]
    region = client("sts").meta.region_name
    role = client("iam").create_role(RoleName="cutout-batches",
                                     AssumeRolePolicyDocument=json.dumps(_TRUST))["Role"]["Arn"]
    function = client("lambda").create_function(
        FunctionName=WORKER_FUNCTION, Role=role, PackageType="Image",
        Code={"ImageUri": f"{account}.dkr.ecr.{region}.amazonaws.com/cutout:local"},
        Environment={"Variables": dict(environment)}, **machine["Worker"])
    definition = definition_for(function["FunctionArn"], transient_bucket)
    arn: str = client("stepfunctions").create_state_machine(
        name=machine["StateMachine"]["StateMachineName"], roleArn=role,
        definition=json.dumps(runnable_definition(definition)))["stateMachineArn"]
    return arn


class InProcessWorker:
    """The worker's image CMD, run in this process on the Map's payload.

    One handler per configuration (a Lambda execution environment, built at its first
    invocation from the function's own environment), invoked one event at a time with the
    other local functions (`cutout.local.functions`: Lambda runs one event per environment,
    and Powertools keeps the current event as process state).
    """

    def __init__(self, directory: Path | None = None) -> None:
        self._directory = directory
        self._handlers: dict[str, Callable[[dict, Any], Any]] = {}

    def __call__(self, configuration: dict[str, Any], event: Any) -> Any:
        (command,) = configuration["ImageConfigResponse"]["ImageConfig"]["Command"]
        variables = configuration.get("Environment", {}).get("Variables", {})
        with EXECUTION_ENVIRONMENT:
            key = json.dumps([command, variables], sort_keys=True)
            if key not in self._handlers:
                self._handlers[key] = self._init(command, variables)
            context = LambdaContext(function_name=configuration["FunctionName"],
                                    memory_limit_in_mb=configuration["MemorySize"],
                                    timeout_seconds=configuration["Timeout"])
            return self._handlers[key](event, context)

    def _init(self, command: str, variables: Mapping[str, str]) -> Callable[[dict, Any], Any]:
        """Import the CMD's module from the image's folder and build its handler."""
        module_name, _, _handler = command.rpartition(".")
        path = (self._directory or functions_dir()) / WORKER_IMAGE_FUNCTION / f"{module_name}.py"
        spec = importlib.util.spec_from_file_location(f"cutout_local_image_{module_name}", path)
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot import the worker's CMD from {path}")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        handler: Callable[[dict, Any], Any] = module.make_handler(
            settings=Settings.from_env(variables))
        return handler


@contextmanager
def interpreted(worker: Callable[[dict[str, Any], Any], Any]) -> Iterator[None]:
    """moto's interpreter with its gaps filled, the worker function run by `worker`."""
    with in_process_lambda({WORKER_FUNCTION: worker}), tolerated_failures(), map_runs_listed():
        yield
