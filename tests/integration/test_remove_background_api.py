"""POST /v1/remove-background through the gateway with the real engine: every input form,
the output formats and headers, and every error class in our JSON shape."""

from __future__ import annotations

import base64
import io
import json
from dataclasses import replace

import pytest
from integration_support import (
    PHOTOS,
    Gateway,
    LocalContext,
    answer_of,
    assert_no_secrets,
    disc_image,
    load_function,
    multipart,
)
from PIL import Image

from cutout.local.events import proxy_event

PATH = "/v1/remove-background"


def remove(gateway, caller, body, content_type, query=None):
    headers = {"Content-Type": content_type} if content_type else {}
    return gateway.request("POST", PATH, key=caller.secret, headers=headers, body=body,
                           query=query)


def picture(answer) -> Image.Image:
    return Image.open(io.BytesIO(answer.body))


# --- input forms ------------------------------------------------------------------------
def test_a_raw_png_body_comes_back_as_a_png_cutout_with_its_headers(gateway, caller, png_image):
    # When a raw PNG is posted
    answer = remove(gateway, caller, png_image, "image/png")
    # Then the body is the binary cutout, base64 in the proxy response, with the right type
    assert answer.status == 200
    assert answer.raw["isBase64Encoded"] is True
    assert answer.headers["Content-Type"] == "image/png"
    image = picture(answer)
    assert image.format == "PNG" and image.mode == "RGBA" and image.size == (320, 240)
    # And the headers give size, foreground box, request id and processing time
    assert (answer.headers["X-Width"], answer.headers["X-Height"]) == ("320", "240")
    left, top = int(answer.headers["X-Foreground-Left"]), int(answer.headers["X-Foreground-Top"])
    width = int(answer.headers["X-Foreground-Width"])
    height = int(answer.headers["X-Foreground-Height"])
    assert 80 <= left <= 110 and 45 <= top <= 75 and 100 <= width <= 145 and 100 <= height <= 140
    assert answer.headers["X-Request-Id"]
    assert float(answer.headers["X-Processing-Time-Ms"]) > 0
    assert "infer;dur=" in answer.headers["Server-Timing"]
    # And the removed background carries no colour and no opacity
    assert image.getpixel((5, 5)) == (0, 0, 0, 0)
    assert image.getpixel((160, 120))[3] > 200


def test_a_raw_jpeg_photo_is_accepted(gateway, caller):
    photo = (PHOTOS / "chelsea.jpg").read_bytes()
    answer = remove(gateway, caller, photo, "image/jpeg", query={"size": "preview"})
    assert answer.status == 200
    assert picture(answer).width * picture(answer).height <= 250_000


def test_a_multipart_image_file_with_options_in_fields(gateway, caller, jpeg_image):
    # Given a browser-style form with the file and two options as fields
    body, content_type = multipart({"format": "jpg", "bg_color": "#ffffff"},
                                   {"image_file": ("photo.jpg", jpeg_image, "image/jpeg")})
    # When it is posted
    answer = remove(gateway, caller, body, content_type)
    # Then the options applied: a JPEG, flattened on white
    assert answer.status == 200
    assert answer.headers["Content-Type"] == "image/jpeg"
    image = picture(answer)
    assert image.format == "JPEG"
    assert all(channel > 240 for channel in image.convert("RGB").getpixel((5, 5)))


def test_a_multipart_file_part_without_a_content_type_is_read(gateway, caller, png_image):
    # Given a file part that names no Content-Type (as the removebg PyPI client sends)
    body, content_type = multipart({}, {"image_file": ("x", png_image, None)})
    # When it is posted
    answer = remove(gateway, caller, body, content_type)
    # Then its bytes were read as the image: the cutout of that picture comes back
    assert answer.status == 200
    image = picture(answer)
    assert image.size == (320, 240) and image.mode == "RGBA"
    assert image.getpixel((5, 5)) == (0, 0, 0, 0) and image.getpixel((160, 120))[3] > 200


def test_json_base64_with_json_typed_options(gateway, caller, png_image):
    # JSON booleans and numbers are options too
    document = {"image_base64": base64.b64encode(png_image).decode(), "crop": True,
                "crop_margin": 4, "channels": "alpha"}
    answer = remove(gateway, caller, json.dumps(document), "application/json")
    assert answer.status == 200
    image = picture(answer)
    # cropped to the disc (plus margin), and only the mask
    assert image.width < 200 and image.height < 160
    assert image.mode in ("L", "LA")


def test_a_data_url_in_image_base64_is_accepted(gateway, caller, png_image):
    # Given the image as a data: URL rather than bare base64
    document = {"image_base64": "data:image/png;base64," + base64.b64encode(png_image).decode()}
    # When it is posted
    answer = remove(gateway, caller, json.dumps(document), "application/json")
    # Then the URL's payload was decoded as the image: its cutout comes back
    assert answer.status == 200
    image = picture(answer)
    assert image.size == (320, 240) and image.mode == "RGBA"
    assert image.getpixel((5, 5)) == (0, 0, 0, 0) and image.getpixel((160, 120))[3] > 200


def test_a_url_encoded_form_with_image_base64(gateway, caller, png_image):
    from urllib.parse import urlencode

    body = urlencode({"image_base64": base64.b64encode(png_image).decode(), "size": "100"})
    answer = remove(gateway, caller, body, "application/x-www-form-urlencoded")
    assert answer.status == 200
    assert max(picture(answer).size) == 100


def test_options_in_the_query_string(gateway, caller, png_image):
    answer = remove(gateway, caller, png_image, "image/png",
                    query={"format": "webp", "size": "160"})
    assert answer.status == 200
    assert answer.headers["Content-Type"] == "image/webp"
    assert picture(answer).size == (160, 120)


def test_a_result_too_large_for_lambda_leaves_as_a_signed_link(stores, settings, caller):
    # Given an engine whose result is bigger than a synchronous Lambda response can carry
    from cutout.engine import CutoutResult, RemovalOptions
    from cutout.service.removal import build_removal_service
    from cutout.service.requests import InlineImage, RemovalRequest

    class BigResultEngine:
        def remove(self, data, options, keep_mask=False, background=None):
            return CutoutResult(data=b"\x89PNG" + bytes(5 * 1024 * 1024),
                                content_type="image/png", extension="png", width=4000,
                                height=3000, foreground=(1, 2, 3, 4))

    service = build_removal_service(settings, engine=BigResultEngine(), stores=stores)
    request = RemovalRequest(InlineImage(b"any image"), RemovalOptions())
    # When the removal runs under the inline limit of a proxy response
    removal = service.remove(request, caller.account_id, "rid")
    # Then the domain sends it through S3: a short-lived signed GET of the stored result
    assert removal.link is not None
    assert "X-Amz-Signature=" in removal.link.url
    assert removal.link.expires_in == settings.result_url_ttl_seconds
    stored = [o.key for o in stores.transient.list_objects("results/")]
    assert len(stored) == 1 and stored[0].startswith(f"results/{caller.account_id}/")


def test_the_response_guard_is_a_named_error():
    from cutout.api.responses import image_response
    from cutout.errors import ResultTooLarge
    from cutout.limits import LAMBDA_PAYLOAD_BYTES, fits_inline

    assert fits_inline(4 * 1024 * 1024)
    assert not fits_inline(LAMBDA_PAYLOAD_BYTES * 3 // 4)
    with pytest.raises(ResultTooLarge):
        image_response(bytes(5 * 1024 * 1024), "image/png", "rid")


# --- errors -----------------------------------------------------------------------------
ERROR_CASES = {
    "unsupported type": (b"hello", "text/plain", None, 415, "unsupported_media_type"),
    "no content type": (b"hello", None, None, 415, "unsupported_media_type"),
    "empty body": (b"", "image/png", None, 400, "missing_source"),
    "json without a source": (b'{"format": "png"}', "application/json", None, 400,
                              "missing_source"),
    "two sources": (b'{"image_base64": "AAAA", "upload_id": "' + b"A" * 43 + b'"}',
                    "application/json", None, 400, "multiple_sources"),
    "image_url": (b'{"image_url": "http://169.254.169.254/latest"}', "application/json", None,
                  400, "image_url_not_allowed"),
    "bad option value": (None, "image/png", {"format": "gif"}, 400, "invalid_option"),
    "unknown option": (None, "image/png", {"formt": "png"}, 400, "invalid_option"),
    # "¹".isdigit() is true and int("¹") fails: the fuzzer's 500 (schemathesis, stateful)
    "superscript size": (None, "image/png", {"size": "\u00b9"}, 400, "invalid_option"),
    "unknown field": (b'{"image_base64": "AAAA", "colour": "red"}', "application/json", None,
                      400, "invalid_option"),
    "bad base64": (b'{"image_base64": "***"}', "application/json", None, 400, "invalid_request"),
    "bad json": (b"{not json", "application/json", None, 400, "invalid_request"),
    "not an image": (b"\x89PNG\r\n\x1a\n" + b"garbage" * 50, "image/png", None, 422,
                     "undecodable_image"),
    "over 6 MB inline": (b"\xff" * (6 * 1024 * 1024 + 1), "image/jpeg", None, 413,
                         "image_too_large"),
    "deeply nested json": (b"[" * 100_000, "application/json", None, 400, "invalid_request"),
    "non-ascii boundary": (b"--x\r\n", "multipart/form-data; boundary=\u00fc\u20ac", None, 400,
                           "invalid_request"),
    "jpg on a translucent colour": (None, "image/png", {"format": "jpg", "bg_color": "ff000080"},
                                    400, "invalid_option"),
}


@pytest.mark.parametrize("case", ERROR_CASES, ids=list(ERROR_CASES))
def test_every_client_error_has_its_status_and_code(gateway, caller, settings, png_image, case):
    body, content_type, query, status, code = ERROR_CASES[case]
    answer = remove(gateway, caller, png_image if body is None else body, content_type, query)
    assert answer.status == status
    assert answer.headers["Content-Type"] == "application/json"
    error = answer.json()["error"]
    assert error["code"] == code
    assert error["message"] and "Traceback" not in error["message"]
    assert error["request_id"] == answer.headers["X-Request-Id"]


def test_a_decompression_bomb_is_refused_with_413_before_inference(aws, settings, stores, caller):
    # Given a deployment that allows at most 10,000 pixels
    from cutout.service.removal import build_removal_service

    small = replace(settings, max_pixels=10_000)
    handler = load_function("remove_background").make_handler(
        build_removal_service(small, stores=stores))
    event = proxy_event("POST", PATH, headers={"Content-Type": "image/png"},
                        body=disc_image("PNG", size=(400, 400)),
                        authorizer={"account_id": caller.account_id, "key_prefix": "p"})
    # When a bigger image arrives, Then it is refused as too large
    answer = answer_of(handler(event, LocalContext()))
    assert answer.status == 413
    assert answer.json()["error"]["code"] == "image_too_large"


def test_a_missing_or_unknown_key_never_reaches_the_image(handlers, png_image):
    # Given the gateway in front of functions that record every event they receive
    received: list[dict] = []

    def recording(handler):
        def invoke(event, context):
            received.append(event)
            return handler(event, context)
        return invoke

    functions = {name: recording(handler) for name, handler in handlers.items()
                 if name != "authorizer"}
    gateway = Gateway(handlers["authorizer"], functions)
    # When an image arrives with no key, and with a key nobody issued
    missing = gateway.request("POST", PATH, body=png_image, headers={"Content-Type": "image/png"})
    unknown = gateway.request("POST", PATH, key="co_live_guess", body=png_image,
                              headers={"Content-Type": "image/png"})
    # Then both are refused by the gateway, 401 and 403 in our error shape
    assert (missing.status, missing.json()["error"]["code"]) == (401, "unauthorized")
    assert (unknown.status, unknown.json()["error"]["code"]) == (403, "forbidden")
    # And no function was invoked: the image never left the gateway
    assert received == []


def test_throttling_maps_to_429_with_retry_after():
    from cutout.api.error_answers import error_response
    from cutout.errors import Throttled

    response = error_response(Throttled("slow down"), "rid")
    assert response.status_code == 429
    assert response.headers["Retry-After"]
    assert json.loads(response.body)["error"] == {"code": "throttled", "message": "slow down",
                                                 "request_id": "rid"}


# --- logs -------------------------------------------------------------------------------
def test_logs_hold_no_key_no_image_and_no_signed_url(gateway, caller, logs, png_image,
                                                     jpeg_image):
    # Given requests in every inline form, a failing one included
    answers = [
        remove(gateway, caller, png_image, "image/png"),
        remove(gateway, caller, *multipart({}, {"image_file": ("a.jpg", jpeg_image, None)})),
        remove(gateway, caller, json.dumps({"image_base64": base64.b64encode(png_image).decode()}),
               "application/json"),
        remove(gateway, caller, b"\x89PNG" + png_image[8:200], "image/png"),
    ]
    assert [a.status for a in answers] == [200, 200, 200, 422]
    # Then the captured logs and metrics contain none of the secrets or the pixels
    text = logs.text()
    assert "background removed" in text and "ImagesProcessed" in text
    assert_no_secrets(text, caller.secret, caller.key_hash, png_image, jpeg_image,
                      answers[0].body, answers[1].body)
