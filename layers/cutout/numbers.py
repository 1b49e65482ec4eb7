"""Whole numbers that arrive as text: query values, headers, environment variables.

`str.isdigit()` is true for superscripts such as "¹" and "²", which `int()` refuses, so a
check made with it lets a client's "size=¹" reach `int()` and fail as a server error.
"""

from __future__ import annotations


def parse_count(text: str | None) -> int | None:
    """The value of a run of ASCII digits (no sign, no spaces); None for anything else."""
    if not text or not text.isascii() or not text.isdigit():
        return None
    return int(text)
