"""Decode work is bounded before decoding: scan, chunk and frame bombs are refused (422),
and what real encoders write never is."""

from __future__ import annotations

import contextlib
import io

import hostile_images as hostile
import pytest
from engine_fixtures import PHOTOS, disc_picture, encoded
from PIL import Image

from cutout.engine.decode import decode_image, register_heif
from cutout.engine.decode_limits import (
    MAX_CHUNKS,
    MAX_FRAMES,
    MAX_HEIF_ITEMS,
    MAX_ITEM_PIXELS_FACTOR,
    MAX_JPEG_SCANS,
    MAX_JPEG_SEGMENTS,
    check_decode_work,
)
from cutout.errors import ImageTooComplex, ImageTooLarge, UndecodableImage

LIMIT = 36_000_000

HOSTILE = {
    "jpeg last scan repeated 600 times": lambda: hostile.jpeg_scan_bomb(6000, 600),
    "jpeg with 1.5 million empty segments": lambda: hostile.jpeg_with_segments(1_500_000),
    "png with 500k chunks before IDAT": lambda: hostile.png_with_chunks(500_000),
    "png with 500k chunks after IDAT": lambda: hostile.png_with_chunks(500_000, where="after"),
    "png with IDAT in 1-byte chunks": lambda: hostile.png_with_split_idat(6000, 1),
    "apng with 10k frames": lambda: hostile.apng_frames(10_000),
    "gif with 10k frames": lambda: hostile.gif_frames(10_000),
    "webp with 10k frames": lambda: hostile.webp_frames(10_000),
    "tiff with 10k pages": lambda: hostile.tiff_pages(10_000),
    "avif declaring a million frames": lambda: hostile.avif_frames(1_000_000),
    "heic with 10k items": lambda: hostile.heif_with_items(10_000),
    "avif with 10k items": lambda: hostile.heif_with_items(10_000, fmt="AVIF"),
    # each item within the pixel limit, all of them five times over it: a tile bomb
    "heic of five 36 MP tiles": lambda: hostile.heif_with_items(5, (6000, 6000)),
    "avif of five 36 MP tiles": lambda: hostile.heif_with_items(5, (6000, 6000), "AVIF"),
}


@pytest.mark.parametrize("case", HOSTILE, ids=list(HOSTILE))
def test_a_hostile_input_is_refused_as_too_complex_before_decoding(case):
    # Given a small file whose structure promises work far beyond its size
    data = HOSTILE[case]()
    # When it is decoded, Then it is refused with a stable 4xx code that says why
    with pytest.raises(ImageTooComplex) as refused:
        decode_image(data, LIMIT)
    assert (refused.value.status, refused.value.code) == (422, "image_too_complex")
    assert "more than" in refused.value.message


def test_the_reviewed_scan_bomb_is_the_247_kb_file():
    # Given the review's input: 6000x6000 progressive, last scan repeated 600 times
    data = hostile.jpeg_scan_bomb(6000, 600)
    # Then it is the size the review reported, and within the pixel limit
    assert 240_000 < len(data) < 255_000
    assert Image.open(io.BytesIO(data)).size == (6000, 6000)


def _jpeg_with_scans(count: int) -> bytes:
    # libjpeg's colour script writes 10 scans; repeat the last one to reach `count`
    return hostile.jpeg_scan_bomb(64, count - 10)


@pytest.mark.parametrize("build, limit", [
    (_jpeg_with_scans, MAX_JPEG_SCANS),
    (hostile.jpeg_with_segments, MAX_JPEG_SEGMENTS),
    (lambda n: hostile.png_with_chunks(n - 3), MAX_CHUNKS),  # IHDR, IDAT, IEND
    (hostile.apng_frames, MAX_FRAMES),
    (hostile.gif_frames, MAX_FRAMES),
    (hostile.webp_frames, MAX_FRAMES),
    (hostile.tiff_pages, MAX_FRAMES),
    (hostile.avif_frames, MAX_FRAMES),
    (lambda n: hostile.heif_with_items(n - 1), MAX_HEIF_ITEMS),  # the primary image is one
    (lambda n: hostile.heif_with_items(n - 1, fmt="AVIF"), MAX_HEIF_ITEMS),
], ids=["jpeg scans", "jpeg segments", "png chunks", "apng frames", "gif frames",
        "webp frames", "tiff pages", "avif frames", "heic items", "avif items"])
def test_each_limit_admits_its_value_and_refuses_one_more(build, limit):
    # Given an input exactly at the limit, When checked, Then it passes
    check_decode_work(build(limit))
    # Given one more, Then it is refused
    with pytest.raises(ImageTooComplex):
        check_decode_work(build(limit + 1))


def _pillow(fmt: str, image: Image.Image | None = None, **options) -> bytes:
    return encoded(image or disc_picture(), fmt, **options)


def _animated(fmt: str, frames: int, **options) -> bytes:
    colours = [(i * 7 % 256, 90, 200 - i % 200) for i in range(frames)]
    images = [Image.new("RGB", (60, 40), colour) for colour in colours]
    if fmt == "HEIF":
        register_heif()
    buffer = io.BytesIO()
    images[0].save(buffer, fmt, save_all=True, append_images=images[1:], duration=40,
                   **options)
    return buffer.getvalue()


REAL = {
    "progressive colour jpeg": lambda: _pillow("JPEG", progressive=True, quality=90),
    "progressive grey jpeg": lambda: _pillow("JPEG", disc_picture().convert("L"),
                                             progressive=True),
    "progressive cmyk jpeg (18 scans)": lambda: _pillow("JPEG", disc_picture().convert("CMYK"),
                                                        progressive=True),
    "optimised jpeg with exif": lambda: _pillow("JPEG", optimize=True,
                                                exif=Image.Exif().tobytes()),
    "photo": lambda: (PHOTOS / "astronaut.jpg").read_bytes(),
    "png": lambda: _pillow("PNG"),
    "16-bit png": lambda: _pillow("PNG", Image.new("I;16", (300, 200), 40000)),
    "apng of 200 frames": lambda: _animated("PNG", 200),
    "gif of 200 frames": lambda: _animated("GIF", 200),
    "webp of 200 frames": lambda: _animated("WEBP", 200, lossless=True),
    "tiff of 50 pages": lambda: _animated("TIFF", 50),
    "webp": lambda: _pillow("WEBP", quality=80),
    "bmp": lambda: _pillow("BMP"),
    "heic": lambda: _pillow("HEIF", quality=80),
    "heic with alpha": lambda: _pillow("HEIF", disc_picture().convert("RGBA")),
    "avif": lambda: _pillow("AVIF", quality=80),
    "avif with alpha": lambda: _pillow("AVIF", disc_picture().convert("RGBA")),
    "avif of 50 frames": lambda: _animated("AVIF", 50),
    "heic of 10 images": lambda: _animated("HEIF", 10),
}


@pytest.mark.parametrize("case", REAL, ids=list(REAL))
def test_what_real_encoders_write_is_never_refused(case):
    # Given the output of a real encoder (Pillow's libjpeg, libpng-style, libwebp, giflib-style)
    data = REAL[case]()
    # When checked and decoded, Then nothing is refused
    check_decode_work(data)
    assert decode_image(data, LIMIT).size[0] > 0


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "GIF", "WEBP", "TIFF", "HEIF", "AVIF"])
def test_a_truncated_or_garbled_file_is_left_to_the_decoder(fmt):
    # Given every truncation and a few corruptions of a real file
    data = _animated(fmt, 3) if fmt != "JPEG" else _pillow("JPEG", progressive=True)
    step = max(1, len(data) // 300)
    variants = [data[:cut] for cut in range(0, len(data), step)]
    variants += [data[:at] + b"\xff" * 8 + data[at + 8:] for at in range(0, len(data), step * 7)]
    for variant in variants:
        # When checked, Then the walk never fails on its own (no struct/index errors): a
        # garbled count may be refused, as any count over its limit is ...
        with contextlib.suppress(ImageTooComplex):
            check_decode_work(variant)
        # ... and the decoder answers for what it cannot read (a garbled size is too large)
        with contextlib.suppress(UndecodableImage, ImageTooLarge, ImageTooComplex):
            decode_image(variant, LIMIT)


@pytest.mark.parametrize("fmt", ["HEIF", "AVIF"])
def test_a_heif_or_avif_declaring_more_pixels_than_the_limit_is_refused_unread(fmt):
    # Given a tiny real file whose ispe declares 60000 x 60000 (3.6 GP)
    data = hostile.heif_declaring(60_000, 60_000, fmt)
    assert len(data) < 1_000
    # When checked against the pixel limit, Then it is too large, from the header alone
    with pytest.raises(ImageTooLarge) as refused:
        check_decode_work(data, LIMIT)
    assert "3,600,000,000 pixels" in refused.value.message
    # And decode_image refuses it the same way
    with pytest.raises(ImageTooLarge):
        decode_image(data, LIMIT)


@pytest.mark.parametrize("fmt", ["HEIF", "AVIF"])
def test_the_items_pixel_bound_admits_its_value_and_refuses_more(fmt):
    # Given extra items that add up to the bound (the primary image is 64 x 48 or 64 x 64)
    small = 100 * 100
    within = hostile.heif_with_items(MAX_ITEM_PIXELS_FACTOR - 1, (100, 100), fmt)
    # When checked with a limit of one such item, Then the file passes
    check_decode_work(within, small)
    # And one more such item is over it
    with pytest.raises(ImageTooComplex):
        check_decode_work(hostile.heif_with_items(MAX_ITEM_PIXELS_FACTOR, (100, 100), fmt),
                          small)
