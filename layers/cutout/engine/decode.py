"""Decode untrusted image bytes into sRGB pixels, bounded before anything is allocated.

Only formats Pillow reads safely are opened (no EPS/PDF: those would run Ghostscript).
The pixel count is checked from the header before decoding, so a decompression bomb is
refused with `ImageTooLarge`; one whose structure promises decode work far beyond its size
(scan, chunk and frame bombs) with `ImageTooComplex` (see `decode_limits`); anything
unreadable or truncated is `UndecodableImage`.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import io
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from cutout.engine.decode_limits import check_decode_work
from cutout.errors import ImageTooLarge, UndecodableImage

if TYPE_CHECKING:
    from PIL._imagingcms import CmsProfile

_ORIENTATION = 0x0112
_QUARTER_TURNS = (5, 6, 7, 8)  # EXIF orientations that swap width and height
# HEIF is pillow-heif's plugin (libheif: HEIC/HEIF); AVIF is Pillow's own (libavif).
SAFE_FORMATS = ("JPEG", "PNG", "WEBP", "GIF", "TIFF", "BMP", "HEIF", "AVIF")
FORMAT_NAMES = "JPEG, PNG, WebP, GIF, TIFF, BMP, HEIC/HEIF, AVIF"
# Only the plugins of the formats we open (and save): `Image.init()` would import all ~45,
# EPS's among them, for ~30 ms of every cold start. Every format
# `Image.open(formats=...)` is given must be registered, or it calls init() itself.
for _plugin in ("Jpeg", "Png", "WebP", "Gif", "Tiff", "Bmp", "Avif"):
    importlib.import_module(f"PIL.{_plugin}ImagePlugin")
_WITHOUT_HEIF = tuple(name for name in SAFE_FORMATS if name != "HEIF")


@functools.cache
def register_heif() -> None:
    """Register pillow-heif's opener (and writer), once, when the first ISOBMFF file
    arrives: ~7 ms of imports no cold start of a JPEG/PNG service needs.

    libheif applies a HEIF's rotation and mirror boxes itself and pillow-heif then resets
    the EXIF orientation, so exif_transpose below never turns a HEIC twice; no thumbnails
    or depth images are read (only the primary image is ever decoded).
    """
    import pillow_heif

    pillow_heif.register_heif_opener(thumbnails=False, depth_images=False, aux_images=False)


def _formats_for(data: bytes) -> tuple[str, ...]:
    """The formats to try: HEIF's opener only for an ISOBMFF file (an `ftyp` box first),
    which is all it accepts, so every other input is tried exactly as before."""
    if data[4:8] != b"ftyp":
        return _WITHOUT_HEIF
    register_heif()
    return SAFE_FORMATS


@functools.cache
def _srgb() -> CmsProfile:
    """The sRGB profile, made when the first picture with an embedded profile arrives."""
    from PIL import ImageCms

    return ImageCms.createProfile("sRGB")


@dataclass
class DecodedImage:
    """The input as 8-bit sRGB colour plus its own alpha (None when fully opaque)."""

    rgb: Image.Image
    alpha: Image.Image | None
    source_format: str
    reduced: bool = False  # decoded at a reduced scale (JPEG draft) for the model only
    source_pixels: int = 0  # width x height of the stored image, before any reduction
    full_size: tuple[int, int] = (0, 0)  # upright size of the full decode (EXIF applied)

    @property
    def size(self) -> tuple[int, int]:
        return self.rgb.size


def decode_image(
    data: bytes, max_pixels: int, at_least: tuple[int, int] | None = None, *,
    work_checked: bool = False, on_header: Callable[[int], object] | None = None,
) -> DecodedImage:
    """Decode, apply EXIF orientation, convert to sRGB and split off the alpha channel.

    With `at_least`, a JPEG much larger than that size is decoded at a reduced scale (the
    decoder's DCT scaling: a fraction of the time and memory); other inputs decode in full.
    `work_checked`: these very bytes already passed `check_decode_work` (a second decode of
    the same request), so their markers are not scanned again. `on_header` is told the
    stored pixel count once the header has passed the size check, before the pixels are
    decoded, so work that depends on the size can start beside the decode.
    """
    if not data:
        raise UndecodableImage("the request carried no image data")
    if not work_checked:
        check_decode_work(data, max_pixels)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image: Image.Image = Image.open(io.BytesIO(data), formats=_formats_for(data))
            _check_pixels(image.size, max_pixels)
            stored_size = image.size
            source_pixels = image.size[0] * image.size[1]
            if on_header is not None:
                on_header(source_pixels)
            image.seek(0)  # first frame of GIF / multi-page TIFF / animated WebP
            drafted = at_least and image.format == "JPEG" and image.draft(image.mode, at_least)
            reduced = bool(drafted)
            image.load()
    except ImageTooLarge:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        limit = f"{max_pixels:,}"
        raise ImageTooLarge(f"the image is larger than the limit of {limit} pixels") from None
    except UnidentifiedImageError:
        raise UndecodableImage(
            f"the data is not an image in a supported format ({FORMAT_NAMES})"
        ) from None
    # RuntimeError: Pillow's AVIF plugin reports libavif's decode failures with it
    except (OSError, ValueError, SyntaxError, EOFError, IndexError, RuntimeError) as error:
        raise UndecodableImage(f"the image could not be decoded ({_reason(error)})") from None
    source_format = image.format or "unknown"
    full_size = stored_size
    # a broken EXIF block must not make a readable image unreadable
    with contextlib.suppress(OSError, ValueError, KeyError, TypeError, SyntaxError):
        turns = image.getexif().get(_ORIENTATION) in _QUARTER_TURNS
        image = ImageOps.exif_transpose(image) or image
        full_size = stored_size[::-1] if turns else stored_size
    rgb, alpha = _to_rgb_and_alpha(image)
    return DecodedImage(
        rgb=rgb,
        alpha=alpha,
        source_format=source_format,
        reduced=reduced,
        source_pixels=source_pixels,
        full_size=full_size,
    )


def _check_pixels(size: tuple[int, int], max_pixels: int) -> None:
    width, height = size
    if width < 1 or height < 1:
        raise UndecodableImage("the image has no pixels")
    if width * height > max_pixels:
        raise ImageTooLarge(
            f"the image is {width}x{height} ({width * height:,} pixels), over the limit of "
            f"{max_pixels:,} pixels; scale it down or raise CUTOUT_MAX_PIXELS"
        )


def _reason(error: Exception) -> str:
    text = str(error).splitlines()[0] if str(error) else type(error).__name__
    return text[:120]


def _to_rgb_and_alpha(image: Image.Image) -> tuple[Image.Image, Image.Image | None]:
    """Any mode to (RGB, alpha or None), colour-managed to sRGB when a profile is embedded."""
    alpha: Image.Image | None = None
    mode = image.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        image = _high_bit_depth_to_l(image)
        mode = "L"
    if mode == "P" or mode == "PA":
        image = image.convert("RGBA")
        mode = "RGBA"
    if mode in ("RGBA", "LA", "La", "RGBa"):
        if mode in ("La", "RGBa"):  # premultiplied: straighten first
            image = image.convert(mode.replace("a", "A"))
        alpha = image.getchannel("A")
        image = image.convert("RGB" if mode.startswith("RGB") else "L")
        if alpha.getextrema() == (255, 255):
            alpha = None
    icc = image.info.get("icc_profile")
    rgb = _to_srgb(image, icc) if icc else None
    if rgb is None:
        rgb = image if image.mode == "RGB" else image.convert("RGB")
    return rgb, alpha


def _high_bit_depth_to_l(image: Image.Image) -> Image.Image:
    """16/32-bit greyscale to 8-bit by scaling the range (Pillow's convert would clip)."""
    pixels = np.asarray(image)
    if pixels.dtype.kind == "f":
        scaled = np.clip(pixels, 0.0, 1.0) * 255.0
    else:
        pixels = pixels.astype(np.uint32)
        scaled = pixels >> 8 if pixels.max() > 255 else pixels
    return Image.fromarray(scaled.astype(np.uint8), mode="L")


def _to_srgb(image: Image.Image, icc: bytes) -> Image.Image | None:
    """Convert from the embedded profile to sRGB; None when the profile is unusable."""
    from PIL import ImageCms  # ~3 ms of a cold start, for pictures that carry a profile

    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        description = (ImageCms.getProfileDescription(source) or "").lower()
        if "srgb" in description and image.mode == "RGB":
            return image
        output_mode = "RGB"
        if image.mode not in ("RGB", "CMYK", "L"):
            image = image.convert("RGB")
        transform = ImageCms.buildTransform(source, _srgb(), image.mode, output_mode)
        return ImageCms.applyTransform(image, transform)
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return None
