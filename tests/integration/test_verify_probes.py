"""The live probes fail against a broken API: a small HTTP server on loopback that answers
without a key and returns a "cutout" keeping colour under alpha 0 (what a careless
deployment would). The passing side runs against `cutout serve` (tests/e2e)."""

from __future__ import annotations

import io
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest
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


def clean_png() -> bytes:
    rgba = np.zeros((8, 8, 4), dtype=np.uint8)
    rgba[2:6, 2:6] = (200, 30, 30, 255)  # a subject, and no colour where alpha is 0
    buffer = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(buffer, "PNG")
    return buffer.getvalue()


def receipt_api(bucket: str, receipt: str | None, leaves_result: bool) -> type:
    """An API that answers inline with `receipt` and, if told to, keeps the result in S3."""
    import boto3

    class ReceiptApi(BaseHTTPRequestHandler):
        def _answer(self, body: bytes, content_type: str, extra: dict[str, str]) -> None:
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in extra.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            self._answer(b'{"account_id": "acct_probe"}', "application/json", {})

        def do_POST(self) -> None:  # noqa: N802
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if leaves_result:
                boto3.client("s3", region_name="us-east-1").put_object(
                    Bucket=bucket, Key="results/acct_probe/kept.png", Body=clean_png())
            self._answer(clean_png(), "image/png",
                         {} if receipt is None else {"X-Cutout-Retention": receipt})

        def log_message(self, *args) -> None:
            pass

    return ReceiptApi


@pytest.mark.parametrize("receipt, leaves_result, status, detail", [
    ("none", False, "pass", ""),
    ("none", True, "fail", "1 object(s) written by the probe remain, its receipt names 0"),
    (None, False, "fail", "the answer carries no X-Cutout-Retention"),
    ("result=2026-12-03T19:41:07Z", True, "fail", "an inline answer's receipt names stored"),
    ("kept forever", False, "fail", "is not a receipt"),
])
def test_the_nothing_left_probe_holds_an_inline_answer_to_its_retention_receipt(
        aws, receipt, leaves_result, status, detail):
    # Given an API on loopback whose inline answer carries `receipt`, and its bucket in moto
    import boto3

    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="probe-transient")
    server = ThreadingHTTPServer(("127.0.0.1", 0),
                                 receipt_api("probe-transient", receipt, leaves_result))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        # When the probes run with the bucket readable
        checks = {item.id: item for item in run_probes(
            Target(f"http://127.0.0.1:{server.server_port}", "co_live_probe-test-key",
                   s3=s3, transient_bucket="probe-transient"))}
    finally:
        server.shutdown()
        server.server_close()
    # Then nothing_left passes only when the receipt is `none` and nothing was left behind
    assert checks["probe.nothing_left"].status == status, checks["probe.nothing_left"].detail
    assert detail in checks["probe.nothing_left"].detail
