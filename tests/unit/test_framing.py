"""scale and position (remove.bg's product framing) on known alpha: where the subject goes,
how large it is, and that nothing of the input around it travels with it."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw

from cutout.engine.compose import compose
from cutout.engine.options import RemovalOptions

SIZE = (400, 300)


def scene() -> tuple[Image.Image, Image.Image]:
    """A 40x20 opaque red subject at (20, 30) on a bright green background."""
    rgb = Image.new("RGB", SIZE, (0, 255, 0))
    alpha = Image.new("L", SIZE, 0)
    ImageDraw.Draw(rgb).rectangle((20, 30, 59, 49), fill=(220, 20, 20))
    ImageDraw.Draw(alpha).rectangle((20, 30, 59, 49), fill=255)
    return rgb, alpha


def framed(**params):
    rgb, alpha = scene()
    return compose(rgb, alpha, RemovalOptions.from_params(params))


def test_without_framing_the_subject_stays_where_it_was():
    assert framed().foreground == (20, 30, 40, 20)


def test_scale_makes_the_limiting_side_that_share_of_the_canvas_and_centres_it():
    # 40x20 in 400x300: width limits (10x), so 50% is 200 wide, 100 high, centred
    left, top, width, height = framed(scale="50%").foreground
    assert (width, height) == (200, 100)
    assert (left, top) == (100, 100)
    assert framed(scale="50%").image.size == SIZE  # the canvas never changes


def test_position_places_the_subject_by_percentages():
    assert framed(position="0% 100%").foreground[:2] == (0, 280)
    assert framed(position="100%").foreground[:2] == (360, 280)
    assert framed(position="center").foreground[:2] == (180, 140)
    assert framed(scale="100%", position="0%").foreground == (0, 0, 400, 200)


def test_scale_with_position_original_keeps_the_subjects_centre_inside_the_canvas():
    # the subject's centre is (40, 40); at 50% (200x100) it is clamped to the canvas's edge
    assert framed(scale="50%", position="original").foreground == (0, 0, 200, 100)
    # at 10% the subject is its own size (40 is 10% of 400): it stays exactly where it was
    assert framed(scale="10%", position="original").foreground == (20, 30, 40, 20)


@pytest.mark.parametrize("params", [{"scale": "50%"}, {"position": "100% 0%"},
                                    {"scale": "30%", "crop": "true", "crop_margin": "20"}])
def test_nothing_of_the_input_around_the_subject_travels_with_it(params):
    # When the subject is framed as a cutout
    pixels = np.asarray(framed(**params).image)
    clear = pixels[..., 3] == 0
    # Then every transparent pixel is colourless, and no green is anywhere
    assert clear.any() and not pixels[clear][:, :3].any()
    assert not ((pixels[..., 1] > 200) & (pixels[..., 0] < 50)).any()


def test_framing_on_a_colour_fills_the_canvas_with_it():
    image = framed(scale="50%", bg_color="white", format="jpg").image
    assert image.mode == "RGB"
    assert image.getpixel((5, 5)) == (255, 255, 255)
    assert image.getpixel((200, 150)) == (220, 20, 20)


def test_a_mask_is_framed_like_the_cutout():
    mask = framed(scale="50%", channels="alpha").image
    assert mask.mode == "L" and mask.getbbox() == (100, 100, 300, 200)
