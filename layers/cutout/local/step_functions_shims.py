"""What moto's States Language interpreter (5.2) needs to run the synthesized batch definition.

moto executes state machines (`mock_aws(config={"stepfunctions": {"execute_state_machine":
True}})`): the Distributed Map, the S3 ListObjectsV2 ItemReader, Retry with JitterStrategy and
`lambda:invoke` through its own Lambda. Each shim below fills one gap of it, at the narrowest
point, and says what it costs (docs/batch.md lists what moto cannot show):

- no ItemBatcher in its grammar: `runnable_definition` turns the batcher into an ItemSelector
  that builds the same payload, `{"Items": [item], "BatchInput": <the same template>}`, so every
  batch holds one item (AWS's MaxItemsPerBatch is not exercised);
- an integer ToleratedFailurePercentage is refused (a float parses): written as a float;
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

    LambdaFunction._invoke_lambda = invoke  # type: ignore[method-assign]
    try:
        yield
    finally:
        LambdaFunction._invoke_lambda = container  # type: ignore[method-assign]
