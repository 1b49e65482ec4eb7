"""Whole numbers from text: only ASCII digits count, so int() can never be the one to refuse."""

from __future__ import annotations

import pytest

from cutout.engine.options import RemovalOptions
from cutout.errors import InvalidOption
from cutout.numbers import parse_count


@pytest.mark.parametrize(("text", "value"), [("0", 0), ("3008", 3008), ("007", 7)])
def test_ascii_digits_are_their_value(text, value):
    assert parse_count(text) == value


@pytest.mark.parametrize("text", [
    None, "", " 12", "12 ", "+1", "-1", "1.5", "1e3", "0x10",
    "\u00b9", "\u00b2\u00b3",  # superscripts: isdigit() is true, int() refuses them
    "\u0661\u0660",  # Arabic-Indic "10": int() would take it; no header or option means it
])
def test_anything_else_is_no_number(text):
    assert parse_count(text) is None


@pytest.mark.parametrize("size", ["\u00b9", "\u0661\u0660"])
def test_a_size_in_other_digits_is_a_clients_invalid_option(size):
    with pytest.raises(InvalidOption, match="size must be one of"):
        RemovalOptions.from_params({"size": size})
