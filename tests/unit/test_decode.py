"""Decoding untrusted bytes: formats, orientation, colour, modes, and every bad input."""

import io

import numpy as np
import pytest
from engine_fixtures import BACKGROUND, SUBJECT, disc_picture, encoded
from icc_profile import wide_gamut_profile
from PIL import Image, ImageCms

from cutout.engine.decode import decode_image
from cutout.errors import ImageTooLarge, UndecodableImage

LIMIT = 36_000_000


@pytest.mark.parametrize(
    "fmt, options",
    [
        ("JPEG", {"quality": 95}),
        ("PNG", {}),
        ("WEBP", {"lossless": True}),
        ("TIFF", {}),
        ("BMP", {}),
        ("GIF", {}),
    ],
)
def test_every_supported_format_decodes_to_rgb(fmt, options):
    data = encoded(disc_picture(), fmt, **options)
    result = decode_image(data, LIMIT)
    assert result.rgb.mode == "RGB" and result.size == (400, 300)
    assert result.source_format == fmt
    assert result.alpha is None


def test_gif_gives_its_first_frame():
    first, second = Image.new("RGB", (40, 30), "red"), Image.new("RGB", (40, 30), "blue")
    buffer = io.BytesIO()
    first.save(buffer, "GIF", save_all=True, append_images=[second])
    assert decode_image(buffer.getvalue(), LIMIT).rgb.getpixel((5, 5)) == (255, 0, 0)


def test_exif_orientation_is_applied():
    # Given a landscape picture stored with "rotate 90 CW" in its EXIF
    picture = disc_picture((400, 300), box=(10, 10, 60, 60))  # subject top-left
    exif = Image.Exif()
    exif[0x0112] = 6
    data = encoded(picture, "JPEG", quality=95, exif=exif.tobytes())
    # When decoded
    result = decode_image(data, LIMIT)
    # Then it is portrait and the subject moved to the top-right corner
    assert result.size == (300, 400)
    assert _close(result.rgb.getpixel((300 - 35, 35)), SUBJECT)
    assert _close(result.rgb.getpixel((35, 35)), BACKGROUND)


def test_embedded_icc_profile_is_converted_to_srgb():
    # Given pixels tagged with a wide-gamut (Adobe RGB-like) profile
    picture = disc_picture()
    profile = ImageCms.ImageCmsProfile(io.BytesIO(wide_gamut_profile()))
    data = encoded(picture, "PNG", icc_profile=wide_gamut_profile())
    # When decoded / Then the colours are what a colour-managed viewer shows in sRGB
    expected = ImageCms.profileToProfile(picture, profile, ImageCms.createProfile("sRGB"))
    assert np.array_equal(np.asarray(decode_image(data, LIMIT).rgb), np.asarray(expected))
    assert not np.array_equal(np.asarray(expected), np.asarray(picture))


def test_broken_icc_profile_does_not_make_the_image_unreadable():
    data = encoded(disc_picture(), "PNG", icc_profile=b"not a profile at all")
    assert decode_image(data, LIMIT).rgb.getpixel((5, 5)) == BACKGROUND


def test_cmyk_jpeg_decodes_to_the_right_colours():
    cmyk = Image.new("CMYK", (60, 40), (0, 255, 255, 0))  # pure red in CMYK
    rgb = decode_image(encoded(cmyk, "JPEG", quality=95), LIMIT).rgb
    assert _close(rgb.getpixel((30, 20)), (255, 0, 0), tolerance=12)


def test_sixteen_bit_greyscale_is_scaled_not_clipped():
    # Given a 16-bit grey PNG at 40000 of 65535 (about 61 %)
    pixels = np.full((20, 30), 40000, dtype=np.uint16)
    data = encoded(Image.fromarray(pixels), "PNG")
    # Then the 8-bit value is about 156, where a naive convert would clip to 255
    assert decode_image(data, LIMIT).rgb.getpixel((5, 5)) == (156, 156, 156)


@pytest.mark.parametrize("mode", ["L", "LA", "P", "RGBA"])
def test_other_modes_decode(mode):
    picture = disc_picture().convert(mode)
    result = decode_image(encoded(picture, "PNG"), LIMIT)
    assert result.rgb.mode == "RGB" and result.size == (400, 300)


def test_input_alpha_is_kept_apart_from_the_colour():
    picture = disc_picture().convert("RGBA")
    picture.putalpha(Image.new("L", picture.size, 128))
    result = decode_image(encoded(picture, "PNG"), LIMIT)
    assert result.alpha is not None and result.alpha.getpixel((5, 5)) == 128
    assert result.rgb.getpixel((5, 5)) == BACKGROUND


def test_palette_transparency_becomes_alpha():
    picture = disc_picture().convert("P")
    index = picture.getpixel((5, 5))
    result = decode_image(encoded(picture, "PNG", transparency=index), LIMIT)
    assert result.alpha is not None and result.alpha.getpixel((5, 5)) == 0


def test_pixel_bomb_is_refused_before_decoding():
    # Given a PNG whose header says 8000x6000 (48 MP) but which is tiny on the wire
    data = encoded(Image.new("L", (8000, 6000)), "PNG")
    assert len(data) < 100_000
    # Then it is refused by pixel count, with the limit in the message
    with pytest.raises(ImageTooLarge, match="8000x6000"):
        decode_image(data, LIMIT)


def test_configured_pixel_limit_applies():
    with pytest.raises(ImageTooLarge):
        decode_image(encoded(disc_picture(), "PNG"), max_pixels=100_000)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"hello, this is not an image",
        b"%PDF-1.4 not an image",
        b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\n",
    ],
    ids=["empty", "text", "pdf", "eps"],
)
def test_non_images_are_undecodable(data):
    with pytest.raises(UndecodableImage):
        decode_image(data, LIMIT)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_truncated_images_are_undecodable(fmt):
    data = encoded(disc_picture(), fmt)
    with pytest.raises(UndecodableImage):
        decode_image(data[: len(data) // 2], LIMIT)


def _close(pixel, expected, tolerance=8):
    return all(abs(int(a) - int(b)) <= tolerance for a, b in zip(pixel, expected, strict=False))


def test_large_jpeg_can_be_decoded_reduced_for_the_model():
    data = encoded(disc_picture((2600, 2000), box=(200, 200, 1200, 1200)), "JPEG")
    reduced = decode_image(data, LIMIT, at_least=(640, 640))
    assert reduced.reduced and reduced.size == (1300, 1000)
    assert not decode_image(data, LIMIT).reduced
    png = decode_image(encoded(disc_picture((2600, 2000)), "PNG"), LIMIT, at_least=(640, 640))
    assert not png.reduced and png.size == (2600, 2000)


# --- HEIC/HEIF (libheif, through pillow-heif) and AVIF (libavif, Pillow's own) -----------
@pytest.mark.parametrize("fmt", ["HEIF", "AVIF"])
def test_heic_and_avif_decode_to_rgb(fmt):
    # Given a picture as an iPhone (HEIC) or a modern browser (AVIF) would send it
    data = encoded(disc_picture(), fmt, quality=90)
    # When decoded, Then it is the picture, colours within lossy coding's reach
    result = decode_image(data, LIMIT)
    assert result.rgb.mode == "RGB" and result.size == (400, 300)
    assert result.source_format == fmt and result.alpha is None
    assert _close(result.rgb.getpixel((100, 150)), SUBJECT, 16)
    assert _close(result.rgb.getpixel((350, 20)), BACKGROUND, 16)


@pytest.mark.parametrize("fmt", ["HEIF", "AVIF"])
def test_heic_and_avif_orientation_is_applied_once(fmt):
    # Given a landscape picture stored with "rotate 90 CW" (libheif writes it as irot and
    # resets the EXIF tag; libavif keeps it in the EXIF block)
    picture = disc_picture((400, 300), box=(10, 10, 60, 60))  # subject top-left
    exif = Image.Exif()
    exif[0x0112] = 6
    data = encoded(picture, fmt, quality=95, exif=exif.tobytes())
    # When decoded, Then it is portrait with the subject top-right: turned once, not twice
    result = decode_image(data, LIMIT)
    assert result.size == (300, 400)
    assert _close(result.rgb.getpixel((300 - 35, 35)), SUBJECT, 16)
    assert _close(result.rgb.getpixel((35, 35)), BACKGROUND, 16)


@pytest.mark.parametrize("fmt", ["HEIF", "AVIF"])
def test_heic_and_avif_icc_profile_is_converted_to_srgb(fmt):
    # Given pixels tagged with a wide-gamut profile (an iPhone tags Display P3)
    picture = disc_picture()
    profile = ImageCms.ImageCmsProfile(io.BytesIO(wide_gamut_profile()))
    data = encoded(picture, fmt, quality=100, icc_profile=wide_gamut_profile())
    # When decoded, Then the colours are the profile's, converted to sRGB
    expected = ImageCms.profileToProfile(picture, profile, ImageCms.createProfile("sRGB"))
    got = decode_image(data, LIMIT).rgb
    assert _close(got.getpixel((100, 150)), expected.getpixel((100, 150)), 12)
    assert not _close(expected.getpixel((100, 150)), SUBJECT, 12)


@pytest.mark.parametrize("fmt", ["HEIF", "AVIF"])
def test_heic_and_avif_alpha_is_kept_apart_from_the_colour(fmt):
    picture = disc_picture().convert("RGBA")
    picture.putalpha(Image.new("L", picture.size, 128))
    result = decode_image(encoded(picture, fmt, quality=100), LIMIT)
    assert result.alpha is not None and abs(result.alpha.getpixel((5, 5)) - 128) <= 4


@pytest.mark.parametrize("fmt", ["HEIF", "AVIF"])
def test_truncated_heic_and_avif_are_undecodable(fmt):
    data = encoded(disc_picture(), fmt)
    for cut in (len(data) // 2, len(data) - 16):
        with pytest.raises(UndecodableImage):
            decode_image(data[:cut], LIMIT)


def test_a_fresh_process_loads_only_the_plugins_it_opens(tmp_path):
    """Cold start: decoding each accepted format and encoding each output never imports the
    other ~40 plugins (Image.init() would); an MPO still opens, and a HEIC after them."""
    import subprocess
    import sys
    from pathlib import Path

    picture = Image.new("RGB", (32, 24), (200, 40, 40))
    for fmt in ("JPEG", "PNG", "WEBP", "GIF", "TIFF", "BMP"):
        picture.save(tmp_path / f"in.{fmt.lower()}", fmt)
    picture.save(tmp_path / "in.mpo", "MPO", save_all=True, append_images=[picture])
    layers = Path(__file__).resolve().parents[2] / "layers"
    code = (
        "import pathlib, sys\n"
        "from PIL import Image\n"
        "from cutout.engine.decode import decode_image\n"
        "from cutout.engine.encode import encode\n"
        "for path in sorted(pathlib.Path(sys.argv[1]).iterdir()):\n"
        "    decode_image(path.read_bytes(), 10**6)\n"
        "for fmt, mode in (('png', 'RGBA'), ('webp', 'RGBA'), ('jpg', 'RGB')):\n"
        "    encode(Image.new(mode, (8, 8)), fmt)\n"
        "print(sorted(m for m in sys.modules if m.endswith('ImagePlugin')\n"
        "             or m in ('pillow_heif', 'PIL.ImageCms', 'zipfile')))\n"
        "print(decode_image(sys.stdin.buffer.read(), 10**6).source_format)\n"
    )
    heic = encoded(picture, "HEIF")
    loaded, heic_format = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)], capture_output=True, input=heic,
        env={"PYTHONPATH": str(layers)}, check=True).stdout.decode().splitlines()
    assert "PIL.MpoImagePlugin" in loaded  # the MPO went through JPEG's opener
    for plugin in ("Eps", "Pdf", "Psd", "Dds", "Ico", "Xbm"):
        assert f"PIL.{plugin}ImagePlugin" not in loaded, loaded
    # HEIF's opener, colour management and the zip writer wait for a picture that needs them
    for module in ("pillow_heif", "PIL.ImageCms", "zipfile"):
        assert module not in loaded, loaded
    assert heic_format == "HEIF"  # and the first HEIC brings pillow-heif's opener in
