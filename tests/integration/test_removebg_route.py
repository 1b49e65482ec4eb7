"""POST /v1.0/removebg through proxy events with the real engine: remove.bg's v1.0 contract
(fields, defaults, the image or `{"data": ...}` by Accept, its headers, its error shape),
the same privacy rules as the native route, and the native route left as it was."""

from __future__ import annotations

import base64
import io
import json
from dataclasses import replace
from urllib.parse import urlencode

import pytest
from integration_support import (
    LocalContext,
    answer_of,
    assert_no_secrets,
    bucket_keys,
    disc_image,
    load_function,
    multipart,
)
from PIL import Image

from cutout.local.events import proxy_event

PATH = "/v1.0/removebg"
FORM = "application/x-www-form-urlencoded"


@pytest.fixture
def removebg_gateway(gateway):
    """The integration gateway: the route table sends remove.bg's route to the same function."""
    return gateway


def post(gateway, caller, body=None, content_type=None, accept="*/*", query=None):
    headers = {"Accept": accept}
    if content_type:
        headers["Content-Type"] = content_type
    return gateway.request("POST", PATH, key=caller.secret, headers=headers, body=body,
                           query=query)


def post_file(gateway, caller, image, fields=None, accept="*/*", part_type=None):
    """A form like the `removebg` PyPI client's: text fields and a file part, no part type."""
    body, content_type = multipart(fields or {}, {"image_file": ("photo.jpg", image, part_type)})
    return post(gateway, caller, body, content_type, accept)


def post_b64(gateway, caller, image, fields=None, accept="*/*"):
    """JSON like the `remove.bg` npm client's: image_file_b64 and JSON-typed options."""
    document = {"image_file_b64": base64.b64encode(image).decode(), **(fields or {})}
    return post(gateway, caller, json.dumps(document), "application/json", accept)


def picture(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data))


def only_error(answer) -> dict:
    """The single error of a remove.bg error body (and nothing of our native shape)."""
    assert answer.headers["Content-Type"] == "application/json"
    body = answer.json()
    assert set(body) == {"errors"} and len(body["errors"]) == 1
    error = body["errors"][0]
    assert set(error) == {"title", "code", "detail"}
    assert error["title"] and error["detail"] and "Traceback" not in error["detail"]
    return error


# --- success: the image, its headers, remove.bg's defaults ----------------------------------
def test_a_file_part_without_a_type_comes_back_as_image_bytes_with_removebg_headers(
        removebg_gateway, caller, jpeg_image):
    # Given what the removebg PyPI client sends: Accept */*, size=regular, an untyped file part
    # When it is posted
    answer = post_file(removebg_gateway, caller, jpeg_image, {"size": "regular"})
    # Then the body is the PNG cutout itself (format auto, nothing opaque asked for)
    assert answer.status == 200
    assert answer.headers["Content-Type"] == "image/png"
    image = picture(answer.body)
    assert image.format == "PNG" and image.mode == "RGBA" and image.size == (320, 240)
    assert image.getpixel((5, 5)) == (0, 0, 0, 0)
    # And remove.bg's headers describe it, charging nothing
    assert (answer.headers["X-Width"], answer.headers["X-Height"]) == ("320", "240")
    assert answer.headers["X-Type"] == "other"
    assert answer.headers["X-Credits-Charged"] == "0"
    box = [int(answer.headers[f"X-Foreground-{side}"])
           for side in ("Left", "Top", "Width", "Height")]
    assert 80 <= box[0] <= 110 and 45 <= box[1] <= 75 and 100 <= box[2] <= 145
    assert answer.headers["X-Request-Id"]


def test_accept_json_gets_the_result_as_base64_with_the_foreground_box(removebg_gateway,
                                                                       caller, png_image):
    # Given what the remove.bg npm client sends: Accept application/json, JSON options
    # When the image goes as image_file_b64
    answer = post_b64(removebg_gateway, caller, png_image,
                      {"size": "preview", "type": "auto", "crop": False},
                      accept="application/json")
    # Then the answer is remove.bg's JSON, its result the PNG cutout
    assert answer.status == 200
    assert answer.headers["Content-Type"] == "application/json"
    data = answer.json()["data"]
    image = picture(base64.b64decode(data["result_b64"]))
    assert image.format == "PNG" and image.size == (320, 240)
    # And the foreground box is the same in the body and the headers
    assert [data["foreground_left"], data["foreground_top"], data["foreground_width"],
            data["foreground_height"]] == [
        int(answer.headers[f"X-Foreground-{side}"]) for side in ("Left", "Top", "Width", "Height")]
    assert answer.headers["X-Width"] == "320" and answer.headers["X-Credits-Charged"] == "0"


def test_an_accept_that_does_not_start_with_json_gets_the_image(removebg_gateway, caller,
                                                                png_image):
    # Given an Accept that names JSON, but not first
    # When the image is posted
    answer = post_b64(removebg_gateway, caller, png_image, accept="image/png, application/json")
    # Then the answer is the image itself
    assert answer.status == 200
    assert picture(answer.body).format == "PNG"


def test_size_defaults_to_preview_as_on_remove_bg(removebg_gateway, caller):
    # Given a 0.48 MP image and no size
    image = disc_image("JPEG", size=(800, 600))
    # When it is posted with no size, and again with size=full
    preview = picture(post_file(removebg_gateway, caller, image).body)
    full = picture(post_file(removebg_gateway, caller, image, {"size": "full"}).body)
    # Then the default is the 0.25 MP preview, and full keeps every pixel
    assert preview.width * preview.height <= 250_000 and preview.width > 500
    assert full.size == (800, 600)


@pytest.mark.parametrize("size,pixel_budget", [
    ("small", 250_000), ("regular", 250_000), ("medium", 1_500_000),
    ("hd", None), ("4k", None), ("auto", None), ("50MP", None)])
def test_every_removebg_size_name_is_understood(removebg_gateway, caller, size, pixel_budget):
    # Given a 2 MP image: over the preview and medium budgets, under hd's 4 MP
    image = disc_image("JPEG", size=(2000, 1000))
    # When it is asked for at each of remove.bg's size names
    answer = post_file(removebg_gateway, caller, image, {"size": size})
    # Then the cutout has that name's size: scaled into its budget, or every pixel kept
    assert answer.status == 200
    width, height = picture(answer.body).size
    assert (answer.headers["X-Width"], answer.headers["X-Height"]) == (str(width), str(height))
    if pixel_budget is None:
        assert (width, height) == (2000, 1000)
    else:
        assert pixel_budget * 0.95 <= width * height <= pixel_budget
        assert abs(width / height - 2.0) < 0.02  # scaled, not cropped


def test_format_auto_is_jpeg_on_an_opaque_background_and_png_otherwise(removebg_gateway,
                                                                       caller, png_image):
    # Given the same image asked for with an opaque colour, a colour name, a translucent colour
    # and no colour at all
    def answer_type(**fields):
        return post_b64(removebg_gateway, caller, png_image, fields).headers["Content-Type"]
    # Then only a fully opaque result is a JPEG
    assert answer_type(bg_color="81d4fa") == "image/jpeg"
    assert answer_type(bg_color="white", format="auto") == "image/jpeg"
    assert answer_type(bg_color="#ff000080") == "image/png"
    assert answer_type() == "image/png"
    assert answer_type(bg_color="white", channels="alpha") == "image/png"


def test_bg_color_flattens_the_cutout(removebg_gateway, caller, png_image):
    # Given a 3-digit hex colour without "#" and format jpg
    # When the image is posted
    answer = post_b64(removebg_gateway, caller, png_image, {"bg_color": "fff", "format": "jpg"})
    # Then the removed background is white
    image = picture(answer.body)
    assert image.format == "JPEG"
    assert all(channel > 240 for channel in image.convert("RGB").getpixel((5, 5)))


def test_form_urlencoded_booleans_crop_to_the_subject_with_a_margin(removebg_gateway, caller,
                                                                    png_image):
    # Given a URL-encoded form with remove.bg's string booleans and a margin in pixels
    body = urlencode({"image_file_b64": base64.b64encode(png_image).decode(), "crop": "true",
                      "crop_margin": "10px", "size": "full"})
    # When it is posted
    answer = post(removebg_gateway, caller, body, FORM)
    # Then the cutout is the disc plus 10 px each side
    assert answer.status == 200
    width, height = picture(answer.body).size
    assert 120 <= width <= 165 and 120 <= height <= 160
    assert (answer.headers["X-Foreground-Left"], answer.headers["X-Foreground-Top"]) == ("10",
                                                                                         "10")


def test_a_percentage_margin_and_the_alpha_channel_only(removebg_gateway, caller, png_image):
    # Given a crop with a margin in percent, and only the alpha channel asked for
    answer = post_b64(removebg_gateway, caller, png_image,
                      {"crop": True, "crop_margin": "10%", "channels": "alpha"})
    # Then the answer is the cropped mask
    image = picture(answer.body)
    assert answer.status == 200
    assert image.mode in ("L", "LA") and image.width < 200


def test_removebg_defaults_of_unsupported_options_are_accepted(removebg_gateway, caller,
                                                               png_image):
    # Given every option we do not implement, each at remove.bg's default value, and a type
    fields = {"roi": "0% 0%  100% 100%", "add_shadow": "false", "shadow_type": "none",
              "semitransparency": "true", "type": "person", "type_level": "1"}
    # When posted, Then they change nothing and the request succeeds
    answer = post_file(removebg_gateway, caller, png_image, fields)
    assert answer.status == 200
    assert picture(answer.body).size == (320, 240)


def test_options_may_come_in_the_query_string(removebg_gateway, caller, png_image):
    # Given a typed file part and the format in the query string
    body, content_type = multipart({}, {"image_file": ("a.png", png_image, "image/png")})
    # When posted, Then the query's option applied
    answer = post(removebg_gateway, caller, body, content_type, query={"format": "jpg"})
    assert answer.headers["Content-Type"] == "image/jpeg"


# --- errors: remove.bg's shape and codes ---------------------------------------------------
def b64_json(**fields) -> bytes:
    return json.dumps({"image_file_b64": base64.b64encode(disc_image()).decode(),
                       **fields}).encode()


ERROR_CASES = {
    "no body": (None, None, "missing_source"),
    "options only": (b'{"size": "preview"}', "application/json", "missing_source"),
    "an empty file": ("empty-file", None, "missing_source"),
    "two sources": (urlencode({"image_file_b64": "AAAA", "image_url": "https://x.test/a.jpg"}),
                    FORM, "multiple_sources"),
    "image_url": (b'{"image_url": "http://169.254.169.254/latest/meta-data"}',
                  "application/json", "image_url_not_allowed"),
    "bg_image_url": (b64_json(bg_image_url="http://10.0.0.1/bg.jpg"), "application/json",
                     "image_url_not_supported"),
    "bg_image_file as text": (b64_json(bg_image_file="x"), "application/json",
                              "invalid_request"),
    "bg_image_file beside bg_color": (b64_json(bg_image_file="x", bg_color="red"),
                                      "application/json", "multiple_bg_sources"),
    "format zip on a colour": (b64_json(format="zip", bg_color="white"), "application/json",
                               "invalid_option"),
    "a region of interest": (b64_json(roi="10% 10% 90% 90%"), "application/json",
                             "unsupported_option"),
    "a scale under 10%": (b64_json(scale="5%"), "application/json", "invalid_option"),
    "three positions": (b64_json(position="1% 2% 3%"), "application/json", "invalid_option"),
    "a shadow": (b64_json(add_shadow=True), "application/json", "unsupported_option"),
    "an unknown field": (b64_json(colour="red"), "application/json", "invalid_option"),
    "an ignored field that is not a string": (b64_json(type={"x": 1}), "application/json",
                                              "invalid_option"),
    "a bad size": (b64_json(size="huge"), "application/json", "invalid_option"),
    "a bad format": (b64_json(format="gif"), "application/json", "invalid_option"),
    "a bad colour": (b64_json(bg_color="#12"), "application/json", "invalid_option"),
    "a bad boolean": (b64_json(crop="maybe"), "application/json", "invalid_option"),
    "bad base64": (b'{"image_file_b64": "***"}', "application/json", "invalid_request"),
    "bad json": (b"{not json", "application/json", "invalid_request"),
    "a raw image body": ("raw-image", "image/png", "unsupported_media_type"),
    "not an image": (b'{"image_file_b64": "' + base64.b64encode(b"\x89PNG" + b"x" * 300)
                     + b'"}', "application/json", "unknown_format"),
    "no subject at all": ("transparent", None, "unknown_foreground"),
}


@pytest.mark.parametrize("case", ERROR_CASES, ids=list(ERROR_CASES))
def test_every_client_error_is_a_400_in_removebg_shape(removebg_gateway, caller, case):
    # Given a request remove.bg would refuse (or that asks for what we do not do)
    body, content_type, code = ERROR_CASES[case]
    if body == "empty-file":
        body, content_type = multipart({}, {"image_file": ("a.png", b"", None)})
    elif body == "raw-image":
        body = disc_image()
    elif body == "transparent":
        buffer = io.BytesIO()
        Image.new("RGBA", (64, 48), (0, 0, 0, 0)).save(buffer, "PNG")
        body, content_type = multipart({}, {"image_file": ("a.png", buffer.getvalue(), None)})
    # When it is posted
    answer = post(removebg_gateway, caller, body, content_type)
    # Then remove.bg clients read a 400 with one error naming what is wrong
    assert answer.status == 400
    assert only_error(answer)["code"] == code


def test_a_file_over_6_mb_is_refused_before_the_function_and_by_the_parser(removebg_gateway,
                                                                          caller):
    # Given a multipart file over the 6 MB a synchronous invocation carries
    from cutout.api.removebg_request import parse_removebg_request

    body, content_type = multipart({}, {"image_file": ("a.jpg", bytes(6 * 1024 * 1024 + 1),
                                                       None)})
    # When it is posted, Then the gateway refuses it (its base64 event is over Lambda's 6 MB)
    # from the stack's REQUEST_TOO_LARGE template (its 413; remove.bg's errors in the body)
    answer = post(removebg_gateway, caller, body, content_type)
    assert answer.status == 413
    assert answer.json()["errors"][0]["code"] == "file_too_large"
    # And the parser itself names it in remove.bg's terms, should a smaller event carry it
    with pytest.raises(Exception) as refused:
        parse_removebg_request(body, content_type)
    assert (refused.value.code, refused.value.status) == ("file_too_large", 400)


def test_a_public_image_url_is_never_fetched_and_the_detail_says_what_is_accepted(
        removebg_gateway, caller):
    # Given a form that names an image by a URL on the internet, When it is posted
    answer = post(removebg_gateway, caller, urlencode({"image_url": "https://example.com/a.jpg"}),
                  FORM)
    # Then it is refused in remove.bg's shape, and the detail says what is accepted
    error = only_error(answer)
    assert answer.status == 400 and error["code"] == "image_url_not_allowed"
    assert error["title"] == "Image URL not allowed"
    assert "s3://<bucket>/<key>" in error["detail"] and "never fetched" in error["detail"]


def test_too_many_pixels_is_resolution_too_high(settings, stores, caller):
    # Given a deployment that decodes at most 10,000 pixels
    from cutout.service.removal import build_removal_service

    handler = load_function("remove_background").make_handler(
        build_removal_service(replace(settings, max_pixels=10_000), stores=stores))
    body, content_type = multipart({}, {"image_file": ("a.png", disc_image(size=(400, 400)),
                                                       None)})
    event = proxy_event("POST", PATH, headers={"Content-Type": content_type}, body=body,
                        authorizer={"account_id": caller.account_id, "key_prefix": "p"})
    # When a bigger image arrives
    answer = answer_of(handler(event, LocalContext()))
    # Then it is remove.bg's resolution error
    assert answer.status == 400
    assert only_error(answer)["code"] == "resolution_too_high"


def test_a_request_without_an_account_is_a_403_api_key_invalid(handlers, png_image):
    # Given a proxy event that carries no authorizer context
    body, content_type = multipart({}, {"image_file": ("a.png", png_image, None)})
    event = proxy_event("POST", PATH, headers={"Content-Type": content_type}, body=body)
    # When it reaches the handler, Then it is remove.bg's key error
    answer = answer_of(handlers["remove_background"](event, LocalContext()))
    assert answer.status == 403
    assert only_error(answer) == {"title": "API Key invalid", "code": "auth_failed",
                                  "detail": "the request carries no authenticated account"}


class BrokenService:
    """A removal service that fails as a bug would."""

    def remove(self, *args, **kwargs):
        raise RuntimeError("a bug")


def test_an_unexpected_failure_is_a_500_in_removebg_shape_with_the_request_id(caller,
                                                                               png_image):
    # Given a handler whose removal service fails as a bug would
    handler = load_function("remove_background").make_handler(BrokenService())
    body, content_type = multipart({}, {"image_file": ("a.png", png_image, None)})
    event = proxy_event("POST", PATH, headers={"Content-Type": content_type}, body=body,
                        authorizer={"account_id": caller.account_id, "key_prefix": "p"})
    # When a request arrives
    answer = answer_of(handler(event, LocalContext()))
    # Then a 500 in remove.bg's shape, with the request id and without the bug's text
    assert answer.status == 500
    error = only_error(answer)
    assert error["code"] == "internal_error" and "a bug" not in error["detail"]
    assert answer.headers["X-Request-Id"] in error["detail"]


def test_a_result_too_large_for_one_response_is_a_400_that_says_what_to_ask_for():
    # Given a result bigger than a synchronous Lambda response can carry
    from cutout.api.removebg_contract import removebg_response
    from cutout.engine import CutoutResult
    from cutout.errors import ResultTooLarge
    from cutout.service.removal import Removal

    big = CutoutResult(data=bytes(5 * 1024 * 1024), content_type="image/png", extension="png",
                       width=4000, height=3000, foreground=(1, 2, 3, 4))
    # When it is shaped for either Accept, Then it is refused (remove.bg has no link answer)
    for accept in ("*/*", "application/json"):
        with pytest.raises(ResultTooLarge, match="smaller size"):
            removebg_response(Removal(result=big, link=None, processing_ms=1.0), accept, "rid")


def test_throttling_in_removebg_shape_keeps_429_and_retry_after():
    # Given a throttling error on the remove.bg route
    from cutout.api.error_answers import error_response
    from cutout.errors import Throttled

    # When it is mapped, Then it stays a 429 with Retry-After, in remove.bg's shape
    response = error_response(Throttled("slow down"), "rid", removebg=True)
    assert response.status_code == 429 and response.headers["Retry-After"]
    assert json.loads(response.body)["errors"][0]["code"] == "throttled"


# --- privacy and the native route ----------------------------------------------------------
def test_a_non_opted_in_account_leaves_nothing_behind(removebg_gateway, caller, settings,
                                                      png_image):
    # Given an account that never opted in, When it gets an image and a JSON answer
    for accept in ("*/*", "application/json"):
        assert post_file(removebg_gateway, caller, png_image, accept=accept).status == 200
    # Then no bucket holds anything
    assert bucket_keys(settings.transient_bucket) == []
    assert bucket_keys(settings.training_bucket) == []


def test_an_opted_in_account_contributes_exactly_input_and_mask(removebg_gateway, caller,
                                                                accounts, settings, png_image):
    # Given an account that opted in to training
    accounts.set_opt_in(caller.account_id, True, changed_by="test")
    # When it uses the remove.bg route
    assert post_file(removebg_gateway, caller, png_image).status == 200
    # Then the same capture as on the native route: one input and one mask, nothing transient
    kept = bucket_keys(settings.training_bucket)
    assert len(kept) == 2 and any(key.endswith("mask.png") for key in kept)
    assert bucket_keys(settings.transient_bucket) == []


def test_logs_hold_no_key_and_no_image(removebg_gateway, caller, logs, png_image, jpeg_image):
    # Given requests in each form, a refused one included
    answers = [post_file(removebg_gateway, caller, jpeg_image),
               post_b64(removebg_gateway, caller, png_image, accept="application/json"),
               post_b64(removebg_gateway, caller, b"\x89PNG" + png_image[8:200])]
    assert [answer.status for answer in answers] == [200, 200, 400]
    # Then the logs and metrics carry none of the secrets or pixels
    text = logs.text()
    assert "background removed" in text
    assert_no_secrets(text, caller.secret, caller.key_hash, png_image, jpeg_image,
                      answers[0].body)


def test_the_native_route_keeps_its_own_error_shape(removebg_gateway, caller):
    # Given the function that now also serves remove.bg, When the native route is refused
    answer = removebg_gateway.request("POST", "/v1/remove-background", key=caller.secret,
                                      headers={"Content-Type": "application/json"},
                                      body=b'{"format": "png"}')
    # Then its error is in the native shape
    assert answer.status == 400
    assert answer.json()["error"]["code"] == "missing_source"
    assert "errors" not in answer.json()


# --- framing and outputs: scale, position, format=zip --------------------------------------
def test_scale_and_position_frame_the_subject_as_remove_bg_does(removebg_gateway, caller,
                                                                png_image):
    # Given the image as it comes, and asked for with the subject at 50% of the canvas
    plain = post_b64(removebg_gateway, caller, png_image, {"size": "full"})
    scaled = post_b64(removebg_gateway, caller, png_image, {"size": "full", "scale": "50%"})
    moved = post_b64(removebg_gateway, caller, png_image,
                     {"size": "full", "scale": "50%", "position": "0% 100%"})
    assert plain.status == scaled.status == moved.status == 200

    def box(answer):
        return tuple(int(answer.headers[f"X-Foreground-{side}"])
                     for side in ("Left", "Top", "Width", "Height"))
    # Then the canvas is the same size, and the subject's limiting side is half of it,
    # centred (scale implies position=center), or in the bottom-left corner
    width, height = picture(plain.body).size
    assert picture(scaled.body).size == (width, height)
    left, top, w, h = box(scaled)
    assert abs(max(w / width, h / height) - 0.5) < 0.02
    assert abs(left + w / 2 - width / 2) <= 2 and abs(top + h / 2 - height / 2) <= 2
    left, top, w2, h2 = box(moved)
    assert (w2, h2) == (w, h) and left == 0 and top + h2 == height


def test_format_zip_is_color_jpg_and_alpha_png(removebg_gateway, caller, png_image):
    import zipfile
    # When a cutout is asked for as remove.bg's zip
    answer = post_b64(removebg_gateway, caller, png_image, {"format": "zip"})
    # Then the answer is a zip of color.jpg and alpha.png of the answer's size
    assert answer.status == 200 and answer.headers["Content-Type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(answer.body)) as archive:
        assert archive.namelist() == ["color.jpg", "alpha.png"]
        color, alpha = (picture(archive.read(n)) for n in ("color.jpg", "alpha.png"))
    size = (int(answer.headers["X-Width"]), int(answer.headers["X-Height"]))
    assert color.size == alpha.size == size and (color.mode, alpha.mode) == ("RGB", "L")
