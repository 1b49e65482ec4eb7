"""The whole engine on the real model: each option end to end, metadata and timings."""

import io

import numpy as np
import pytest
from engine_fixtures import PHOTOS, SUBJECT, decoded, disc_picture, encoded
from PIL import Image

from cutout.engine import RemovalOptions
from cutout.errors import ImageTooLarge, UndecodableImage

STAGES = {"decode", "infer", "mask", "compose", "encode", "total"}


def remove(engine, data, **params):
    return engine.remove(data, RemovalOptions.from_params(params))


def test_cutout_finds_the_subject_and_clears_the_background(engine):
    result = remove(engine, encoded(disc_picture()))
    image = decoded(result.data)
    assert (image.format, image.mode, image.size) == ("PNG", "RGBA", (400, 300))
    assert result.content_type == "image/png" and result.extension == "png"
    left, top, width, height = result.foreground
    assert abs(left - 30) <= 4 and abs(top - 80) <= 4 and abs(width - 140) <= 8
    pixels = np.asarray(image)
    assert pixels[150, 100, 3] > 240 and tuple(pixels[150, 100, :3]) == SUBJECT
    assert tuple(pixels[20, 300]) == (0, 0, 0, 0)
    assert set(result.timings) == STAGES and all(v >= 0 for v in result.timings.values())


def test_real_photo_background_is_unrecoverable(engine):
    result = remove(engine, (PHOTOS / "chelsea.jpg").read_bytes())
    pixels = np.asarray(decoded(result.data))
    transparent = pixels[..., 3] == 0
    assert transparent.mean() > 0.05
    assert not pixels[transparent][:, :3].any()


@pytest.mark.parametrize(
    "fmt, content_type, pil_format",
    [("png", "image/png", "PNG"), ("webp", "image/webp", "WEBP"), ("jpg", "image/jpeg", "JPEG")],
)
def test_output_formats(engine, fmt, content_type, pil_format):
    result = remove(engine, encoded(disc_picture()), format=fmt)
    assert result.content_type == content_type and decoded(result.data).format == pil_format


def test_alpha_channel_only(engine):
    image = decoded(remove(engine, encoded(disc_picture()), channels="alpha").data)
    assert image.mode == "L" and image.getpixel((100, 150)) > 240 and image.getpixel((300, 20)) == 0


def test_preview_size_and_max_side(engine):
    big = encoded(disc_picture((1600, 1200), box=(100, 300, 700, 900)), "JPEG")
    preview = remove(engine, big, size="preview")
    assert preview.width * preview.height <= 250_000
    assert (remove(engine, big, size="800").width, remove(engine, big, size="800").height) == (
        800,
        600,
    )


def test_crop_with_margin_reports_the_box_in_output_pixels(engine):
    result = remove(engine, encoded(disc_picture()), crop=True, crop_margin="10")
    image = decoded(result.data)
    assert image.size == (result.width, result.height)
    assert result.foreground[:2] == (10, 10)
    assert result.width == result.foreground[2] + 20


def test_bg_color_flattens(engine):
    image = decoded(remove(engine, encoded(disc_picture()), bg_color="#0000ff").data)
    assert image.mode == "RGB" and image.getpixel((300, 20)) == (0, 0, 255)


def test_exif_rotated_photo_comes_out_upright(engine):
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 CW on display
    data = encoded(
        disc_picture((400, 300), box=(20, 20, 120, 120)), "JPEG", quality=95, exif=exif.tobytes()
    )
    result = remove(engine, data)
    assert (result.width, result.height) == (300, 400)
    left, top, _, _ = result.foreground
    assert left > 150 and top < 50  # the subject is now top-right


def test_keep_mask_returns_the_final_alpha_as_png(engine):
    result = engine.remove(encoded(disc_picture()), RemovalOptions(), keep_mask=True)
    mask = decoded(result.mask_png)
    assert mask.mode == "L" and mask.size == (400, 300)
    assert np.array_equal(np.asarray(mask), np.asarray(decoded(result.data).getchannel("A")))
    assert engine.remove(encoded(disc_picture()), RemovalOptions()).mask_png is None


def test_cmyk_and_sixteen_bit_inputs_go_through(engine):
    cmyk = disc_picture().convert("CMYK")
    assert remove(engine, encoded(cmyk, "JPEG")).width == 400
    grey16 = np.asarray(disc_picture().convert("L"), dtype=np.uint16) * 257
    assert remove(engine, encoded(Image.fromarray(grey16), "PNG")).foreground is not None


def test_bad_inputs_raise_typed_errors(engine):
    with pytest.raises(UndecodableImage):
        remove(engine, b"\xff\xd8\xff\xe0 truncated jpeg")
    with pytest.raises(ImageTooLarge):
        engine.__class__(engine.model, max_pixels=1000).remove(encoded(disc_picture()))


def test_the_engine_keeps_nothing_between_requests(engine):
    # Given two different images through the same warm engine
    state_before = dict(vars(engine))
    first = remove(engine, (PHOTOS / "coffee.jpg").read_bytes())
    second = remove(engine, encoded(disc_picture()))
    # Then the engine's state is exactly what it was, and results are independent
    assert dict(vars(engine)) == state_before
    assert second.width == 400 and first.width == 600
    assert second.data == remove(engine, encoded(disc_picture())).data


def test_output_carries_no_input_metadata(engine):
    exif = Image.Exif()
    exif[0x010F] = "SecretCameraMaker"
    data = encoded(disc_picture(), "JPEG", exif=exif.tobytes(), comment=b"confidential")
    for fmt in ("png", "webp", "jpg"):
        output = remove(engine, data, format=fmt).data
        assert b"SecretCameraMaker" not in output and b"confidential" not in output
    assert isinstance(io.BytesIO(output), io.BytesIO)


@pytest.mark.parametrize(
    "params",
    [{"format": "png"}, {"format": "webp"}, {"format": "png", "bg_color": "#00ff0000"},
     {"format": "webp", "bg_color": "#ff000000"}, {"format": "png", "crop": True,
                                                   "crop_margin": "40"}],
)
def test_no_output_format_carries_colour_under_transparent_pixels(engine, params):
    # Given a real photo, cut out in every format and option that keeps transparency
    result = remove(engine, (PHOTOS / "coffee.jpg").read_bytes(), **params)
    pixels = np.asarray(decoded(result.data).convert("RGBA"))
    transparent = pixels[..., 3] == 0
    # Then where alpha is 0 the colour is 0: the background cannot be recovered
    assert transparent.any()
    assert not pixels[transparent][:, :3].any()


def test_a_large_rotated_jpeg_is_upright_through_the_reduced_decode_path(engine):
    # Given a large JPEG stored sideways with "rotate 90 CW" in its EXIF (subject top-left)
    exif = Image.Exif()
    exif[0x0112] = 6
    picture = disc_picture((2600, 2000), box=(100, 100, 700, 700))
    data = encoded(picture, "JPEG", quality=90, exif=exif.tobytes())
    # When its background is removed (the model sees a reduced decode)
    result = remove(engine, data, channels="alpha")
    # Then the output is upright at full size and the subject is top-right
    assert (result.width, result.height) == (2000, 2600)
    left, top, width, _ = result.foreground
    assert left > 1000 and top < 200 and width > 400
