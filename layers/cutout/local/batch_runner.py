"""The Distributed Map on one machine: list the prefix, batch the items, run the item
processor on a thread pool, keep the tolerated-failure rule.

Local only (the local stack's `batch_state_machine_arn` is "local"). The processor gets
exactly the payload Step Functions sends (`Items` as the S3 ItemReader lists them, and the
job's `BatchInput`), so the same code decides what is done, skipped and failed. As in AWS,
an invocation that raises fails its whole batch of items; too many of those fail the job.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from itertools import islice
from typing import Any

from cutout.clock import iso_seconds, utc_now
from cutout.data.batch_objects import BatchBuckets
from cutout.data.step_functions import RunProgress


@dataclass
class _Run:
    state: str = "RUNNING"
    listed: int = 0
    ended_at: str | None = None


class ThreadPoolRunner:
    """Runs jobs in background threads of this process; `progress` reads their state."""

    def __init__(self, invoke: Callable[[dict], Any], buckets: BatchBuckets, *,
                 concurrency: int, batch_size: int, tolerated_failure_percent: int) -> None:
        self._invoke = invoke
        self._buckets = buckets
        # One worker per CPU at most: each image already uses the engine's own threads.
        self._workers = max(1, min(concurrency, os.cpu_count() or 1))
        self._batch_size = batch_size
        self._tolerated = tolerated_failure_percent
        self._runs: dict[str, _Run] = {}
        self._lock = threading.Lock()

    def execution_for(self, name: str) -> str:
        return f"local:{name}"

    def start(self, name: str, execution_input: dict[str, Any]) -> str:
        execution = self.execution_for(name)
        with self._lock:
            self._runs[execution] = _Run()
        threading.Thread(target=self._run, args=(execution, execution_input),
                         name=f"batch-{name}", daemon=True).start()
        return execution

    def progress(self, execution: str) -> RunProgress:
        with self._lock:
            run = self._runs.get(execution)
            if run is None:  # the local stack was restarted: its jobs went with it
                return RunProgress(state="ABORTED", ended_at=iso_seconds(utc_now()))
            return RunProgress(state=run.state, listed=run.listed, ended_at=run.ended_at)

    def _run(self, execution: str, execution_input: dict[str, Any]) -> None:
        source, batch_input = execution_input["source"], execution_input["batch_input"]
        failed_batches = total_batches = 0
        try:
            items = self._counted(execution, self._buckets.list_items(source["bucket"],
                                                                      source["prefix"]))
            with ThreadPoolExecutor(self._workers, thread_name_prefix="batch-item") as pool:
                futures = [pool.submit(self._invoke, {"Items": batch, "BatchInput": batch_input})
                           for batch in _chunks(items, self._batch_size)]
                total_batches = len(futures)
                failed_batches = sum(1 for f in futures if f.exception() is not None)
            tolerated = failed_batches * 100 <= self._tolerated * max(total_batches, 1)
            state = "SUCCEEDED" if tolerated else "FAILED"
        except Exception:  # the listing failed (as the ItemReader would): the job fails
            state = "FAILED"
        with self._lock:
            self._runs[execution].state = state
            self._runs[execution].ended_at = iso_seconds(utc_now())

    def _counted(self, execution: str, items: Iterator[dict]) -> Iterator[dict]:
        for item in items:
            with self._lock:
                self._runs[execution].listed += 1
            yield item


def _chunks(items: Iterator[dict], size: int) -> Iterator[list[dict]]:
    while batch := list(islice(items, size)):
        yield batch
