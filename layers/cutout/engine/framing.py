"""Product framing as remove.bg defines it: the subject scaled and placed in its canvas.

`scale` makes the subject's limiting side that share of the canvas (aspect kept);
`position` places it (0 = left/top, 1 = right/bottom, 0.5 = centred), and `original` keeps
its centre where it was. The canvas is the picture's (after `crop`, the crop's), so the
output size never changes. Everything outside the moved subject is transparent: nothing of
the input around the subject travels with it.
"""

from __future__ import annotations

from PIL import Image

from cutout.engine.options import RemovalOptions

_RESIZE = Image.Resampling.LANCZOS


def frame(rgb: Image.Image, alpha: Image.Image,
          options: RemovalOptions) -> tuple[Image.Image, Image.Image]:
    """The colour and alpha with the subject scaled and placed; unchanged without one."""
    box = alpha.getbbox()
    if box is None:
        return rgb, alpha
    width, height = rgb.size
    left, top, right, bottom = box
    subject_w, subject_h = right - left, bottom - top
    factor = 1.0 if options.scale is None else \
        options.scale * min(width / subject_w, height / subject_h)
    new_w = min(width, max(1, round(subject_w * factor)))
    new_h = min(height, max(1, round(subject_h * factor)))
    colour, matte = rgb.crop(box), alpha.crop(box)
    if (new_w, new_h) != (subject_w, subject_h):
        colour, matte = colour.resize((new_w, new_h), _RESIZE), matte.resize((new_w, new_h),
                                                                              _RESIZE)
    if options.position is None:  # original: the subject's centre stays, inside the canvas
        x = round((left + right - new_w) / 2)
        y = round((top + bottom - new_h) / 2)
    else:
        x = round((width - new_w) * options.position[0])
        y = round((height - new_h) * options.position[1])
    x, y = min(max(x, 0), width - new_w), min(max(y, 0), height - new_h)
    framed_rgb, framed_alpha = Image.new("RGB", rgb.size, 0), Image.new("L", rgb.size, 0)
    framed_rgb.paste(colour, (x, y))
    framed_alpha.paste(matte, (x, y))
    return framed_rgb, framed_alpha
