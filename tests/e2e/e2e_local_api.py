"""Start `cutout serve` as a user would (the installed console script, a subprocess) and stop it.

Readiness is polled over HTTP with a bound; the server's output goes to a file (a pipe
nobody reads would fill up and stall the server) and is attached to any failure.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import requests

READY_WITHIN_SECONDS = 180  # first start loads the ONNX model: generous, never asserted
STOP_WITHIN_SECONDS = 30


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def port_is_free(port: int) -> bool:
    """Whether `cutout serve` could listen on the port again. Like its listener, the probe sets
    SO_REUSEADDR: a connection the stopped server closed first leaves the port in TIME_WAIT
    for a minute, which a restart may reuse and which is not a socket left open."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


# tests/e2e/aws_calls/sitecustomize.py: records the AWS calls of serve's functions into the
# session's folder (named by tests/conftest.py) for tests/integration/test_least_privilege.py
AWS_CALLS_ENV = "CUTOUT_TEST_AWS_CALLS"
AWS_CALLS_HOOK = Path(__file__).resolve().parent / "aws_calls"


def cutout_console_script() -> str:
    """The `cutout` entry point installed beside this interpreter (the venv's bin/)."""
    script = Path(sys.executable).parent / "cutout"
    if not script.exists():
        raise RuntimeError(f"{script} not found: pip install -e '.[dev]' first")
    return str(script)


@dataclass
class LocalApi:
    """A running `cutout serve`: where it answers and how to reach its moto."""

    process: subprocess.Popen
    base_url: str
    api_key: str
    port: int
    moto_port: int
    log_path: Path

    @property
    def moto_endpoint(self) -> str:
        return f"http://127.0.0.1:{self.moto_port}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def terminate(self, stop_signal: int = signal.SIGTERM) -> int:
        """SIGTERM (as a service manager would) or another signal; returns the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(stop_signal)
            try:
                self.process.wait(timeout=STOP_WITHIN_SECONDS)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


def start_local_api(
    log_dir: Path,
    api_key: str,
    extra_env: dict[str, str] | None = None,
    extra_args: tuple[str, ...] = (),
) -> LocalApi:
    """`cutout serve --port P --moto-port M --api-key K`, waited for until it answers."""
    port, moto_port = free_port(), free_port()
    log_path = log_dir / f"cutout-serve-{port}.log"
    env = {**os.environ, **(extra_env or {})}
    env.pop("CUTOUT_DEMO_API_KEY", None)
    if env.get(AWS_CALLS_ENV):  # its functions' AWS calls, for the least-privilege check
        env["PYTHONPATH"] = os.pathsep.join(filter(None, (str(AWS_CALLS_HOOK),
                                                          env.get("PYTHONPATH"))))
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [cutout_console_script(), "serve", "--port", str(port),
             "--moto-port", str(moto_port), "--api-key", api_key, *extra_args],
            stdout=log, stderr=subprocess.STDOUT, env=env,
        )
    api = LocalApi(process, f"http://127.0.0.1:{port}", api_key, port, moto_port, log_path)
    deadline = time.monotonic() + READY_WITHIN_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"cutout serve exited with {process.returncode}:\n{api.log()}")
        try:
            # No key: the gateway answers 401 itself once it serves requests.
            if requests.get(f"{api.base_url}/v1/account", timeout=5).status_code == 401:
                return api
        except requests.ConnectionError:
            pass
        except requests.Timeout:
            pass
        time.sleep(0.5)
    api.terminate()
    raise RuntimeError(f"cutout serve was not ready in {READY_WITHIN_SECONDS} s:\n{api.log()}")
