"""Soft edges carry the subject's own colour; alpha, the alpha-0 rule and the off state hold."""

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
from engine_fixtures import PHOTOS, decoded, encoded
from PIL import Image, ImageDraw, ImageFilter

from cutout.engine import RemovalOptions, edges
from cutout.engine.compose import compose, cutout, final_alpha
from cutout.errors import InvalidOption

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "edges"
SUBJECT, GREEN = np.array([200, 30, 30]), np.array([0, 177, 64])


def soft_edged_disc(size=(480, 360), background=GREEN, subject=SUBJECT):
    """A red disc whose edge fades over ~20 px into a green screen: I = a*F + (1-a)*B."""
    disc = Image.new("L", size, 0)
    ImageDraw.Draw(disc).ellipse((100, 60, 380, 300), fill=255)
    alpha = np.asarray(disc.filter(ImageFilter.GaussianBlur(6)), dtype=np.float64) / 255
    a = alpha[..., None]
    mixed = np.round(a * subject + (1 - a) * background).astype(np.uint8)
    return Image.fromarray(mixed), Image.fromarray(np.round(alpha * 255).astype(np.uint8))


def band_error(image: Image.Image, colour: np.ndarray) -> float:
    pixels = np.asarray(image).astype(float)
    band = (pixels[..., 3] > 0) & (pixels[..., 3] < edges.OPAQUE_ENOUGH)
    return float(np.abs(pixels[band][:, :3] - colour).mean())


def test_the_estimate_recovers_a_known_foreground_colour_on_a_green_screen():
    # Given a flat subject colour mixed into a green screen over a soft edge
    rgb, alpha = soft_edged_disc()
    # When the cutout's soft band is decontaminated
    straight = cutout(rgb, alpha)
    estimated = edges.finish(cutout(rgb, alpha), edges.start(rgb, alpha))
    # Then the colour there is the subject's (within a few levels), not the mixture
    assert band_error(straight, SUBJECT) > 60
    assert band_error(estimated, SUBJECT) < 12


def test_the_estimate_follows_a_subject_whose_colour_changes_along_the_edge():
    # Given a subject red on its left half and blue on its right, over grey
    left, right = soft_edged_disc(subject=np.array([220, 40, 40]), background=np.array([128] * 3))
    blue, _ = soft_edged_disc(subject=np.array([30, 60, 220]), background=np.array([128] * 3))
    picture = np.asarray(left).copy()
    picture[:, 240:] = np.asarray(blue)[:, 240:]
    rgb, alpha = Image.fromarray(picture), right
    # When decontaminated
    result = np.asarray(edges.finish(cutout(rgb, alpha), edges.start(rgb, alpha))).astype(int)
    # Then each side's soft edge has its own side's colour
    a = result[..., 3]
    band = (a > 30) & (a < 200)
    west, east = band.copy(), band.copy()
    west[:, 200:], east[:, :280] = False, False
    assert np.abs(result[west][:, :3] - [220, 40, 40]).mean() < 12
    assert np.abs(result[east][:, :3] - [30, 60, 220]).mean() < 12


def test_alpha_and_the_alpha_zero_rule_do_not_change():
    rgb, alpha = soft_edged_disc()
    straight = np.asarray(cutout(rgb, alpha))
    estimated = np.asarray(edges.finish(cutout(rgb, alpha), edges.start(rgb, alpha)))
    assert np.array_equal(straight[..., 3], estimated[..., 3])
    transparent = estimated[..., 3] == 0
    assert transparent.any() and not estimated[transparent][:, :3].any()
    # opaque (and near-opaque) pixels keep their colour; only the soft band moves
    kept = estimated[..., 3] >= edges.OPAQUE_ENOUGH
    assert np.array_equal(straight[kept], estimated[kept])
    assert not np.array_equal(straight, estimated)


def test_a_picture_without_soft_pixels_is_left_as_it_is():
    rgb = Image.new("RGB", (50, 40), (10, 200, 30))
    alpha = Image.new("L", (50, 40), 0)
    alpha.paste(255, (10, 10, 30, 30))
    straight = cutout(rgb, alpha)
    assert edges.finish(cutout(rgb, alpha), edges.start(rgb, alpha)).tobytes() == straight.tobytes()


def test_the_option_defaults_to_decontaminated_and_refuses_other_values():
    assert RemovalOptions().edge == "decontaminated"
    assert RemovalOptions.from_params({"edge": "STRAIGHT"}).edge == "straight"
    with pytest.raises(InvalidOption, match="edge must be one of decontaminated, straight"):
        RemovalOptions.from_params({"edge": "soft"})


FROZEN = json.loads((FIXTURES / "straight_before_edges.json").read_text())["cases"]


def _frozen_inputs():
    rgb = Image.open(PHOTOS / "chelsea.jpg").convert("RGB")
    return rgb, final_alpha(Image.open(FIXTURES / "chelsea_mask.png").convert("L"), None)


@pytest.mark.parametrize("case", sorted(FROZEN))
def test_edge_straight_reproduces_the_frozen_compose_output(case):
    # Given the pixels compose() gave before this feature (frozen in the fixture)
    rgb, alpha = _frozen_inputs()
    params = dict(FROZEN[case]["params"], edge="straight")
    # When composed with the option off / Then the very same pixels come out
    image = compose(rgb, alpha, RemovalOptions.from_params(params)).image
    assert hashlib.sha256(image.tobytes()).hexdigest() == FROZEN[case]["sha256"]


@pytest.mark.parametrize("case", ["jpg", "opaque_bg", "translucent_bg", "mask"])
def test_flattened_and_mask_outputs_are_unaffected_by_the_default(case):
    rgb, alpha = _frozen_inputs()
    image = compose(rgb, alpha, RemovalOptions.from_params(FROZEN[case]["params"])).image
    assert hashlib.sha256(image.tobytes()).hexdigest() == FROZEN[case]["sha256"]


@pytest.mark.parametrize("fmt", ["png", "webp"])
def test_every_cutout_format_keeps_alpha_and_the_alpha_zero_rule(engine, fmt):
    # Given a real photo through the engine, decontaminated (default) and straight
    data = (PHOTOS / "chelsea.jpg").read_bytes()
    options = {"format": fmt}
    ours = np.asarray(decoded(engine.remove(data, RemovalOptions.from_params(options)).data))
    straight = engine.remove(data, RemovalOptions.from_params(dict(options, edge="straight")))
    plain = np.asarray(decoded(straight.data))
    # Then alpha is identical, transparent pixels are black, and the soft band moved
    assert np.array_equal(ours[..., 3], plain[..., 3])
    transparent = ours[..., 3] == 0
    assert transparent.any() and not ours[transparent][:, :3].any()
    soft = (ours[..., 3] > 0) & (ours[..., 3] < edges.OPAQUE_ENOUGH)
    assert (ours[soft][:, :3] != plain[soft][:, :3]).any()


def test_the_engine_cleans_a_green_fringe_end_to_end(engine):
    # Given a red disc with a soft edge on a green screen, as a PNG
    rgb, _ = soft_edged_disc()
    result = engine.remove(encoded(rgb), RemovalOptions())
    straight = engine.remove(encoded(rgb), RemovalOptions.from_params({"edge": "straight"}))
    # Then the soft band is closer to the subject's red (the target of the edges issue)
    ours, theirs = band_error(decoded(result.data), SUBJECT), band_error(
        decoded(straight.data), SUBJECT
    )
    assert ours < 0.75 * theirs, (ours, theirs)
