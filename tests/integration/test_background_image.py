"""A background image under the cutout, on both removal routes: remove.bg's `bg_image_file`
(multipart) and an upload (`bg_upload_id`), fitted as remove.bg fits it (centred, resized to
fill, aspect kept), bounded and decoded like the image, never kept; refused beside
`bg_color` and where it means nothing (a mask, a zip)."""

from __future__ import annotations

import base64
import io
import json
import sys

import pytest
import requests
from integration_support import ROOT, bucket_keys, multipart
from PIL import Image, ImageDraw

sys.path.insert(0, str(ROOT / "tests" / "unit"))  # the hostile corpus is shared with unit tests
import hostile_images  # noqa: E402

NATIVE = "/v1/remove-background"
REMOVEBG = "/v1.0/removebg"
MAGENTA, GREEN = (255, 0, 255), (0, 255, 0)


def halves(size: tuple[int, int] = (100, 50), fmt: str = "PNG") -> bytes:
    """A background whose left half is magenta and right half green."""
    image = Image.new("RGB", size, GREEN)
    ImageDraw.Draw(image).rectangle((0, 0, size[0] // 2 - 1, size[1]), fill=MAGENTA)
    buffer = io.BytesIO()
    image.save(buffer, fmt)
    return buffer.getvalue()


def post(gateway, caller, path, fields, files, accept="image/*"):
    body, content_type = multipart(fields, files)
    return gateway.request("POST", path, key=caller.secret, body=body,
                           headers={"Content-Type": content_type, "Accept": accept})


def with_background(gateway, caller, path, image, background, **fields):
    files = {"image_file": ("photo.png", image, None)}
    if background is not None:
        files["bg_image_file"] = ("bg.png", background, None)
    return post(gateway, caller, path, {"size": "full", **fields}, files)


def picture(answer) -> Image.Image:
    assert answer.status == 200, answer.body[:300]
    return Image.open(io.BytesIO(answer.body))


def near(pixel, colour, tolerance=12) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel[:3], colour, strict=True))


@pytest.mark.parametrize("path", [NATIVE, REMOVEBG])
def test_the_cutout_is_laid_on_the_background_fitted_as_remove_bg_fits_it(gateway, caller,
                                                                         png_image, path):
    # Given a disc photo (320x240) and a 100x50 background, magenta left and green right
    # When the background goes as bg_image_file
    image = picture(with_background(gateway, caller, path, png_image, halves(), format="png"))
    # Then the result is opaque and the photo's size
    assert image.size == (320, 240) and image.mode == "RGB"
    # And the background was scaled to fill (240 high -> 480 wide) and centred: its left half
    # shows at the left edge, its right half at the right edge, the disc in the middle
    assert near(image.getpixel((5, 120)), MAGENTA) and near(image.getpixel((314, 120)), GREEN)
    assert near(image.getpixel((160, 120)), (250, 200, 0))
    # And nothing of the photo's own background (30, 120, 200) is left in the corners
    assert not near(image.getpixel((5, 5)), (30, 120, 200), tolerance=40)


def test_format_auto_on_an_opaque_background_is_a_jpeg(gateway, caller, png_image):
    # Given remove.bg's default format (auto), When the cutout is laid on a background
    answer = with_background(gateway, caller, REMOVEBG, png_image, halves())
    # Then nothing is transparent, so the answer is a JPEG
    assert answer.headers["Content-Type"] == "image/jpeg"
    assert picture(answer).format == "JPEG"


def test_a_background_of_the_same_size_is_used_as_it_is(gateway, caller, png_image):
    # Given a background exactly the photo's size, half magenta half green
    # When it is used
    image = picture(with_background(gateway, caller, NATIVE, png_image, halves((320, 240)),
                                    format="png"))
    # Then it is not rescaled: the split stays at x = 160 (above the disc)
    assert near(image.getpixel((158, 10)), MAGENTA) and near(image.getpixel((162, 10)), GREEN)


def test_the_background_follows_crop_and_fills_the_cropped_canvas(gateway, caller, png_image):
    # Given crop to the subject, When a background is laid under it
    image = picture(with_background(gateway, caller, NATIVE, png_image, halves(), crop="true",
                                    format="png"))
    # Then the canvas is the crop's (about the disc's size) and the background fills it
    assert image.size[0] < 200 and image.size[1] < 160
    assert near(image.getpixel((0, image.size[1] // 2)), MAGENTA)


def test_a_translucent_background_stays_translucent_with_no_colour_under_alpha_0(
        gateway, caller, png_image):
    # Given a fully transparent background
    clear = io.BytesIO()
    Image.new("RGBA", (64, 64), (255, 0, 0, 0)).save(clear, "PNG")
    # When the cutout is laid on it as a PNG
    image = picture(with_background(gateway, caller, NATIVE, png_image, clear.getvalue(),
                                    format="png"))
    # Then the result keeps the transparency and carries no colour where nothing is seen
    assert image.mode == "RGBA" and image.getpixel((5, 5)) == (0, 0, 0, 0)


def test_a_background_by_upload_works_on_both_routes_and_the_upload_is_used_up(
        gateway, caller, png_image, settings):
    for path in (NATIVE, REMOVEBG):
        # Given a background sent through a signed upload
        upload = gateway.request("POST", "/v1/uploads", key=caller.secret).json()
        put = requests.put(upload["upload_url"], data=halves(), headers=upload["headers"],
                           timeout=10)
        assert put.status_code == 200
        # When a removal names it with bg_upload_id
        answer = post(gateway, caller, path, {"bg_upload_id": upload["upload_id"],
                                              "format": "png", "size": "full"},
                      {"image_file": ("photo.png", png_image, None)})
        # Then the cutout is on it, inline (the image itself came inline)
        image = picture(answer)
        assert near(image.getpixel((5, 120)), MAGENTA)
    # And no result was stored; only the uploads themselves, under the 24-hour rule
    assert all(key.startswith("uploads/") for key in bucket_keys(settings.transient_bucket))


def test_nothing_of_a_background_is_kept_even_for_an_opted_in_account(gateway, caller,
                                                                      accounts, settings,
                                                                      png_image):
    # Given an account that opted in to training
    accounts.set_opt_in(caller.account_id, True, changed_by="test")
    background = halves()
    # When it lays a cutout on a background
    assert with_background(gateway, caller, REMOVEBG, png_image, background).status == 200
    # Then the training store holds the input and its mask only, never the background
    kept = bucket_keys(settings.training_bucket)
    assert len(kept) == 2 and any(key.endswith("/input") for key in kept)
    assert bucket_keys(settings.transient_bucket) == []


def removebg_error(answer) -> dict:
    assert answer.status == 400, answer.body[:300]
    return answer.json()["errors"][0]


REFUSALS = {
    "beside bg_color": ({"bg_color": "white"}, "multiple_bg_sources"),
    "with channels=alpha": ({"channels": "alpha"}, "invalid_option"),
    "with format=zip": ({"format": "zip"}, "invalid_option"),
}


@pytest.mark.parametrize("case", REFUSALS, ids=list(REFUSALS))
def test_a_background_where_it_means_nothing_is_refused_before_anything_runs(
        gateway, caller, png_image, case):
    fields, code = REFUSALS[case]
    # When a background comes with options it cannot go with
    native = with_background(gateway, caller, NATIVE, png_image, halves(), **fields)
    removebg = with_background(gateway, caller, REMOVEBG, png_image, halves(), **fields)
    # Then both routes refuse with a stable code and a message that says what to do
    assert native.status == 400 and native.json()["error"]["code"] == code
    assert "background" in native.json()["error"]["message"]
    assert removebg_error(removebg)["code"] == code


def test_two_backgrounds_are_refused(gateway, caller, png_image):
    # Given a background file and an upload id at once
    answer = post(gateway, caller, REMOVEBG, {"bg_upload_id": "u" * 43},
                  {"image_file": ("photo.png", png_image, None),
                   "bg_image_file": ("bg.png", halves(), None)})
    # Then remove.bg's multiple_bg_sources
    assert removebg_error(answer)["code"] == "multiple_bg_sources"


def test_a_background_that_is_not_an_image_is_refused_as_the_image_would_be(gateway, caller,
                                                                            png_image):
    # Given a background that is no image
    native = with_background(gateway, caller, NATIVE, png_image, b"\x89PNG" + b"x" * 300)
    removebg = with_background(gateway, caller, REMOVEBG, png_image, b"\x89PNG" + b"x" * 300)
    # Then the same refusal an undecodable image gets on each route
    assert native.status == 422 and native.json()["error"]["code"] == "undecodable_image"
    assert removebg_error(removebg)["code"] == "unknown_format"


def test_a_background_bomb_is_refused_from_its_structure(gateway, caller, png_image):
    # Given a background whose chunks promise unbounded decoding work
    bomb = hostile_images.png_with_chunks(100_000)
    # When it is sent as the background, Then it is refused as an input bomb is
    answer = with_background(gateway, caller, NATIVE, png_image, bomb)
    assert answer.status == 422 and answer.json()["error"]["code"] == "image_too_complex"


def test_a_background_upload_of_another_account_is_not_found(gateway, caller, other_caller,
                                                             png_image):
    # Given an upload made by another account
    upload = gateway.request("POST", "/v1/uploads", key=other_caller.secret).json()
    requests.put(upload["upload_url"], data=halves(), headers=upload["headers"], timeout=10)
    # When this account names it as its background
    answer = post(gateway, caller, NATIVE, {"bg_upload_id": upload["upload_id"]},
                  {"image_file": ("photo.png", png_image, None)})
    # Then it is not found: uploads are account-bound
    assert answer.status == 404 and answer.json()["error"]["code"] == "upload_not_found"


def test_bg_image_file_must_be_a_file_part(gateway, caller, png_image):
    # Given bg_image_file as a JSON string (remove.bg defines it for multipart only)
    body = json.dumps({"image_file_b64": base64.b64encode(png_image).decode(),
                       "bg_image_file": "x"})
    answer = gateway.request("POST", REMOVEBG, key=caller.secret, body=body,
                             headers={"Content-Type": "application/json"})
    # Then a 400 that says to send a file part or an upload
    error = removebg_error(answer)
    assert error["code"] == "invalid_request" and "bg_upload_id" in error["detail"]

