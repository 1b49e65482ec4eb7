"""format=auto and format=zip on the real model: what each picks and holds, and that the
zip's colour carries nothing of the removed background."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest
from engine_fixtures import PHOTOS, SUBJECT, decoded, disc_picture, encoded
from PIL import Image

from cutout.engine import RemovalOptions
from cutout.engine.compose import output_format
from cutout.errors import InvalidOption


def remove(engine, data, **params):
    return engine.remove(data, RemovalOptions.from_params(params))


def unzip(data: bytes) -> tuple[list[str], Image.Image, Image.Image]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.namelist()
        color, alpha = (decoded(archive.read(name)) for name in ("color.jpg", "alpha.png"))
    return names, color, alpha


def test_auto_is_png_for_a_cutout_with_transparency(engine):
    result = remove(engine, encoded(disc_picture()), format="auto")
    assert (result.content_type, result.extension) == ("image/png", "png")
    assert decoded(result.data).mode == "RGBA"


def test_auto_is_jpg_on_an_opaque_colour(engine):
    result = remove(engine, encoded(disc_picture()), format="auto", bg_color="white")
    assert (result.content_type, result.extension) == ("image/jpeg", "jpg")
    assert decoded(result.data).format == "JPEG"


def test_auto_stays_png_on_a_translucent_colour_and_for_a_mask(engine):
    data = encoded(disc_picture())
    assert remove(engine, data, format="auto", bg_color="#ffffff80").extension == "png"
    assert remove(engine, data, format="auto", channels="alpha").extension == "png"


def test_auto_decides_by_the_pixels_not_the_options():
    # Given compositions with and without a transparent pixel
    options = RemovalOptions.from_params({"format": "auto"})
    opaque = Image.new("RGBA", (4, 4), (1, 2, 3, 255))
    one_clear = opaque.copy()
    one_clear.putpixel((0, 0), (0, 0, 0, 254))
    # Then only the one with transparency is PNG
    assert output_format(opaque, options) == "jpg"
    assert output_format(one_clear, options) == "png"
    assert output_format(Image.new("RGB", (4, 4)), options) == "jpg"


def test_zip_is_remove_bg_s_layout(engine):
    # When a cutout is asked for as zip
    result = remove(engine, encoded(disc_picture()), format="zip")
    assert (result.content_type, result.extension) == ("application/zip", "zip")
    names, color, alpha = unzip(result.data)
    # Then it holds color.jpg (RGB) and alpha.png (grey), of the result's size
    assert names == ["color.jpg", "alpha.png"]
    assert (color.format, color.mode, alpha.format, alpha.mode) == ("JPEG", "RGB", "PNG", "L")
    assert color.size == alpha.size == (result.width, result.height) == (400, 300)
    # And together they are the cutout: the subject opaque in its colour, the rest clear
    assert alpha.getpixel((100, 150)) > 240 and alpha.getpixel((300, 20)) == 0
    assert all(abs(a - b) <= 6 for a, b in zip(color.getpixel((100, 150)), SUBJECT,
                                                strict=True))
    # And the alpha is the PNG cutout's own
    png = decoded(remove(engine, encoded(disc_picture()), format="png").data)
    assert np.array_equal(np.asarray(png.getchannel("A")), np.asarray(alpha))


def test_zip_color_carries_no_background_under_transparent_pixels(engine):
    # Given a real photo (remove.bg's own color.jpg is the whole input, background and all)
    photo = (PHOTOS / "coffee.jpg").read_bytes()
    original = np.asarray(decoded(photo).convert("RGB")).astype(int)
    result = remove(engine, photo, format="zip")
    _, color, alpha = unzip(result.data)
    pixels, matte = np.asarray(color).astype(int), np.asarray(alpha)
    transparent = matte == 0
    assert transparent.mean() > 0.05 and pixels.shape == original.shape
    # Then where the matte is 0 the colour is black (JPEG's ringing near the subject aside),
    # never the photo's background
    assert np.percentile(pixels[transparent], 99) <= 8
    background = original[transparent]
    assert background.mean() > 40  # the photo's background is not black itself
    assert np.abs(pixels[transparent] - background).mean() > 30


def test_zip_with_a_crop_and_size_keeps_the_two_members_aligned(engine):
    result = remove(engine, encoded(disc_picture()), format="zip", crop=True, size="200")
    _, color, alpha = unzip(result.data)
    assert color.size == alpha.size == (result.width, result.height)
    assert max(color.size) <= 200


@pytest.mark.parametrize("params", [{"bg_color": "white"}, {"channels": "alpha"}])
def test_zip_refuses_what_it_cannot_carry(params):
    with pytest.raises(InvalidOption, match="format zip"):
        RemovalOptions.from_params({"format": "zip", **params})
