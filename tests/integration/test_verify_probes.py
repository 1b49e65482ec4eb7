"""The live probes fail against a broken API: a small HTTP server on loopback that answers
without a key and returns a "cutout" keeping colour under alpha 0 (what a careless
deployment would). The passing side runs against `cutout serve` (tests/e2e)."""

from __future__ import annotations

import io
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
from PIL import Image

from cutout.verify.probes import Target, run_probes


def leaky_png() -> bytes:
    rgba = np.zeros((8, 8, 4), dtype=np.uint8)
    rgba[..., 0] = 200  # red everywhere, alpha 0 everywhere: the background is recoverable
    buffer = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(buffer, "PNG")
    return buffer.getvalue()


class CarelessApi(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = leaky_png()
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


def test_an_api_that_answers_without_a_key_and_leaks_colour_fails_both_probes():
    # Given a careless API on loopback
    server = ThreadingHTTPServer(("127.0.0.1", 0), CarelessApi)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        # When the probes run against it
        checks = {item.id: item for item in run_probes(
            Target(f"http://127.0.0.1:{server.server_port}", "co_live_probe-test-key"))}
    finally:
        server.shutdown()
        server.server_close()
    # Then the missing key and the colour under alpha 0 both fail, with the count
    assert checks["probe.no_key"].status == "fail"
    assert "200" in checks["probe.no_key"].detail
    assert checks["probe.round_trip"].status == "fail"
    assert "64 pixel(s) under alpha 0 keep colour" in checks["probe.round_trip"].detail
    assert checks["probe.tls"].status == "not_applicable"
