"""What a caller may ask of the engine, parsed from query strings, form fields or JSON.

Values arrive as strings ("true", "1024", "#ff0000") or as JSON types; every invalid
value raises `InvalidOption` naming the field and what it accepts.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from PIL import ImageColor

from cutout.errors import InvalidOption
from cutout.flags import parse_flag
from cutout.numbers import parse_count

FORMATS = {"png": "png", "webp": "webp", "jpg": "jpg", "jpeg": "jpg", "auto": "auto",
           "zip": "zip"}
# `auto` is resolved per image (`output_format`); the others are what a result is.
MEDIA_TYPES = {"png": "image/png", "webp": "image/webp", "jpg": "image/jpeg",
               "zip": "application/zip"}
FORMAT_DESCRIPTION = (
    "`auto`: PNG when any pixel of the result is transparent, else JPG (a mask is PNG). "
    "`zip`: remove.bg's layout, `color.jpg` (the cutout's colour, black where it is fully "
    "transparent) and `alpha.png` (its alpha matte), the small way to ship a large cutout."
)
CHANNELS = ("rgba", "alpha")
EDGES = ("decontaminated", "straight")  # the first is the default
EDGE_DESCRIPTION = (
    "Colour of soft-edge pixels (0 < alpha < 255) in png and webp cutouts: `decontaminated` "
    "estimates the subject's own colour, so no fringe of the old background is left; "
    "`straight` keeps the input's colour."
)
PREVIEW_PIXELS = 250_000
# Named sizes: the native ones plus remove.bg's aliases, as a pixel budget (None = full).
NAMED_SIZES: dict[str, int | None] = {
    "preview": PREVIEW_PIXELS,
    "small": PREVIEW_PIXELS,
    "regular": PREVIEW_PIXELS,
    "medium": 1_500_000,
    "hd": 4_000_000,
    "full": None,
    "4k": None,
    "auto": None,
}
MAX_SIDE = 20_000
MAX_MARGIN_PX = 500
MAX_MARGIN_PERCENT = 50.0
_HEX = re.compile(r"^#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})$")
_MARGIN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(px|%)?\s*$")
_PERCENT = re.compile(r"^(\d{1,3}(?:\.\d+)?)%$")
# remove.bg's framing (its API reference, RemoveBgMultipart: `scale` "Scales the subject
# relative to the total image size ... "10%" to "100%", or "original" (default). Scaling the
# subject implies position=center"; `position` "original" (default unless scale is given),
# "center" (default when scale is given), or "0%"-"100%" for both axes, or two values
# (horizontal, vertical)). Checked in the APIs-guru copy of remove.bg's OpenAPI 1.0.0.
MIN_SCALE_PERCENT = 10.0
SCALE_DESCRIPTION = (
    "Scale the subject to this share of the canvas (`10%`-`100%`: its longer side relative "
    "to the canvas, aspect kept), or `original` (default). As remove.bg: a scale implies "
    "`position=center` unless a position is given.")
POSITION_DESCRIPTION = (
    "Place the subject in the canvas: `original` (where it was; the default without "
    "`scale`), `center` (the default with `scale`), one percentage for both axes (`0%` = "
    "left/top, `100%` = right/bottom) or two (`horizontal vertical`).")
# What the OpenAPI document states (the parser also takes upper case and extra spaces).
_PERCENT_0_100 = r"(100(\.0+)?|[0-9]{1,2}(\.[0-9]+)?)%"
SCALE_PATTERN = r"^(original|(100(\.0+)?|[1-9][0-9](\.[0-9]+)?)%)$"
POSITION_PATTERN = rf"^(original|center|{_PERCENT_0_100}( {_PERCENT_0_100})?)$"
OPTION_NAMES = ("format", "channels", "bg_color", "size", "crop", "crop_margin", "edge",
                "scale", "position")


@dataclass(frozen=True)
class RemovalOptions:
    """A validated set of output options; the defaults give a full-size PNG cutout."""

    format: str = "png"
    channels: str = "rgba"
    bg_color: tuple[int, int, int, int] | None = None
    size: str = "full"
    max_pixels: int | None = None  # pixel budget from a named size
    max_side: int | None = None  # from a number
    crop: bool = False
    crop_margin: float = 0.0
    crop_margin_relative: bool = False  # True: crop_margin is a percentage of the subject
    edge: str = EDGES[0]  # soft-edge colour of cutouts (see engine.edges)
    scale: float | None = None  # subject's share of the canvas, 0.1-1.0; None = original
    position: tuple[float, float] | None = None  # 0-1 per axis; None = original

    @classmethod
    def from_params(cls, params: Mapping[str, object] | None) -> RemovalOptions:
        """Parse the known option fields; other fields are the caller's business."""
        params = params or {}
        fmt = _text(params, "format", "png").lower()
        if fmt not in FORMATS:
            raise InvalidOption(f"format must be one of png, webp, jpg, auto, zip; got {fmt!r}")
        channels = _text(params, "channels", "rgba").lower()
        if channels not in CHANNELS:
            raise InvalidOption(f"channels must be rgba or alpha; got {channels!r}")
        bg_text = _text(params, "bg_color", "")
        bg_color = parse_color(bg_text) if bg_text else None
        if FORMATS[fmt] == "jpg" and bg_color is not None and bg_color[3] < 255:
            raise InvalidOption(
                "format jpg has no transparency: give an opaque bg_color, or use png or webp"
            )
        if FORMATS[fmt] == "zip" and (bg_color is not None or channels != "rgba"):
            raise InvalidOption(
                "format zip is the cutout's colour and its alpha: give no bg_color and "
                "channels=rgba, or ask for png, jpg or webp")
        size, budget, side = _size(_text(params, "size", "full"))
        margin, relative = _margin(_text(params, "crop_margin", "0"))
        edge = _text(params, "edge", EDGES[0]).lower()
        if edge not in EDGES:
            raise InvalidOption(f"edge must be one of {', '.join(EDGES)}; got {edge!r}")
        scale = _scale(_text(params, "scale", "original"))
        position = _position(_text(params, "position", ""), scaled=scale is not None)
        return cls(
            format=FORMATS[fmt],
            channels=channels,
            bg_color=bg_color,
            size=size,
            max_pixels=budget,
            max_side=side,
            crop=_flag(params, "crop"),
            crop_margin=margin,
            crop_margin_relative=relative,
            edge=edge,
            scale=scale,
            position=position,
        )

    @property
    def framed(self) -> bool:
        """Whether the subject is scaled or moved in its canvas (engine.framing)."""
        return self.scale is not None or self.position is not None

    @property
    def content_type(self) -> str:
        """The media type of the result; `auto` has none until the image is known."""
        if self.format == "auto":
            raise ValueError("format auto is resolved per image (compose.output_format)")
        return MEDIA_TYPES[self.format]

    def output_size(self, width: int, height: int) -> tuple[int, int]:
        """The output dimensions for an input of this size (never upscaled)."""
        scale = 1.0
        if self.max_pixels is not None and width * height > self.max_pixels:
            scale = (self.max_pixels / (width * height)) ** 0.5
        if self.max_side is not None and max(width, height) * scale > self.max_side:
            scale = self.max_side / max(width, height)
        if scale >= 1.0:
            return width, height
        return max(1, int(width * scale)), max(1, int(height * scale))


def parse_color(text: str) -> tuple[int, int, int, int]:
    """Hex (3, 6 or 8 digits, with or without #) or a CSS colour name, as RGBA."""
    text = text.strip()
    try:
        if _HEX.match(text):
            digits = text.lstrip("#")
            if len(digits) == 3:
                digits = "".join(c * 2 for c in digits)
            rgba = ImageColor.getrgb("#" + digits)
        else:
            rgba = ImageColor.getrgb(text)
    except ValueError:
        raise InvalidOption(
            "bg_color must be a hex colour (#rgb, #rrggbb, #rrggbbaa) or a colour name; "
            f"got {text!r}"
        ) from None
    return rgba if len(rgba) == 4 else (*rgba, 255)


def _text(params: Mapping[str, object], name: str, default: str) -> str:
    value = params.get(name)
    if value is None:
        return default
    if isinstance(value, list | tuple):
        value = value[-1] if value else default
    if isinstance(value, bool):
        return "true" if value else "false"
    if not isinstance(value, str | int | float):
        raise InvalidOption(f"{name} must be a string or a number")
    return str(value).strip() or default


def _flag(params: Mapping[str, object], name: str) -> bool:
    text = _text(params, name, "false").lower()
    flag = parse_flag(text)
    if flag is None:
        raise InvalidOption(f"{name} must be true or false; got {text!r}")
    return flag


def _size(text: str) -> tuple[str, int | None, int | None]:
    lowered = text.lower()
    if lowered in NAMED_SIZES:
        return lowered, NAMED_SIZES[lowered], None
    side = parse_count(lowered)
    if side is not None and 1 <= side <= MAX_SIDE:
        return lowered, None, side
    names = ", ".join(NAMED_SIZES)
    raise InvalidOption(
        f"size must be one of {names} or a maximum side in pixels (1-{MAX_SIDE}); got {text!r}"
    )


def _margin(text: str) -> tuple[float, bool]:
    match = _MARGIN.match(text)
    if not match:
        raise InvalidOption(
            f"crop_margin must be pixels (e.g. 30 or 30px) or a percentage; got {text!r}"
        )
    value, unit = float(match.group(1)), match.group(2)
    if unit == "%":
        if value > MAX_MARGIN_PERCENT:
            raise InvalidOption(f"crop_margin may be at most {MAX_MARGIN_PERCENT:g}%")
        return value, True
    if value > MAX_MARGIN_PX:
        raise InvalidOption(f"crop_margin may be at most {MAX_MARGIN_PX}px")
    return value, False


def _scale(text: str) -> float | None:
    lowered = text.lower()
    if lowered == "original":
        return None
    match = _PERCENT.match(lowered.replace(" ", ""))
    if not match or not MIN_SCALE_PERCENT <= float(match.group(1)) <= 100:
        raise InvalidOption(f"scale must be original or a percentage from 10% to 100%; "
                            f"got {text!r}")
    return float(match.group(1)) / 100


def _position(text: str, scaled: bool) -> tuple[float, float] | None:
    lowered = " ".join(text.lower().split())
    if not lowered:
        return (0.5, 0.5) if scaled else None
    if lowered == "original":
        return None
    if lowered == "center":
        return (0.5, 0.5)
    parts = lowered.split(" ")
    matches = [_PERCENT.match(part) for part in parts]
    if len(parts) > 2 or not all(matches) or \
            not all(float(m.group(1)) <= 100 for m in matches if m):
        raise InvalidOption("position must be original, center, or one or two percentages "
                            f"from 0% to 100% (horizontal vertical); got {text!r}")
    values = [float(m.group(1)) / 100 for m in matches if m]
    return (values[0], values[-1])
