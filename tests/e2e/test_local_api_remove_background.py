"""A cutout through the local API with the real engine and model, by requests and by curl."""

from __future__ import annotations

import io
import re
import shlex
import socket
import subprocess

import numpy as np
import requests
from PIL import Image


def test_a_raw_jpeg_body_comes_back_as_a_full_size_png_cutout(local_api, photo_path):
    # Given a photo and the demo key
    headers = {"x-api-key": local_api.api_key, "Content-Type": "image/jpeg"}
    source = Image.open(photo_path)
    # When it is POSTed as the raw body
    response = requests.post(f"{local_api.base_url}/v1/remove-background", headers=headers,
                             data=photo_path.read_bytes(), timeout=120)
    # Then a PNG with an alpha channel comes back, at the photo's size
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == "image/png"
    cutout = Image.open(io.BytesIO(response.content))
    assert cutout.format == "PNG"
    assert cutout.mode == "RGBA"
    assert cutout.size == source.size
    alpha = np.asarray(cutout)[..., 3]
    # the cat is kept and the background removed: both opaque and clear pixels exist
    assert (alpha == 255).any() and (alpha == 0).any()


def test_where_the_cutout_is_transparent_no_original_colour_is_left(local_api, photo_path):
    # Given a cutout made through the API
    headers = {"x-api-key": local_api.api_key, "Content-Type": "image/jpeg"}
    response = requests.post(f"{local_api.base_url}/v1/remove-background", headers=headers,
                             data=photo_path.read_bytes(), timeout=120)
    # When its fully transparent pixels are read
    pixels = np.asarray(Image.open(io.BytesIO(response.content)))
    clear = pixels[..., 3] == 0
    # Then their colour is zero: the background cannot be recovered from the file
    assert clear.any()
    assert not pixels[clear][:, :3].any()


def test_the_printed_curl_command_works_as_printed(local_api, photo_path, tmp_path):
    # Given the curl command `cutout serve` printed, pointed at a real photo
    banner = local_api.log()
    start = banner.index("curl -sS -X POST")
    printed = banner[start:banner.index("cutout.png", start) + len("cutout.png")]
    command = shlex.split(printed.replace("\\\n", " "))
    command = [arg.replace("@photo.jpg", f"@{photo_path}") for arg in command]
    command = [str(tmp_path / "cutout.png") if arg == "cutout.png" else arg for arg in command]
    assert f"x-api-key: {local_api.api_key}" in command
    # When it is run
    done = subprocess.run([*command, "-w", "%{http_code}"], capture_output=True, text=True,
                          timeout=120)
    # Then curl wrote a PNG cutout of the photo's size
    assert done.returncode == 0, done.stderr
    assert done.stdout == "200"
    cutout = Image.open(tmp_path / "cutout.png")
    assert cutout.mode == "RGBA"
    assert cutout.size == Image.open(photo_path).size


def test_a_body_over_api_gateways_10_mb_is_refused_413_before_any_handler(local_api):
    # Given a body just over 10 MB (the gateway's limit), with a valid key
    headers = {"x-api-key": local_api.api_key, "Content-Type": "image/jpeg"}
    body = b"\xff" * (10 * 1024 * 1024 + 1)
    # When requests sends it whole
    response = requests.post(f"{local_api.base_url}/v1/remove-background", headers=headers,
                             data=body, timeout=120)
    # Then the gateway answers 413 in our error shape and points to the upload flow
    assert response.status_code == 413
    error = response.json()["error"]
    assert error["code"] == "image_too_large"
    assert "/v1/uploads" in error["message"]


def test_curl_asking_first_gets_413_without_sending_the_large_body(local_api, tmp_path):
    # Given an 11 MB file; curl sends Expect: 100-continue for large bodies
    big = tmp_path / "big.bin"
    big.write_bytes(b"\0" * (11 * 1024 * 1024))
    # When curl posts it
    done = subprocess.run(
        ["curl", "-sS", "-X", "POST", f"{local_api.base_url}/v1/remove-background",
         "-H", f"x-api-key: {local_api.api_key}", "-H", "Content-Type: image/jpeg",
         "-H", "Expect: 100-continue", "--data-binary", f"@{big}", "-w", "\n%{http_code}"],
        capture_output=True, text=True, timeout=120,
    )
    # Then it gets the 413 JSON error, not a reset connection
    body, _, status = done.stdout.rpartition("\n")
    assert status == "413", done.stderr
    assert '"image_too_large"' in body


def test_an_inline_image_over_lambdas_6_mb_payload_is_refused_413(local_api):
    # Given a 5 MB body: under the gateway's 10 MB, over Lambda's 6 MB once base64-encoded
    headers = {"x-api-key": local_api.api_key, "Content-Type": "image/jpeg"}
    body = b"\xff" * (5 * 1024 * 1024)
    # When it is sent inline
    response = requests.post(f"{local_api.base_url}/v1/remove-background", headers=headers,
                             data=body, timeout=120)
    # Then it fails as in AWS, with 413, and the message names the upload flow
    assert response.status_code == 413
    assert "/v1/uploads" in response.json()["error"]["message"]


def test_a_body_that_is_not_an_image_is_refused_by_the_handler(local_api):
    # Given bytes that are not an image, labelled as one
    headers = {"x-api-key": local_api.api_key, "Content-Type": "image/jpeg"}
    # When they are sent
    response = requests.post(f"{local_api.base_url}/v1/remove-background", headers=headers,
                             data=b"definitely not a jpeg", timeout=120)
    # Then the handler's typed error comes back (422 undecodable), not a stack trace
    assert response.status_code == 422
    assert re.fullmatch(r"[a-z_]+", response.json()["error"]["code"])


def test_a_malformed_chunked_body_is_a_400_not_a_dropped_connection(local_api):
    # Given a request whose chunked body has a chunk-size line that is not hexadecimal
    request = (
        b"POST /v1/remove-background HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        + f"x-api-key: {local_api.api_key}\r\n".encode()
        + b"Content-Type: image/png\r\nTransfer-Encoding: chunked\r\n\r\n"
        + b"zz-not-hex\r\nabc\r\n0\r\n\r\n"
    )
    # When it is sent on a raw socket
    with socket.create_connection(("127.0.0.1", local_api.port), timeout=30) as connection:
        connection.sendall(request)
        reply = b""
        while chunk := connection.recv(65536):  # the gateway closes after a refusal
            reply += chunk
    # Then the gateway answers 400 in our error shape
    assert reply.startswith(b"HTTP/1.1 400")
    assert b'"invalid_request"' in reply
