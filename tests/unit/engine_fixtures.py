"""Helpers for the engine tests: images made on the spot (the engine fixture is in conftest)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from cutout.engine.decode import register_heif

PHOTOS = Path(__file__).resolve().parents[1] / "fixtures" / "photos"
BACKGROUND = (235, 235, 235)
SUBJECT = (200, 30, 30)


def disc_picture(size: tuple[int, int] = (400, 300), box=(30, 80, 170, 220)) -> Image.Image:
    """A red disc (the subject) on a light grey background: u2netp finds it reliably."""
    image = Image.new("RGB", size, BACKGROUND)
    ImageDraw.Draw(image).ellipse(box, fill=SUBJECT)
    return image


def encoded(image: Image.Image, fmt: str = "PNG", **save_options) -> bytes:
    if fmt == "HEIF":  # pillow-heif's writer, registered as the engine registers its reader
        register_heif()
    buffer = io.BytesIO()
    image.save(buffer, fmt, **save_options)
    return buffer.getvalue()


def decoded(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def alpha_of(image: Image.Image) -> np.ndarray:
    return np.asarray(image.getchannel("A"))


RED, BLUE = (200, 30, 30), (20, 40, 220)


def picture_and_mask():
    """A 30x10 picture and its mask: the left half red, the right blue; alpha 255 over the
    first third, a soft column (128), then 0 (removed)."""
    rgb = np.zeros((10, 30, 3), dtype=np.uint8)
    rgb[:, :15] = RED
    rgb[:, 15:] = BLUE
    mask = np.zeros((10, 30), dtype=np.uint8)
    mask[:, :10] = 255
    mask[:, 10:15] = 128
    return Image.fromarray(rgb), Image.fromarray(mask)
