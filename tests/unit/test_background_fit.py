"""A background image under the cutout: fitted as remove.bg fits it, composited with nothing
of the removed background left, and refused where it means nothing."""

import numpy as np
import pytest
from engine_fixtures import BLUE, RED, picture_and_mask
from PIL import Image

from cutout.engine.background import check_background, fit
from cutout.engine.compose import compose
from cutout.engine.options import RemovalOptions
from cutout.errors import InvalidOption, MultipleBackgrounds

GREEN = (0, 255, 0)



def test_a_background_of_another_shape_is_scaled_to_fill_and_centred():
    # Given a 40x10 background whose columns count 0..39, for a 20x20 canvas
    columns = np.tile(np.arange(40, dtype=np.uint8) * 6, (10, 1))
    backdrop = Image.fromarray(np.dstack([columns] * 3))
    # When it is fitted
    fitted = fit(backdrop, (20, 20))
    # Then it fills the canvas (scaled x2 to 80x20) and its middle is kept: the columns
    # around 20 of 40, not the first ones
    assert fitted.size == (20, 20)
    middle = np.asarray(fitted)[10, :, 0]
    assert 84 <= middle[0] <= 96 and 138 <= middle[-1] <= 150  # columns 15 to 24 of 40


def test_a_background_of_the_same_size_is_untouched():
    backdrop = Image.new("RGB", (30, 10), GREEN)
    assert fit(backdrop, (30, 10)) is backdrop


def test_the_cutout_replaces_the_removed_background_with_the_new_one():
    # Given a picture whose right two thirds are removed, and a green background
    rgb, mask = picture_and_mask()
    # When composed onto it
    result = compose(rgb, mask, RemovalOptions(), Image.new("RGB", (7, 3), GREEN)).image
    pixels = np.asarray(result)
    # Then the kept part is the subject, the removed part the new background, opaque
    assert result.mode == "RGB"
    assert tuple(pixels[5, 2]) == RED and tuple(pixels[5, 25]) == GREEN
    # And no pixel anywhere carries the removed blue
    assert not (pixels == BLUE).all(axis=2).any()


def test_a_transparent_background_leaves_no_colour_where_nothing_is_seen():
    # Given a fully transparent (but coloured) background
    rgb, mask = picture_and_mask()
    clear = Image.new("RGBA", (30, 10), (255, 0, 0, 0))
    # When composed onto it
    pixels = np.asarray(compose(rgb, mask, RemovalOptions(), clear).image)
    # Then the removed part is transparent with colour 0, the subject as it was
    assert pixels.shape[2] == 4
    assert tuple(pixels[5, 25]) == (0, 0, 0, 0) and tuple(pixels[5, 2]) == (*RED, 255)


def test_a_jpeg_lays_a_translucent_background_on_white():
    rgb, mask = picture_and_mask()
    clear = Image.new("RGBA", (30, 10), (255, 0, 0, 0))
    result = compose(rgb, mask, RemovalOptions(format="jpg"), clear).image
    assert result.mode == "RGB" and result.getpixel((25, 5)) == (255, 255, 255)


@pytest.mark.parametrize(("params", "error"), [
    ({"bg_color": "white"}, MultipleBackgrounds),
    ({"channels": "alpha"}, InvalidOption),
    ({"format": "zip"}, InvalidOption),
])
def test_a_background_is_refused_where_it_cannot_go(params, error):
    with pytest.raises(error):
        check_background(RemovalOptions.from_params(params))


def test_a_background_goes_with_every_other_output():
    for fmt in ("png", "jpg", "webp", "auto"):
        check_background(RemovalOptions.from_params({"format": fmt, "crop": "true",
                                                     "scale": "50%"}))
