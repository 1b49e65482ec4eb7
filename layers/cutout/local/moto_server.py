"""moto in a thread on loopback, behind our signature check and without access logs.

Like `moto.server.ThreadedMotoServer`, which we cannot use as is for two reasons: it
writes every request line to stderr (presigned URLs carry their signature in the query,
and signed URLs must never reach a log), and it gives no place to put the check that moto
itself does not make on signatures (see `presign_check`). `stop()` also closes the
listening socket, so the port is free as soon as it returns.

moto's server also wraps every service in flask-cors, which answers any `Origin` with
itself (`http://evil.example` included). AWS does not: S3 answers CORS from the bucket's
own CORS rules (which moto's S3 implements), the other services we use not at all. The
global layer is switched off (moto's MOTO_DISABLE_GLOBAL_CORS setting).

One moto bug is worked around here: moto tries to read a form-encoded body as an AWS query
call, and a presigned PUT sent that way (curl's default for `--data-binary`) then hangs
forever; such a PUT reaches moto as `application/octet-stream` instead.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterable
from typing import Any

from moto.moto_server import werkzeug_app
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import BaseWSGIServer, make_server

CLIENT_CLOSE_WAIT_SECONDS = 1.0


class _QuietRequestHandler(MotoRequestHandler):
    """moto's request handler minus the access log (it would print signed URLs)."""

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        return None

    def finish(self) -> None:
        # werkzeug answers one request per connection (`Connection: close`) and closes it.
        # Waiting for the client to close first (it does once it has read the answer) leaves
        # TIME_WAIT on the client's port, not on moto's, which is then free when we stop.
        try:
            self.connection.settimeout(CLIENT_CLOSE_WAIT_SECONDS)
            while self.connection.recv(65536):
                pass
        except OSError:
            pass
        super().finish()


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
        # What MOTO_DISABLE_GLOBAL_CORS sets, read when each service's app is first built;
        # set here because moto reads the variable once, when it is first imported.
        werkzeug_app.DISABLE_GLOBAL_CORS = True
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
