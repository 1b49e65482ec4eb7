"""What the image routes' parsers share: a body's fields (or a 415 saying what to send), and
the image and background fields sorted out of them before each route reads its own."""

from __future__ import annotations

from dataclasses import dataclass

from cutout.api.background_source import BACKGROUND_FIELDS
from cutout.api.body import Fields, body_fields, media_type
from cutout.api.image_source import SourceRules
from cutout.errors import UnsupportedMediaType


def readable_fields(body: bytes, content_type: str | None, send: str,
                    no_type: str = "none") -> Fields:
    """The body's fields; a 415 `<send>; got <its media type or no_type>` when it is of a
    type no route reads fields from."""
    fields = body_fields(body, content_type)
    if fields is None:
        raise UnsupportedMediaType(f"{send}; got {media_type(content_type) or no_type}")
    return fields


@dataclass(frozen=True)
class SortedFields:
    """A body's image sources and background images, and the rest in their order (options,
    or fields the route refuses)."""

    sources: Fields
    backgrounds: Fields
    rest: Fields


def sort_fields(fields: Fields, rules: SourceRules) -> SortedFields:
    """Sorted in one pass; a field of no kind here goes to `rest`, for the route to judge."""
    sorted_fields = SortedFields([], [], [])
    for name, item in fields:
        kind = (sorted_fields.sources if name in rules.names
                else sorted_fields.backgrounds if name in BACKGROUND_FIELDS
                else sorted_fields.rest)
        kind.append((name, item))
    return sorted_fields
