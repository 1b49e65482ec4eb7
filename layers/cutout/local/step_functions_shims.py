"""What moto's States Language interpreter (5.2) needs to run the synthesized batch definition.

moto executes state machines (`mock_aws(config={"stepfunctions": {"execute_state_machine":
True}})`): the Distributed Map, the S3 ListObjectsV2 ItemReader, Retry with JitterStrategy and
`lambda:invoke` through its own Lambda. Each shim below fills one gap of it, at the narrowest
point, and says what it costs (docs/batch.md lists what moto cannot show):

- no ItemBatcher in its grammar: `runnable_definition` turns the batcher into an ItemSelector
  that builds the same payload, `{"Items": [item], "BatchInput": <the same template>}`, so every
  batch holds one item (AWS's MaxItemsPerBatch is not exercised);
- an integer ToleratedFailurePercentage is refused (a float parses): written as a float;
- the tolerance is parsed and never applied (every failed item is tolerated):
  `tolerated_failures` fails a map run past its ToleratedFailurePercentage with
  `States.ExceedToleratedFailureThreshold`, as Step Functions does;
- ListMapRuns raises (an AttributeError, not an AWS error) while an execution has no
  interpreter environment (right after StartExecution, and once it has ended):
  `map_runs_listed` answers an empty list then, as AWS does before the Map state starts;
- its Lambda starts a container at `LambdaFunction._invoke_lambda`: `in_process_lambda` runs a
  handler of this process there instead, with the function's own configuration.

A test fails the day moto parses ItemBatcher (tests/integration/test_batch_state_machine.py),
so the first shim can go; pyproject.toml pins moto below its next minor version.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

# A handler as moto would start it: (the function's configuration, the event) -> the answer.
InProcessHandler = Callable[[dict[str, Any], Any], Any]


def runnable_definition(definition: dict[str, Any]) -> dict[str, Any]:
    """The definition with each Map state's ItemBatcher and tolerance in a form moto parses."""
    runnable = copy.deepcopy(definition)
    for state in _states(runnable):
        batcher = state.pop("ItemBatcher", None)
        if batcher is not None:
            state["ItemSelector"] = {"Items.$": "States.Array($$.Map.Item.Value)",
                                     "BatchInput": batcher.get("BatchInput", {})}
        if isinstance(state.get("ToleratedFailurePercentage"), int):
            state["ToleratedFailurePercentage"] = float(state["ToleratedFailurePercentage"])
    return runnable


def _states(definition: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for state in definition.get("States", {}).values():
        yield state
        for nested in (state.get("ItemProcessor"), state.get("Iterator"),
                       *state.get("Branches", [])):
            if nested:
                yield from _states(nested)


@contextmanager
def in_process_lambda(handlers: dict[str, InProcessHandler]) -> Iterator[None]:
    """moto's Lambda runs `handlers[function name]` in this process instead of a container.

    The handler gets the function's configuration as moto holds it (Environment, Timeout,
    MemorySize, ImageConfigResponse) and the event; what it raises becomes a function error, as the
    Lambda runtime reports one (`errorType`, `errorMessage`).
    """
    from moto.awslambda.models import LambdaFunction

    container = LambdaFunction._invoke_lambda

    def invoke(self: Any, event: Any = None) -> tuple[str, bool, str]:
        handler = handlers.get(self.function_name)
        if handler is None:
            return container(self, event)
        try:
            answer = handler(self.get_configuration(), event)
        except Exception as error:  # the runtime's answer for an unhandled error
            return json.dumps({"errorType": type(error).__name__,
                               "errorMessage": str(error)}), True, ""
        return json.dumps(answer), False, ""

    with _patched(LambdaFunction, "_invoke_lambda", invoke):
        yield


@contextmanager
def tolerated_failures() -> Iterator[None]:
    """moto's Distributed Map fails past its ToleratedFailurePercentage (and Count, when set).

    Wraps the map run (`DistributedIterationComponent._map_run`): once every item has run,
    the run's own item counts decide, as Step Functions' rule does.
    """
    from moto.stepfunctions.parser.api import ExecutionFailedEventDetails, HistoryEventType
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
        FailureEvent,
        FailureEventException,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import (
        StatesErrorName,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
        StatesErrorNameType,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration import (
        distributed_iteration_component as distributed,
    )
    from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails

    component = distributed.DistributedIterationComponent
    untolerant = component._map_run

    def map_run(self: Any, env: Any, eval_input: Any) -> None:
        untolerant(self, env, eval_input)
        record = eval_input.map_run_record
        failed, total = record.item_counter.failed.get(), record.item_counter.total.get()
        if failed <= record.tolerated_failure_count:
            return
        if failed * 100 <= record.tolerated_failure_percentage * total:
            return
        error = StatesErrorNameType.StatesExceedToleratedFailureThreshold
        raise FailureEventException(failure_event=FailureEvent(
            env=env, error_name=StatesErrorName(typ=error),
            event_type=HistoryEventType.ExecutionFailed,
            # moto's own EventDetails are built with one key, as here (its TypedDict is total)
            event_details=EventDetails(  # type: ignore[typeddict-item]
                executionFailedEventDetails=ExecutionFailedEventDetails(
                    error=error.to_name(),
                    cause="The specified tolerated failure threshold was exceeded")),
        ))

    with _patched(component, "_map_run", map_run):
        yield


@contextmanager
def map_runs_listed() -> Iterator[None]:
    """moto's ListMapRuns answers `{"mapRuns": []}` for an execution without an environment."""
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    listing = StepFunctionsParserBackend.list_map_runs

    def list_map_runs(self: Any, execution_arn: str) -> dict[str, Any]:
        worker = getattr(self.describe_execution(execution_arn=execution_arn), "exec_worker",
                         None)
        if worker is None or worker.env is None:
            return {"mapRuns": []}
        return listing(self, execution_arn)

    with _patched(StepFunctionsParserBackend, "list_map_runs", list_map_runs):
        yield


@contextmanager
def _patched(owner: type, name: str, replacement: Callable[..., Any]) -> Iterator[None]:
    """`owner.name` is `replacement` inside the block, and moto's own again after it."""
    original = getattr(owner, name)
    setattr(owner, name, replacement)
    try:
        yield
    finally:
        setattr(owner, name, original)
