"""Options: every value a client may send, and a clear 400 for everything else."""

import pytest

from cutout.engine.options import PREVIEW_PIXELS, RemovalOptions
from cutout.errors import InvalidOption


def test_defaults_are_a_full_size_png_cutout():
    options = RemovalOptions.from_params({})
    assert (options.format, options.channels, options.size, options.crop) == (
        "png",
        "rgba",
        "full",
        False,
    )
    assert options.content_type == "image/png"
    assert options.output_size(4000, 3000) == (4000, 3000)


@pytest.mark.parametrize("value, expected", [("jpeg", "jpg"), ("JPG", "jpg"), ("webp", "webp")])
def test_format_aliases(value, expected):
    assert RemovalOptions.from_params({"format": value}).format == expected


def test_preview_is_at_most_a_quarter_megapixel():
    width, height = RemovalOptions.from_params({"size": "preview"}).output_size(4000, 3000)
    assert width * height <= PREVIEW_PIXELS and abs(width / height - 4 / 3) < 0.01


def test_numeric_size_is_the_maximum_side_and_never_upscales():
    options = RemovalOptions.from_params({"size": "1000"})
    assert options.output_size(4000, 3000) == (1000, 750)
    assert options.output_size(800, 600) == (800, 600)


@pytest.mark.parametrize("alias", ["regular", "small", "medium", "hd", "4k", "auto"])
def test_remove_bg_size_aliases_are_understood(alias):
    assert RemovalOptions.from_params({"size": alias}).size == alias


@pytest.mark.parametrize(
    "text, rgba",
    [
        ("#fff", (255, 255, 255, 255)),
        ("00ff00", (0, 255, 0, 255)),
        ("#11223380", (17, 34, 51, 128)),
        ("red", (255, 0, 0, 255)),
    ],
)
def test_background_colours(text, rgba):
    assert RemovalOptions.from_params({"bg_color": text}).bg_color == rgba


@pytest.mark.parametrize("value", [True, "true", "1", "yes", ["false", "true"]])
def test_booleans_arrive_as_strings_or_json(value):
    assert RemovalOptions.from_params({"crop": value}).crop is True


@pytest.mark.parametrize(
    "field, value, fragment",
    [
        ("format", "gif", "format must be"),
        ("channels", "rgb", "channels must be"),
        ("size", "huge", "size must be"),
        ("size", "0", "size must be"),
        ("bg_color", "#12", "bg_color must be"),
        ("bg_color", "notacolour", "bg_color"),
        ("crop", "maybe", "crop must be"),
        ("crop_margin", "-3", "crop_margin"),
        ("crop_margin", "900px", "at most 500px"),
        ("crop_margin", "80%", "at most 50%"),
        ("format", {"nested": 1}, "format must be a string"),
    ],
)
def test_invalid_values_name_the_field(field, value, fragment):
    with pytest.raises(InvalidOption, match=fragment):
        RemovalOptions.from_params({field: value})


# A value other than the default for every engine option (a new option must add one here).
NON_DEFAULT = {"format": "webp", "channels": "alpha", "bg_color": "#102030", "size": "640",
               "crop": "true", "crop_margin": "12", "edge": "straight", "scale": "80%",
               "position": "10% 90%"}


def test_both_api_parsers_carry_every_engine_option_to_the_engine():
    # Given every option the engine defines, each with a value other than its default
    from urllib.parse import urlencode

    from cutout.api.removal_request import parse_removal_request
    from cutout.api.removebg_request import parse_removebg_request
    from cutout.engine.options import OPTION_NAMES

    assert set(NON_DEFAULT) == set(OPTION_NAMES)
    for name, value in NON_DEFAULT.items():
        expected = getattr(RemovalOptions.from_params({name: value}), name)
        assert expected != getattr(RemovalOptions(), name), name
        # When the native route reads it from the query and remove.bg's from a form field
        native = parse_removal_request(b"\x89PNG", "image/png", {name: value})
        form = urlencode({"image_file_b64": "iVBORw0KGgo=", name: value}).encode()
        removebg = parse_removebg_request(form, "application/x-www-form-urlencoded")
        # Then both hand the engine the same parsed option (remove.bg's size default aside)
        assert getattr(native.options, name) == expected, name
        assert getattr(removebg.options, name) == expected, name


def test_jpeg_with_a_translucent_background_is_a_clear_400():
    with pytest.raises(InvalidOption, match="jpg has no transparency"):
        RemovalOptions.from_params({"format": "jpg", "bg_color": "#ff000080"})


@pytest.mark.parametrize(("params", "scale", "position"), [
    ({}, None, None),
    ({"scale": "original"}, None, None),
    ({"scale": "80%"}, 0.8, (0.5, 0.5)),  # a scale implies position=center
    ({"scale": "10%", "position": "original"}, 0.1, None),
    ({"scale": "100%", "position": "0%"}, 1.0, (0.0, 0.0)),
    ({"position": "center"}, None, (0.5, 0.5)),
    ({"position": "25% 100%"}, None, (0.25, 1.0)),
    ({"position": " 33.5%  0% "}, None, (0.335, 0.0)),
])
def test_scale_and_position_as_remove_bg_defines_them(params, scale, position):
    options = RemovalOptions.from_params(params)
    assert (options.scale, options.position) == (scale, position)
    assert options.framed == (scale is not None or position is not None)


@pytest.mark.parametrize(("name", "value"), [
    ("scale", "9%"), ("scale", "101%"), ("scale", "50"), ("scale", "half"), ("scale", "-10%"),
    ("position", "101%"), ("position", "10% 20% 30%"), ("position", "left"),
    ("position", "50"), ("position", "-5%"),
])
def test_a_bad_scale_or_position_names_what_it_accepts(name, value):
    with pytest.raises(InvalidOption, match=f"^{name} must be"):
        RemovalOptions.from_params({name: value})


@pytest.mark.parametrize("value", ["auto", "zip", "ZIP"])
def test_auto_and_zip_are_formats(value):
    assert RemovalOptions.from_params({"format": value}).format == value.lower()
