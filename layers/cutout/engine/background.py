"""A picture under the cutout (remove.bg's `bg_image_file`): fitted, then composited.

As remove.bg defines it: the background is "centered and resized to fill the canvas while
preserving the aspect ratio, unless it already has the exact same dimensions as the
foreground image" (its OpenAPI 1.0.0). The canvas is the output's, after `crop` and the
framing. It is decoded under the same bounds as the input (`decode_image`: pixel limit,
decode-work checks) and never kept: it lives for one composition.

One background at most, and only where it means something: not beside `bg_color`
(`MultipleBackgrounds`, remove.bg's `multiple_bg_sources`), not with `channels=alpha` (a mask
has no background) nor `format=zip` (its colour and alpha are the cutout's own).
"""

from __future__ import annotations

from PIL import Image, ImageOps

from cutout.engine.decode import DecodedImage
from cutout.engine.options import RemovalOptions
from cutout.errors import InvalidOption, MultipleBackgrounds

_RESIZE = Image.Resampling.LANCZOS
WHITE = (255, 255, 255)


def check_background(options: RemovalOptions) -> None:
    """Refuse options a background image cannot go with (before anything is read)."""
    if options.bg_color is not None:
        raise MultipleBackgrounds(
            "give one background: bg_color, or a background image (bg_image_file / "
            "bg_upload_id), not both")
    if options.channels == "alpha":
        raise InvalidOption("channels=alpha returns the mask alone: a background image has "
                            "no effect on it; ask for channels=rgba")
    if options.format == "zip":
        raise InvalidOption("format zip is the cutout's colour and its alpha: a background "
                            "image has no place in it; ask for png, jpg, webp or auto")


def fit(backdrop: Image.Image, size: tuple[int, int]) -> Image.Image:
    """The backdrop covering `size`: scaled to fill it, aspect kept, centred, then cropped."""
    if backdrop.size == size:
        return backdrop
    return ImageOps.fit(backdrop, size, method=_RESIZE, centering=(0.5, 0.5))


def backdrop_image(decoded: DecodedImage) -> Image.Image:
    """A decoded background as one picture: RGB, or RGBA where it has its own alpha."""
    if decoded.alpha is None:
        return decoded.rgb
    image = decoded.rgb.copy()
    image.putalpha(decoded.alpha)
    return image


def composite(layer: Image.Image, backdrop: Image.Image, opaque: bool) -> Image.Image:
    """The cutout `layer` (RGBA, colour 0 under alpha 0) over the fitted `backdrop`.

    An opaque backdrop gives RGB. A translucent one keeps its transparency (RGBA) unless
    `opaque` (a JPEG), where it is laid on white first, as a JPEG without bg_color is.
    """
    fitted = fit(backdrop, layer.size)
    if fitted.mode == "RGBA" and opaque:
        base = Image.new("RGB", fitted.size, WHITE)
        base.paste(fitted, mask=fitted.getchannel("A"))
        fitted = base
    if fitted.mode != "RGBA":
        return Image.composite(layer.convert("RGB"), fitted, layer.getchannel("A"))
    return Image.alpha_composite(fitted, layer)
