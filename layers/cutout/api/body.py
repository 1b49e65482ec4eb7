"""The named fields of a request body: JSON, URL-encoded form or multipart/form-data.

HTTP parsing stays at the edge: the domain receives typed requests. Multipart goes through
the `multipart` package's push parser (strict: delimiters anchored on CRLF, no temporary
files), and every part header is checked here, so no client string that could carry a
line break or a made-up media type ever reaches an AWS call.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from multipart import MultipartError, MultipartSegment, PushMultipartParser

from cutout.errors import InvalidRequest

# RFC 9110 media type: type "/" subtype, both tokens (parameters are dropped on purpose).
_MEDIA_TYPE = re.compile(r"^[A-Za-z0-9!#$&^_.+-]{1,64}/[A-Za-z0-9!#$&^_.+-]{1,64}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
MAX_PARTS = 32  # a removal names one image and a handful of options
MAX_PART_HEADER_BYTES = 4096
# Parts read as bytes even without a filename (clients that send a bare part still mean a file).
FILE_FIELDS = ("image_file", "bg_image_file")


@dataclass(frozen=True)
class BodyField:
    """One named value: bytes for a file part (with its checked media type), else text or a
    JSON value."""

    value: bytes | str | object = field(repr=False)
    content_type: str | None = None


Fields = list[tuple[str, BodyField]]


def media_type(content_type: str | None) -> str:
    """`image/png` of `image/png; charset=x`, lower-cased; "" when there is none."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def checked_media_type(value: str | None, where: str) -> str | None:
    """A client's media type, normalised, or a 400 naming `where` when it is not one."""
    if value is None or not value.strip():
        return None
    if _CONTROL.search(value):
        raise InvalidRequest(f"the {where} carries a control character")
    media = media_type(value)
    if not _MEDIA_TYPE.match(media):
        raise InvalidRequest(f"the {where} is not a media type such as image/png")
    return media


def body_fields(body: bytes, content_type: str | None) -> Fields | None:
    """The fields of a JSON, multipart or URL-encoded body; None for any other type."""
    media = media_type(content_type)
    if media == "application/json":
        return _json_fields(body)
    if media == "multipart/form-data":
        return _multipart_fields(body, content_type or "")
    if media == "application/x-www-form-urlencoded":
        return _form_fields(body)
    return None


def _json_fields(body: bytes) -> Fields:
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: [[[[... bombs
        raise InvalidRequest("the body is not valid JSON") from None
    if not isinstance(document, dict):
        raise InvalidRequest("the JSON body must be an object")
    return [(name, BodyField(value)) for name, value in document.items()]


def _form_fields(body: bytes) -> Fields:
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError:
        raise InvalidRequest("the form body is not UTF-8") from None
    return [(name, BodyField(value)) for name, value in pairs]


def multipart_boundary(content_type: str) -> str:
    """The boundary parameter, checked as RFC 2046 defines it (1-70 ASCII characters)."""
    for parameter in content_type.split(";")[1:]:
        name, _, value = parameter.strip().partition("=")
        if name.strip().lower() == "boundary":
            boundary = value.strip().strip('"')
            if not boundary:
                break
            if not boundary.isascii() or len(boundary) > 70 or _CONTROL.search(boundary):
                raise InvalidRequest("the multipart boundary must be 1 to 70 ASCII characters")
            return boundary
    raise InvalidRequest("multipart/form-data needs a boundary")


def _multipart_fields(body: bytes, content_type: str) -> Fields:
    parser = PushMultipartParser(multipart_boundary(content_type), strict=True,
                                 max_header_size=MAX_PART_HEADER_BYTES,
                                 max_segment_count=MAX_PARTS)
    fields: Fields = []
    segment: MultipartSegment | None = None
    chunks: list[bytes] = []
    try:
        for event in [*parser.parse(body), *parser.parse(b"")]:
            if isinstance(event, MultipartSegment):
                segment, chunks = event, []
            elif event is None and segment is not None:
                fields.append((segment.name, _part_field(segment, b"".join(chunks))))
                segment = None
            elif isinstance(event, bytes | bytearray):
                chunks.append(bytes(event))
    except MultipartError as error:
        raise InvalidRequest(f"the multipart body is malformed ({_reason(error)})") from None
    if not parser.closed:
        raise InvalidRequest("the multipart body ends before its closing delimiter")
    if not fields:
        raise InvalidRequest("the multipart body has no parts")
    return fields


def _part_field(segment: MultipartSegment, content: bytes) -> BodyField:
    for name, value in segment.headerlist:
        if _CONTROL.search(name) or _CONTROL.search(value):
            raise InvalidRequest("a multipart part header carries a control character")
    if not segment.name:
        raise InvalidRequest("a multipart part has no name")
    if segment.filename is not None or segment.name in FILE_FIELDS:
        return BodyField(content, checked_media_type(segment.content_type,
                                                     "part's Content-Type"))
    return BodyField(content.decode("utf-8", errors="replace"))


def _reason(error: MultipartError) -> str:
    """The parser's own sentence, without anything of the body."""
    text = str(error).split("\n", 1)[0]
    return text[:120] if text.isprintable() else "unreadable part"
