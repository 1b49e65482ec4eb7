"""Load the Lambda entry points from `functions/<name>/handler.py` and call them as Lambda does.

Each function is imported once, at start-up, like a Lambda init. Invocations are
serialised across the whole process: Lambda never runs two events at once in one execution
environment, and the code relies on it (Powertools keeps the current event as class state
shared by every resolver in a process, so two functions invoked at once in one process
would clear each other's event).
"""

from __future__ import annotations

import importlib.util
import os
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import cutout
from cutout.limits import API_GATEWAY_TIMEOUT_SECONDS

FUNCTIONS_DIR_ENV = "CUTOUT_FUNCTIONS_DIR"
DEFAULT_TIMEOUT_SECONDS = API_GATEWAY_TIMEOUT_SECONDS


def functions_dir() -> Path:
    """Where `functions/` is: `$CUTOUT_FUNCTIONS_DIR`, else beside `layers/` in the checkout."""
    configured = os.environ.get(FUNCTIONS_DIR_ENV)
    if configured:
        return Path(configured)
    # layers/cutout/__init__.py -> the repository root is two levels above the package
    return Path(cutout.__file__).resolve().parents[2] / "functions"


@dataclass
class LambdaContext:
    """The attributes of Lambda's context object that handlers and Powertools read."""

    function_name: str
    memory_limit_in_mb: int = 1024
    timeout_seconds: int = DEFAULT_TIMEOUT_SECONDS
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    log_group_name: str = ""
    log_stream_name: str = "local"
    _started: float = field(default_factory=time.monotonic)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:us-east-1:123456789012:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        elapsed = time.monotonic() - self._started
        return max(0, int((self.timeout_seconds - elapsed) * 1000))


# One execution environment's worth of concurrency for the whole process (see above).
EXECUTION_ENVIRONMENT = threading.Lock()


class LocalFunction:
    """One Lambda function: its handler module, imported once, invoked one event at a time."""

    def __init__(self, name: str, module: ModuleType, handler: str = "handler") -> None:
        self.name = name
        self._entry = getattr(module, handler)

    @classmethod
    def load(cls, name: str, directory: Path | None = None) -> LocalFunction:
        """Import `functions/<name>/handler.py` under a private module name."""
        path = (directory or functions_dir()) / name / "handler.py"
        if not path.is_file():
            raise FileNotFoundError(f"no handler for function {name!r} at {path}")
        spec = importlib.util.spec_from_file_location(f"cutout_local_function_{name}", path)
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot import {path}")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return cls(name, module)

    def invoke(self, event: dict) -> Any:
        """Run the handler on one event with a fresh context, as one Lambda invocation."""
        with EXECUTION_ENVIRONMENT:
            return self._entry(event, LambdaContext(function_name=f"cutout-{self.name}"))
