"""The local stack behaves as AWS does under concurrency and at its HTTP door: one invocation
per environment at a time (no 5xx from requests clearing each other's event), and every
refusal the HTTP layer itself makes is our JSON error, never an HTML page."""

from __future__ import annotations

import io
import socket
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from PIL import Image


def _png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (30, 160, 90)).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.mark.slow
def test_concurrent_mixed_requests_get_no_server_error(local_api):
    # Given 96 mixed requests (removals on both routes, account reads, privacy, refusals)
    base, key = local_api.base_url, local_api.api_key
    image = _png(96, 64)
    calls = [
        lambda: requests.post(f"{base}/v1/remove-background", data=image, timeout=120,
                              headers={"x-api-key": key, "Content-Type": "image/png"}),
        lambda: requests.post(f"{base}/v1.0/removebg", files={"image_file": image},
                              timeout=120, headers={"X-Api-Key": key}),
        lambda: requests.get(f"{base}/v1/account", headers={"x-api-key": key}, timeout=60),
        lambda: requests.get(f"{base}/v1/privacy", headers={"x-api-key": key}, timeout=60),
        lambda: requests.post(f"{base}/v1/remove-background", data=b"not an image",
                              timeout=60, headers={"x-api-key": key,
                                                   "Content-Type": "image/png"}),
        lambda: requests.get(f"{base}/v1/nowhere", headers={"x-api-key": key}, timeout=60),
    ]
    # When they run eight at a time
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda i: calls[i % len(calls)](), range(96)))
    # Then none is a server error, and every refusal is a JSON error
    statuses = [answer.status_code for answer in answers]
    assert all(status < 500 for status in statuses), statuses
    for answer in answers:
        if answer.status_code >= 400:
            body = answer.json()
            assert "error" in body or "errors" in body


def test_headers_too_large_are_refused_as_json(local_api):
    # Given a request with one header line far over what the server reads
    request = (b"GET /v1/account HTTP/1.1\r\nHost: 127.0.0.1\r\n"
               + b"X-Big: " + b"a" * 70_000 + b"\r\n\r\n")
    # When it is sent on a raw socket
    with socket.create_connection(("127.0.0.1", local_api.port), timeout=30) as connection:
        connection.sendall(request)
        reply = b""
        while chunk := connection.recv(65536):
            reply += chunk
    # Then the refusal is our JSON error, not http.server's HTML page
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 431") or head.startswith(b"HTTP/1.1 400"), head[:80]
    assert b"application/json" in head
    assert b'"code": "invalid_request"' in body
