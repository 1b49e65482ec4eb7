"""Records the AWS calls of the functions inside a `cutout serve` the e2e tests start.

`cutout serve` is started as a user starts it (the venv's console script); the e2e helper
puts this folder first on its PYTHONPATH, so Python imports this module at start-up, and
sets CUTOUT_TEST_AWS_CALLS to the session's folder. The same recorder as the integration
tests' (tests/integration/aws_call_recorder.py) then writes each new IAM request, as one
JSON line, to `<folder>/serve-<pid>.jsonl` as it happens: the least-privilege check
(tests/integration/test_least_privilege.py) reads them while the processes still run.
Without the variable this module does nothing.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from pathlib import Path

FOLDER = os.environ.get("CUTOUT_TEST_AWS_CALLS")


class _Journal(set):
    """The recorder's set of requests, each new one also written out as a JSON line (the
    recorder's own code stays unwrapped: a frame of tests/ in a call means a test's call)."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self._path = path

    def add(self, request) -> None:  # type: ignore[no-untyped-def]
        if request not in self:
            try:
                with self._path.open("a") as journal:
                    journal.write(json.dumps(dataclasses.asdict(request)) + "\n")
            except OSError:  # the session's folder is gone: never break the call itself
                pass
        super().add(request)


if FOLDER:
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "integration"))
    from aws_call_recorder import RECORDER  # noqa: E402

    RECORDER.requests = _Journal(Path(FOLDER) / f"serve-{os.getpid()}.jsonl")
    RECORDER.install()
