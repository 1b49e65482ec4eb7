"""Findings of the outside review on the image routes, each fixed at the edge or in the domain:
client strings never reach an AWS call, and a request the client was told failed keeps
nothing."""

from __future__ import annotations

import io

import boto3
import pytest
from integration_support import REGION, bucket_keys, disc_image, multipart
from PIL import Image

ROUTES = ("/v1/remove-background", "/v1.0/removebg")


def opt_in(gateway, caller) -> None:
    answer = gateway.request("PUT", "/v1/account/training-opt-in", key=caller.secret,
                             headers={"Content-Type": "application/json"},
                             body=b'{"opt_in": true}')
    assert answer.status == 200


def post_file(gateway, caller, path, image: bytes, part_type: str | None):
    body, content_type = multipart({}, {"image_file": ("a.png", image, part_type)})
    return gateway.request("POST", path, key=caller.secret, body=body,
                           headers={"Content-Type": content_type})


def error_code(answer) -> str:
    body = answer.json()
    return body["error"]["code"] if "error" in body else body["errors"][0]["code"]


@pytest.mark.parametrize("path", ROUTES)
def test_a_part_header_with_a_line_break_is_a_400_and_reaches_no_aws_call(gateway, caller,
                                                                          settings, path):
    # Given an opted-in account (so a removal would write to the training store)
    opt_in(gateway, caller)
    # When a multipart part's Content-Type smuggles a second header line
    answer = post_file(gateway, caller, path, disc_image(), "image/png\nX-Injected: yes")
    # Then the edge refuses it with a 400 naming the part header, not a 500
    assert answer.status == 400
    assert error_code(answer) == "invalid_request"
    # And nothing was written anywhere
    assert bucket_keys(settings.training_bucket) == []
    assert bucket_keys(settings.transient_bucket) == []


@pytest.mark.parametrize("declared", ["image/jpeg", "text/html", None])
def test_the_stored_training_input_is_typed_by_its_own_bytes(gateway, caller, settings,
                                                              declared):
    # Given an opted-in account sending a PNG whose part claims another type (or none)
    opt_in(gateway, caller)
    answer = post_file(gateway, caller, "/v1/remove-background", disc_image(), declared)
    assert answer.status == 200
    # Then the training copy's ContentType is the PNG's own, never the client's string
    s3 = boto3.client("s3", region_name=REGION)
    inputs = [k for k in bucket_keys(settings.training_bucket) if k.endswith("/input")]
    assert len(inputs) == 1
    head = s3.head_object(Bucket=settings.training_bucket, Key=inputs[0])
    assert head["ContentType"] == "image/png"


def test_a_removebg_request_answered_as_failed_keeps_no_training_copy(gateway, caller,
                                                                       settings):
    # Given an opted-in account and a fully transparent PNG (the model finds no subject)
    opt_in(gateway, caller)
    buffer = io.BytesIO()
    Image.new("RGBA", (64, 48), (0, 0, 0, 0)).save(buffer, "PNG")
    # When it goes to the remove.bg route, which answers that as an error
    answer = post_file(gateway, caller, "/v1.0/removebg", buffer.getvalue(), "image/png")
    # Then the client is told it failed, and nothing of the request was kept
    assert answer.status == 400
    assert error_code(answer) == "unknown_foreground"
    assert bucket_keys(settings.training_bucket) == []


def test_a_boundary_inside_the_file_but_not_after_a_line_break_is_file_content(gateway,
                                                                                caller):
    # Given a PNG whose text chunk carries the multipart delimiter mid-line (a delimiter
    # counts only at the start of a line, RFC 2046)
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("comment", "x--" + "----cutoutBoundary7MA4YWxkTrZu0gW" + "--y")
    buffer = io.BytesIO()
    Image.open(io.BytesIO(disc_image())).save(buffer, "PNG", pnginfo=info)
    image = buffer.getvalue()
    assert b"----cutoutBoundary7MA4YWxkTrZu0gW" in image
    # When it is posted as a multipart file with that very boundary
    answer = post_file(gateway, caller, "/v1/remove-background", image, "image/png")
    # Then the file arrives whole and is cut out
    assert answer.status == 200
    assert Image.open(io.BytesIO(answer.body)).size == Image.open(io.BytesIO(image)).size
