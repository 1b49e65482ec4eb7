"""The local gateway behind werkzeug's threaded HTTP/1.1 server on loopback.

werkzeug reads the request (chunked bodies included); this module only adds what API
Gateway does at its door: a body over 10 MB is refused with our 413 JSON (before it is
sent when the client asks first with `Expect: 100-continue`, as curl does for large
uploads), and every refusal the HTTP layer itself makes (a malformed chunk, a request
line or headers too long) is JSON in the same shape, never an HTML page. The access log
names method, path (no query) and status: never headers, keys or bodies.
"""

from __future__ import annotations

import socket
import sys
import time
import uuid
from collections.abc import Iterable
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from cutout.limits import API_GATEWAY_PAYLOAD_BYTES
from cutout.local import gateway_responses as responses
from cutout.local.gateway import GatewayAnswer, LocalGateway, refused
from cutout.local.gateway_responses import GatewayRefusal
from cutout.numbers import parse_count

# Past this we stop draining an oversized body and close the connection instead.
_DRAIN_LIMIT = 64 * 1024 * 1024
_CHUNK = 1024 * 1024


class GatewayApp:
    """A WSGI application: one HTTP request in, the gateway's answer out."""

    def __init__(self, quiet: bool = False) -> None:
        self.gateway: LocalGateway | None = None  # set before serving
        self.quiet = quiet

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        started = time.monotonic()
        method = environ["REQUEST_METHOD"]
        try:
            body = _read_body(environ)
        except GatewayRefusal as refusal:
            answer = refused(refusal, str(uuid.uuid4()))
        else:
            assert self.gateway is not None  # set before serve_forever()
            target = environ.get("RAW_URI") or environ.get("PATH_INFO", "/")
            answer = self.gateway.handle(method, target, _headers(environ), body,
                                         environ.get("REMOTE_ADDR", "127.0.0.1"))
        if not self.quiet:
            elapsed = int((time.monotonic() - started) * 1000)
            path = environ.get("PATH_INFO", "/")
            print(f"{method} {path} -> {answer.status} ({elapsed} ms)", file=sys.stderr)
        headers = [(name, value) for name, value in answer.headers
                   if name.lower() not in ("content-length", "connection", "transfer-encoding")]
        headers.append(("Content-Length", str(len(answer.body))))
        start_response(f"{answer.status} {_reason(answer.status)}", headers)
        return [] if method == "HEAD" else [answer.body]


def _read_body(environ: dict[str, Any]) -> bytes | None:
    """The body, bounded as API Gateway bounds it; oversized ones are drained, then refused."""
    stream = environ["wsgi.input"]
    length = environ.get("CONTENT_LENGTH")
    declared = parse_count(length)
    chunked = environ.get("wsgi.input_terminated", False)
    if declared is None and not chunked:
        return None
    parts: list[bytes] = []
    total = 0
    remaining = declared if declared is not None else _DRAIN_LIMIT
    try:
        while remaining > 0:
            part = stream.read(min(_CHUNK, remaining))
            if not part:
                break
            total += len(part)
            remaining -= len(part)
            if total <= API_GATEWAY_PAYLOAD_BYTES:
                parts.append(part)
            elif total > _DRAIN_LIMIT:
                break
    except (OSError, ValueError):  # werkzeug's dechunker: a chunk-size line that is not hex
        raise responses.http_refusal(400, "The chunked request body is malformed.") from None
    if total > API_GATEWAY_PAYLOAD_BYTES:
        raise responses.request_too_large()
    return b"".join(parts) or None


def _headers(environ: dict[str, Any]) -> list[tuple[str, str]]:
    """The request headers as sent (werkzeug's WSGI environ keeps them as HTTP_*)."""
    pairs = []
    for name, value in environ.items():
        if name.startswith("HTTP_"):
            pairs.append((name[5:].replace("_", "-").title(), value))
    if environ.get("CONTENT_TYPE"):
        pairs.append(("Content-Type", environ["CONTENT_TYPE"]))
    if environ.get("CONTENT_LENGTH"):
        pairs.append(("Content-Length", environ["CONTENT_LENGTH"]))
    return pairs


def _reason(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


class _RequestHandler(WSGIRequestHandler):
    """werkzeug's handler, with API Gateway's door rules and JSON for its own refusals."""

    server_version = "cutout-local"

    def run_wsgi(self) -> None:
        # werkzeug always answers `Expect: 100-continue` with 100; a body over the gateway's
        # limit is refused instead, so the client never sends it.
        expects = self.headers.get("Expect", "").lower().strip() == "100-continue"
        length = parse_count(self.headers.get("Content-Length"))
        if expects and length is not None and length > API_GATEWAY_PAYLOAD_BYTES:
            self.close_connection = True
            self._send_answer(refused(responses.request_too_large(), str(uuid.uuid4())))
            return
        super().run_wsgi()

    def send_error(self, code: int, message: str | None = None,
                   explain: str | None = None) -> None:
        """http.server's refusals (bad request line, headers too long...) as our JSON."""
        self.close_connection = True
        refusal = responses.http_refusal(code, message or _reason(code))
        self._send_answer(refused(refusal, str(uuid.uuid4())))

    def _send_answer(self, answer: GatewayAnswer) -> None:
        self.send_response(answer.status)
        for name, value in answer.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(answer.body)))
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(answer.body)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None  # GatewayApp logs its own line; the default one would include the query

    def log_error(self, format: str, *args: object) -> None:
        if not getattr(self.server, "quiet", False):
            sys.stderr.write(f"gateway: {format % args}\n")


def gateway_server(host: str, port: int, app: GatewayApp) -> BaseWSGIServer:
    """A threaded werkzeug server on `host:port` (0: any free port).

    The socket is bound here, so a busy port raises `OSError` to the caller (werkzeug's own
    bind prints and exits) and no reverse DNS lookup of the host can stall the start.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((host, port))
        listener.listen(128)
    except OSError:
        listener.close()
        raise
    bound_port = listener.getsockname()[1]
    server = make_server(host, bound_port, app, threaded=True, request_handler=_RequestHandler,
                         fd=listener.fileno())
    listener.close()  # werkzeug's server holds its own duplicate of the descriptor
    server.quiet = app.quiet  # type: ignore[attr-defined]
    return server
