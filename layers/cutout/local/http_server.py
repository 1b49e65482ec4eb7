"""The local gateway behind a real HTTP/1.1 server on loopback (stdlib, one thread a connection).

Bodies over API Gateway's 10 MB limit are refused before they are read when the client
asks first (`Expect: 100-continue`, which curl sends for large uploads) and otherwise
drained and refused, so clients get our 413 JSON rather than a reset connection. The
access log names method, path (no query) and status: never headers, keys or bodies.
"""

from __future__ import annotations

import socket
import socketserver
import sys
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote

from cutout.api.removebg import REMOVEBG_PATH
from cutout.local import gateway_responses as responses
from cutout.local.gateway import API_GATEWAY_PAYLOAD_LIMIT, GatewayAnswer, LocalGateway, refused
from cutout.local.gateway_responses import GatewayRefusal

# Past this we stop draining an oversized body and close the connection instead.
_DRAIN_LIMIT = 64 * 1024 * 1024
_CHUNK = 1024 * 1024


class _TooLarge(Exception):
    pass


class _BadLength(Exception):
    pass


class GatewayHTTPServer(ThreadingHTTPServer):
    """A threaded HTTP server whose every request goes through one `LocalGateway`."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self, address: tuple[str, int], gateway: LocalGateway | None, quiet: bool = False
    ) -> None:
        # The gateway may be set after binding: requests wait in the backlog until
        # serve_forever() runs, which happens only once it is set.
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, _GatewayRequestHandler)
        self.gateway = gateway
        self.quiet = quiet

    def server_bind(self) -> None:
        # HTTPServer's version resolves the host name (getfqdn), which can stall for seconds
        # on machines with slow reverse DNS; a loopback server has no use for it.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)


class _GatewayRequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "cutout-local"
    server: GatewayHTTPServer

    def handle_expect_100(self) -> bool:
        try:
            declared = self._declared_length()
        except _BadLength:
            declared = 0  # answered 400 once the request is served
        if declared > API_GATEWAY_PAYLOAD_LIMIT:
            self.close_connection = True
            self._send(self._too_large())
            return False
        return super().handle_expect_100()

    def _serve(self) -> None:
        started = time.monotonic()
        try:
            body = self._read_body()
        except _TooLarge:
            self.close_connection = True
            answer = self._too_large()
        except _BadLength:
            self.close_connection = True
            answer = self._refused(GatewayRefusal(400, "invalid_request", "Bad Content-Length"))
        else:
            peer = self.client_address[0]
            assert self.server.gateway is not None  # set before serve_forever()
            answer = self.server.gateway.handle(
                self.command, self.path, list(self.headers.items()), body, peer
            )
        self._send(answer)
        if not self.server.quiet:
            elapsed = int((time.monotonic() - started) * 1000)
            path = self.path.split("?", 1)[0]
            print(f"{self.command} {path} -> {answer.status} ({elapsed} ms)", file=sys.stderr)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_HEAD = _serve

    def _declared_length(self) -> int:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            raise _BadLength from None
        if length < 0:
            raise _BadLength
        return length

    def _read_body(self) -> bytes | None:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            return self._read_chunked()
        length = self._declared_length()
        if length > API_GATEWAY_PAYLOAD_LIMIT:
            if length <= _DRAIN_LIMIT:
                self._discard(length)
            raise _TooLarge
        return self.rfile.read(length) if length else None

    def _read_chunked(self) -> bytes | None:
        parts: list[bytes] = []
        total = 0
        while True:
            try:
                size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
            except ValueError:
                raise _BadLength from None  # not a chunk-size line: answer 400, not a reset
            if size < 0:
                raise _BadLength
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                break
            total += size
            if total > API_GATEWAY_PAYLOAD_LIMIT:
                raise _TooLarge
            parts.append(self.rfile.read(size))
            self.rfile.readline()
        return b"".join(parts) or None

    def _discard(self, length: int) -> None:
        while length > 0:
            read = self.rfile.read(min(_CHUNK, length))
            if not read:
                return
            length -= len(read)

    def _too_large(self) -> GatewayAnswer:
        return self._refused(responses.request_too_large())

    def _refused(self, refusal: GatewayRefusal) -> GatewayAnswer:
        removebg = unquote(self.path.split("?", 1)[0]) == REMOVEBG_PATH
        return refused(refusal, str(uuid.uuid4()), removebg=removebg)

    def _send(self, answer: GatewayAnswer) -> None:
        self.send_response(answer.status)
        for name, value in answer.headers:
            if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.send_header("Content-Length", str(len(answer.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(answer.body)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None  # our own line in _serve; the default one would include the query

    def log_error(self, format: str, *args: object) -> None:
        if not self.server.quiet:
            sys.stderr.write(f"gateway: {format % args}\n")
