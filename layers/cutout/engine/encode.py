"""Encode the composed picture as PNG (our fast writer), WebP or JPEG, all in memory."""

from __future__ import annotations

import io

from PIL import Image

from cutout.engine.png import encode_png

WEBP_QUALITY = 90
JPEG_QUALITY = 92


def encode(image: Image.Image, fmt: str) -> bytes:
    """Bytes of `image` in `fmt` (png, webp or jpg); no metadata from the input is copied."""
    if fmt == "png":
        return encode_png(image)
    buffer = io.BytesIO()
    if fmt == "webp":
        # exact=False lets the encoder pick any colour under alpha 0: never the original,
        # which compose() has already zeroed.
        image.save(buffer, "WEBP", quality=WEBP_QUALITY, method=2)
    elif fmt == "jpg":
        if image.mode not in ("RGB", "L"):
            raise ValueError("JPEG output needs an opaque image (flatten it first)")
        image.save(buffer, "JPEG", quality=JPEG_QUALITY)
    else:
        raise ValueError(f"unknown output format {fmt!r}")
    return buffer.getvalue()
