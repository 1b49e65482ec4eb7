"""A Lambda Runtime API on loopback, as AWS documents it, for a real runtime client to poll.

Lambda's runtime interface client (`awslambdaric`) asks `GET /2018-06-01/runtime/invocation/next`
for an event, then posts the handler's answer to `.../invocation/{id}/response` or its failure to
`.../invocation/{id}/error`; a handler that cannot even be loaded is reported to
`/2018-06-01/runtime/init/error` and the process exits. This server speaks exactly that, with the
headers the client reads (request id, deadline, function ARN, trace id), so a function started
under the client is driven the way Lambda drives it: one event at a time, answers as JSON.

https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html
"""

from __future__ import annotations

import json
import queue
import threading
import time
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

PREFIX = "/2018-06-01/runtime"
FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:cutout-test"
DEADLINE_MS = 60_000  # what the deadline header grants each invocation


@dataclass
class Outcome:
    """What the runtime posted back for one invocation (or for its init)."""

    kind: str  # "response", "error" or "init-error"
    body: Any
    error_type: str | None = None


class RuntimeApi:
    """The emulator: `invoke(event)` hands one event to the polling client and waits its answer."""

    def __init__(self) -> None:
        self._events: queue.Queue[tuple[str, bytes]] = queue.Queue()
        self._answers: dict[str, queue.Queue[Outcome]] = {}
        self.init_error: queue.Queue[Outcome] = queue.Queue()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True,
                                        name="runtime-api")

    @property
    def address(self) -> str:
        """host:port, as AWS_LAMBDA_RUNTIME_API carries it."""
        host, port = self._server.server_address[:2]
        return f"{host}:{port}"

    def start(self) -> RuntimeApi:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def invoke(self, event: Any, timeout: float = 120) -> Outcome:
        """Queue `event` (JSON) for the next poll and wait for the runtime's answer."""
        request_id = str(uuid.uuid4())
        answer: queue.Queue[Outcome] = queue.Queue()
        self._answers[request_id] = answer
        self._events.put((request_id, json.dumps(event).encode()))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                return answer.get(timeout=0.2)
            except queue.Empty:
                if not self.init_error.empty():
                    return self.init_error.get()
        raise TimeoutError(f"the runtime did not answer within {timeout} s")

    def _answer(self, request_id: str, outcome: Outcome) -> bool:
        waiting = self._answers.pop(request_id, None)
        if waiting is None:
            return False
        waiting.put(outcome)
        return True

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_args: Any) -> None:  # quiet: the test reads outcomes
                pass

            def _reply(self, status: int, body: bytes = b"{}", headers: dict | None = None):
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                if self.path != f"{PREFIX}/invocation/next":
                    self._reply(404, b'{"errorType": "InvalidRequest"}')
                    return
                request_id, body = api._events.get()  # long poll, as Lambda's API does
                deadline = int(time.time() * 1000) + DEADLINE_MS
                self._reply(200, body, {
                    "Lambda-Runtime-Aws-Request-Id": request_id,
                    "Lambda-Runtime-Deadline-Ms": str(deadline),
                    "Lambda-Runtime-Invoked-Function-Arn": FUNCTION_ARN,
                    "Lambda-Runtime-Trace-Id":
                        f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]};Sampled=0",
                })

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                body = json.loads(raw) if raw else None
                error_type = self.headers.get("Lambda-Runtime-Function-Error-Type")
                parts = self.path.removeprefix(PREFIX).strip("/").split("/")
                if parts == ["init", "error"]:
                    api.init_error.put(Outcome("init-error", body, error_type))
                    self._reply(202, b'{"status": "OK"}')
                elif len(parts) == 3 and parts[0] == "invocation" and parts[2] in (
                        "response", "error"):
                    known = api._answer(parts[1], Outcome(parts[2], body, error_type))
                    self._reply(202 if known else 400, b'{"status": "OK"}')
                else:
                    self._reply(404, b'{"errorType": "InvalidRequest"}')

        return Handler
