"""The fast PNG writer produces standard files every decoder reads, bit for bit."""

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from cutout.engine.png import encode_png


@pytest.mark.parametrize("channels", [1, 2, 3, 4])
def test_roundtrip_every_colour_type(channels):
    pixels = np.random.default_rng(channels).integers(0, 256, (37, 53, channels), dtype=np.uint8)
    decoded = np.asarray(Image.open(io.BytesIO(encode_png(pixels))))
    assert np.array_equal(decoded.reshape(pixels.shape), pixels)


def test_large_images_are_deflated_in_parallel_slices_yet_form_one_valid_stream():
    # Given an image big enough to be split into several slices
    rng = np.random.default_rng(7)
    pixels = np.repeat(rng.integers(0, 256, (1500, 1, 4), dtype=np.uint8), 1200, axis=1)
    data = encode_png(pixels)
    # Then zlib itself (not only Pillow) accepts the single IDAT stream and its checksum
    assert data.count(b"IDAT") == 1
    length = struct.unpack(">I", data[33:37])[0]
    raw = zlib.decompress(data[41 : 41 + length])
    assert len(raw) == 1500 * (1200 * 4 + 1)
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(data))), pixels)


def test_rejects_what_png_cannot_hold():
    with pytest.raises(ValueError):
        encode_png(np.zeros((4, 4, 5), dtype=np.uint8))
    with pytest.raises(ValueError):
        encode_png(np.zeros((4, 4), dtype=np.uint16))


@pytest.mark.parametrize("mode", ["L", "LA", "RGB", "RGBA"])
def test_pillow_images_are_encoded_slice_by_slice_without_a_full_copy(mode):
    # Given an image tall enough for several slices
    rng = np.random.default_rng(3)
    pixels = rng.integers(0, 256, (900, 1300, len(mode)), dtype=np.uint8)
    image = Image.fromarray(pixels[:, :, 0] if mode == "L" else pixels, mode)
    # Then the file is the same as from the array, and decodes to the same pixels
    data = encode_png(image)
    assert data == encode_png(np.asarray(image))
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(data))), np.asarray(image))
