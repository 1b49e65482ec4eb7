"""Turn a mask into the output picture without leaking the removed background.

Rules (documented in docs/engine.md):
- Straight alpha, as PNG defines it (rembg multiplies colour by alpha inside a
  straight-alpha PNG, which darkens soft edges). Where alpha is 255 the original colour is
  kept; on soft edges a cutout carries the subject's own colour estimated by
  `engine.edges` (option `edge=decontaminated`, the default), or the original colour
  with `edge=straight`. Flattened outputs and the mask are not affected.
- Where alpha is 0 the colour is 0, so the background cannot be recovered from the file.
- Mask values below `ALPHA_FLOOR` are snapped to 0: the model's near-zero noise would
  otherwise carry faint background colour across the whole file.
- The input's own transparency is respected: output alpha = mask x input alpha.
- `format=zip` splits the cutout into its colour and its alpha: the colour is the cutout's
  own (black where alpha is 0), never the input's; remove.bg's own color.jpg is the whole
  input photo, background included, which is exactly what this service never hands out.
- `format=auto` is PNG when any pixel of the composition is transparent, else JPG.
- A background image (`engine.background`) is fitted to the final canvas and the cutout laid
  over it; where the result is still fully transparent its colour is 0 as everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass

from PIL import Image, ImageChops

from cutout.engine import background as backdrops
from cutout.engine import edges
from cutout.engine.framing import frame
from cutout.engine.options import RemovalOptions

ALPHA_FLOOR = 10  # of 255, about 4 %
_FLOOR_LUT = [0] * ALPHA_FLOOR + list(range(ALPHA_FLOOR, 256))
_VISIBLE_LUT = [0] + [255] * 255
JPEG_DEFAULT_BACKGROUND = (255, 255, 255, 255)

Box = tuple[int, int, int, int]  # left, top, width, height


@dataclass
class Composition:
    """The picture to encode and where the subject is in it."""

    image: Image.Image
    foreground: Box | None
    alpha: Image.Image  # final alpha at output size (the mask the training store keeps)


def final_alpha(mask: Image.Image, input_alpha: Image.Image | None) -> Image.Image:
    """The model's mask combined with the input's own alpha, low noise snapped to 0."""
    alpha = mask if input_alpha is None else ImageChops.multiply(mask, input_alpha)
    return alpha.point(_FLOOR_LUT)


def foreground_box(alpha: Image.Image) -> Box | None:
    """The subject's bounding box (every pixel with alpha > 0), or None if there is none."""
    box = alpha.getbbox()
    if box is None:
        return None
    left, top, right, bottom = box
    return left, top, right - left, bottom - top


def compose(rgb: Image.Image, alpha: Image.Image, options: RemovalOptions,
            backdrop: Image.Image | None = None) -> Composition:
    """Crop, frame (scale/position), cut out or flatten (onto `bg_color` or `backdrop`)."""
    box = foreground_box(alpha)
    if options.crop and box is not None:
        region = _crop_region(box, options, rgb.size)
        rgb, alpha = _crop(rgb, region, "RGB"), _crop(alpha, region, "L")
        box = foreground_box(alpha)
    if options.framed:
        rgb, alpha = frame(rgb, alpha, options)
        alpha = alpha.point(_FLOOR_LUT)  # a resize's ringing must not make faint pixels
        box = foreground_box(alpha)
    if options.channels == "alpha":
        return Composition(alpha, box, alpha)
    if backdrop is not None:
        layered = backdrops.composite(cutout(rgb, alpha), backdrop, options.format == "jpg")
        if layered.mode == "RGBA":  # a translucent backdrop: no colour where nothing is seen
            layered = cutout(layered.convert("RGB"), layered.getchannel("A"))
        return Composition(layered, box, alpha)
    background = options.bg_color
    if background is None and options.format == "jpg":
        background = JPEG_DEFAULT_BACKGROUND
    if background is None:
        if options.edge != "decontaminated":
            return Composition(cutout(rgb, alpha), box, alpha)
        pending = edges.start(rgb, alpha)  # beside the cutout, on the helper thread
        return Composition(edges.finish(cutout(rgb, alpha), pending), box, alpha)
    return Composition(flatten(rgb, alpha, background), box, alpha)


def output_format(image: Image.Image, options: RemovalOptions) -> str:
    """The format to encode: `auto` resolved by the composed pixels (a mask stays PNG)."""
    if options.format != "auto":
        return options.format
    if options.channels == "alpha":
        return "png"
    if image.mode == "RGBA" and _has_transparency(image.getchannel("A")):
        return "png"
    return "jpg"


def _has_transparency(alpha: Image.Image) -> bool:
    lowest, _ = alpha.getextrema()  # an L image: (min, max)
    return int(lowest) < 255  # type: ignore[arg-type]


def cutout(rgb: Image.Image, alpha: Image.Image) -> Image.Image:
    """RGBA with straight colour where visible and RGB = 0 where alpha = 0."""
    visible = alpha.point(_VISIBLE_LUT)
    result = Image.new("RGB", rgb.size, 0)
    result.paste(rgb, mask=visible)  # a 0/255 mask copies exactly; ~2x faster than composite
    result.putalpha(alpha)
    return result


def flatten(rgb: Image.Image, alpha: Image.Image, color: tuple[int, int, int, int]) -> Image.Image:
    """The subject over a colour; an opaque colour gives RGB, a translucent one RGBA."""
    if color[3] == 255:
        return Image.composite(rgb, Image.new("RGB", rgb.size, color[:3]), alpha)
    layer = cutout(rgb, alpha)
    result = Image.alpha_composite(Image.new("RGBA", rgb.size, color), layer)
    return cutout(result.convert("RGB"), result.getchannel("A"))


def _crop_region(box: Box, options: RemovalOptions, size: tuple[int, int]) -> Box:
    left, top, width, height = box
    if options.crop_margin_relative:
        margin_x = round(width * options.crop_margin / 100)
        margin_y = round(height * options.crop_margin / 100)
    else:
        margin_x = margin_y = round(options.crop_margin)
    return left - margin_x, top - margin_y, width + 2 * margin_x, height + 2 * margin_y


def _crop(image: Image.Image, region: Box, mode: str) -> Image.Image:
    """Crop to the region; a margin beyond the image's edge is transparent / black."""
    left, top, width, height = region
    cropped = image.crop((left, top, left + width, top + height))  # pads with 0 outside
    return cropped if cropped.mode == mode else cropped.convert(mode)
