"""Step Functions for batch jobs: start the Distributed Map's execution, read how it is doing.

The execution is named after the batch id (unique per state machine for 90 days, so a
retried start cannot run a job twice). `listed` comes from the map run's item counts:
the ItemReader is the one that lists the source prefix.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from cutout.clock import iso_seconds


@dataclass(frozen=True)
class RunProgress:
    """Where an execution is: Step Functions' status and what its map run listed so far."""

    state: str  # RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED
    listed: int | None = None
    ended_at: str | None = None


class StepFunctionsRunner:
    """Runs batch jobs on the deployment's state machine."""

    def __init__(self, client: Any, state_machine_arn: str) -> None:
        self._client = client
        self._state_machine_arn = state_machine_arn

    def execution_for(self, name: str) -> str:
        """An execution's ARN is its state machine's, with `execution` and its name."""
        prefix, _, machine = self._state_machine_arn.rpartition(":stateMachine:")
        return f"{prefix}:execution:{machine}:{name}"

    def start(self, name: str, execution_input: dict[str, Any]) -> str:
        """Start one execution; returns its ARN."""
        response = self._client.start_execution(
            stateMachineArn=self._state_machine_arn, name=name,
            input=json.dumps(execution_input, separators=(",", ":")))
        return str(response["executionArn"])

    def progress(self, execution: str) -> RunProgress:
        described = self._client.describe_execution(executionArn=execution)
        ended = described.get("stopDate")
        return RunProgress(state=str(described["status"]), listed=self._listed(execution),
                           ended_at=iso_seconds(ended) if isinstance(ended, datetime) else None)

    def _listed(self, execution: str) -> int | None:
        try:
            runs = self._client.list_map_runs(executionArn=execution).get("mapRuns", [])
            if not runs:
                return None
            run = self._client.describe_map_run(mapRunArn=runs[0]["mapRunArn"])
        except ClientError:
            return None  # the counts are informative; the job's own counters are the record
        return int(run.get("itemCounts", {}).get("total", 0))
