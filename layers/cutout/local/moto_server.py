"""moto in a thread on loopback, behind our presigned-URL check and without access logs.

Like `moto.server.ThreadedMotoServer`, which we cannot use as is for two reasons: it
writes every request line to stderr (presigned URLs carry their signature in the query,
and signed URLs must never reach a log), and it gives no place to put the check that moto
itself does not make on presigned URLs (see `presign_check`). `stop()` also closes the
listening socket, so the port is free as soon as it returns.

One moto bug is worked around here: moto tries to read a form-encoded body as an AWS query
call, and a presigned PUT sent that way (curl's default for `--data-binary`) then hangs
forever; such a PUT reaches moto as `application/octet-stream` instead.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterable
from typing import Any

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import BaseWSGIServer, make_server


class _QuietRequestHandler(MotoRequestHandler):
    """moto's request handler minus the access log (it would print signed URLs)."""

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _form_encoded_presigned_put_as_binary(app: Callable) -> Callable:
    def relabelled(environ: dict, start_response: Callable) -> Iterable[bytes]:
        presigned = "X-Amz-Signature=" in environ.get("QUERY_STRING", "")
        form = environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded")
        if presigned and form and environ.get("REQUEST_METHOD") == "PUT":
            environ["CONTENT_TYPE"] = "application/octet-stream"
        return app(environ, start_response)

    return relabelled


class LoopbackMotoServer:
    """moto's WSGI app (all services) served by threads on one loopback port."""

    def __init__(self, host: str, port: int, middleware: Any = None) -> None:
        self._host = host
        self._port = port
        self._middleware = middleware
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Bind (port 0 picks a free one) and serve in a daemon thread."""
        app: Any = _form_encoded_presigned_put_as_binary(
            DomainDispatcherApplication(create_backend_app)
        )
        if self._middleware is not None:
            app = self._middleware.wrap(app)
        # Bind the socket ourselves: werkzeug answers a busy port with sys.exit(1), and we
        # want an OSError the caller can report.
        with socket.create_server((self._host, self._port), reuse_port=False) as listener:
            self._server = make_server(
                self._host, self._port, app, threaded=True,
                request_handler=_QuietRequestHandler, fd=listener.fileno(),
            )
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="moto-server", daemon=True
        )
        self._thread.start()

    @property
    def address(self) -> tuple[str, int]:
        """The host and the port actually bound."""
        if self._server is None:
            raise RuntimeError("the moto server is not started")
        host, port = self._server.server_address[:2]
        return str(host), int(port)

    def stop(self) -> None:
        """Stop serving, close the socket and wait for the serving thread."""
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None
