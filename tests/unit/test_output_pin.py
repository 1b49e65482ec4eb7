"""The engine's output bytes are pinned: a speed change must not change a cutout silently.

A deterministic cutout (a fixture photo made into a JPEG here, default options: PNG with
soft edges, and a few others) is hashed; the digests are this build's (x86_64, the locked
onnxruntime and Pillow, two inference threads). A deliberate change of output updates them
in the same commit, with what changed and by how much measured in its message.
"""

from __future__ import annotations

import hashlib
import io

import pytest
from engine_fixtures import PHOTOS
from PIL import Image

from cutout.engine import Engine, RemovalOptions

# Below 4 MP (decoded in full for the model, the fast session: ONNX Runtime's ALL level,
# whose 320x320 mask equals rembg's own session's byte for byte) and at 12 MP (reduced
# decode for the model, the lean session, full decode after inference, the arena given back).
SIZES = {"small": (640, 480), "12mp": (4000, 3000)}
PINNED = {
    ("small", "png"): "fa62db682303c6083b4493911d6b1c0a40bead85599e10e964370fee9dfd2a9a",
    ("small", "webp"): "661169f137e1451fdbf20e59604cb82164745a5805cbbecd3c707c04b47f64a2",
    ("small", "mask"): "f46d5269fe4d9ae9d3986025f810694e94b1ddb55d864dfbfca34e3cd8508f3f",
    ("12mp", "png"): "116361e313f3bcfed9f2891e684d5bc7219b805814a27285303741cb7ca1467e",
    ("12mp", "mask"): "bde894b2bcd353162c21bd91362013bcf9a91948d8d46ec325461d70c6d13ae0",
}


@pytest.fixture(scope="module")
def pinned_engine() -> Engine:
    return Engine.create("u2netp", threads=2)


def _jpeg(size: tuple[int, int]) -> bytes:
    picture = Image.open(PHOTOS / "astronaut.jpg").convert("RGB").resize(
        size, Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    picture.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


@pytest.mark.parametrize(("size", "output"), sorted(PINNED))
def test_a_deterministic_cutout_has_the_pinned_bytes(pinned_engine, size, output):
    # Given the same JPEG and options as when the digest was pinned
    params = {"format": "webp"} if output == "webp" else {}
    # When the engine cuts it out
    result = pinned_engine.remove(_jpeg(SIZES[size]), RemovalOptions.from_params(params),
                                  keep_mask=output == "mask")
    data = result.mask_png if output == "mask" else result.data
    # Then the output is byte for byte the pinned one
    assert data is not None
    assert hashlib.sha256(data).hexdigest() == PINNED[(size, output)]
