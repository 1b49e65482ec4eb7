"""Composition: nothing of the removed background survives in the output file."""

import numpy as np
from engine_fixtures import RED, picture_and_mask
from PIL import Image

from cutout.engine.compose import ALPHA_FLOOR, compose, cutout, final_alpha, foreground_box
from cutout.engine.options import RemovalOptions


def test_alpha_zero_pixels_carry_no_colour():
    rgb, mask = picture_and_mask()
    result = np.asarray(cutout(rgb, mask))
    transparent = result[..., 3] == 0
    assert transparent.any()
    assert not result[transparent][:, :3].any()


def test_soft_edges_keep_their_straight_colour():
    # rembg multiplies colour by alpha inside a straight-alpha PNG, darkening edges
    rgb, mask = picture_and_mask()
    result = np.asarray(cutout(rgb, mask))
    assert tuple(result[5, 12]) == (*RED, 128)
    assert tuple(result[5, 2]) == (*RED, 255)


def test_near_zero_mask_noise_is_snapped_to_transparent():
    mask = Image.fromarray(np.array([[0, ALPHA_FLOOR - 1, ALPHA_FLOOR, 200]], dtype=np.uint8))
    assert list(np.asarray(final_alpha(mask, None))[0]) == [0, 0, ALPHA_FLOOR, 200]


def test_input_transparency_is_respected():
    mask = Image.new("L", (4, 1), 255)
    input_alpha = Image.fromarray(np.array([[0, 64, 255, 255]], dtype=np.uint8))
    assert list(np.asarray(final_alpha(mask, input_alpha))[0]) == [0, 64, 255, 255]


def test_background_colour_flattens_without_leaking():
    rgb, mask = picture_and_mask()
    options = RemovalOptions.from_params({"bg_color": "#00ff00"})
    result = np.asarray(compose(rgb, mask, options).image)
    assert result.shape == (10, 30, 3)
    assert tuple(result[5, 25]) == (0, 255, 0)  # where the blue background was
    assert tuple(result[5, 2]) == RED


def test_translucent_background_colour_gives_rgba_and_zero_under_transparency():
    rgb, mask = picture_and_mask()
    result = np.asarray(
        compose(rgb, mask, RemovalOptions.from_params({"bg_color": "00ff0000"})).image
    )
    assert result.shape[2] == 4
    transparent = result[..., 3] == 0
    assert transparent.any() and not result[transparent][:, :3].any()


def test_jpeg_output_defaults_to_a_white_background():
    rgb, mask = picture_and_mask()
    result = compose(rgb, mask, RemovalOptions.from_params({"format": "jpg"})).image
    assert result.mode == "RGB" and result.getpixel((25, 5)) == (255, 255, 255)


def test_alpha_channel_output_is_the_mask():
    rgb, mask = picture_and_mask()
    result = compose(rgb, mask, RemovalOptions.from_params({"channels": "alpha"})).image
    assert result.mode == "L" and np.array_equal(np.asarray(result), np.asarray(mask))


def test_foreground_box_covers_every_visible_pixel():
    _, mask = picture_and_mask()
    assert foreground_box(mask) == (0, 0, 15, 10)
    assert foreground_box(Image.new("L", (5, 5), 0)) is None


def test_crop_to_subject_with_pixel_margin_pads_beyond_the_edge_transparently():
    rgb, mask = picture_and_mask()
    composition = compose(
        rgb, mask, RemovalOptions.from_params({"crop": True, "crop_margin": "3px"})
    )
    # subject box is 15x10 at (0, 0); 3 px around it, partly outside the picture
    assert composition.image.size == (21, 16)
    assert composition.foreground == (3, 3, 15, 10)
    assert composition.image.getpixel((0, 0)) == (0, 0, 0, 0)


def test_crop_margin_in_percent_of_the_subject():
    rgb, mask = picture_and_mask()
    composition = compose(
        rgb, mask, RemovalOptions.from_params({"crop": "true", "crop_margin": "20%"})
    )
    assert composition.image.size == (15 + 2 * 3, 10 + 2 * 2)
