"""What a `POST /v1/remove-background` asks for: exactly one image source and the options.

Sources: a raw image body (`image/*` or `application/octet-stream`), a multipart
`image_file`, or a JSON / form field `image_base64` or `upload_id`. Options come from the
query string and from the form or JSON fields. No engine import here: the zip functions
may load this module.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.message import Message
from urllib.parse import parse_qsl

from cutout.errors import (
    ImageTooLarge,
    ImageUrlRefused,
    InvalidOption,
    InvalidRequest,
    MissingSource,
    MultipleSources,
    UnsupportedMediaType,
)

OPTION_NAMES = ("format", "channels", "bg_color", "size", "crop", "crop_margin")
SOURCE_FIELDS = ("image_file", "image_base64", "upload_id")
ALIASES = {"image_file_b64": "image_base64"}  # remove.bg's name for the same thing
MAX_INLINE_BYTES = 6 * 1024 * 1024  # what a synchronous Lambda invocation carries
UPLOAD_ID = re.compile(r"^[A-Za-z0-9_-]{32,64}$")
RAW_TYPES = ("application/octet-stream",)


@dataclass(frozen=True)
class RemovalRequest:
    """One image source (inline bytes or an upload id) and the raw option values."""

    image: bytes | None = field(default=None, repr=False)
    image_content_type: str = "application/octet-stream"
    upload_id: str | None = None
    params: dict[str, object] = field(default_factory=dict)


def parse_removal_request(body: bytes, content_type: str | None,
                          query: Mapping[str, str] | None = None) -> RemovalRequest:
    """Parse the decoded request body; raises 400/413/415 errors naming what is wrong."""
    params: dict[str, object] = dict(query or {})
    for name in params:
        if name not in OPTION_NAMES:
            raise InvalidOption(f"unknown query parameter {name!r}; options are "
                                f"{', '.join(OPTION_NAMES)} (image sources go in the body)")
    media = media_type(content_type)
    if not body:
        raise MissingSource("send an image: a raw image body, multipart image_file, "
                            "or JSON image_base64 / upload_id")
    if media.startswith("image/") or media in RAW_TYPES:
        check_inline_size(len(body))
        return RemovalRequest(image=body, image_content_type=media, params=params)
    fields = body_fields(body, content_type)
    if fields is None:
        raise UnsupportedMediaType(
            "send image/*, multipart/form-data or application/json; got "
            f"{media or 'no Content-Type'}"
        )
    return _from_fields(fields, params)


def body_fields(body: bytes, content_type: str | None) -> list[tuple[str, BodyField]] | None:
    """The named fields of a JSON, multipart or URL-encoded body; None for any other type."""
    media = media_type(content_type)
    if media == "application/json":
        return _json_fields(body)
    if media == "multipart/form-data":
        header = Message()
        header["content-type"] = content_type or ""
        return _multipart_fields(body, header)
    if media == "application/x-www-form-urlencoded":
        return _form_fields(body)
    return None


def media_type(content_type: str | None) -> str:
    """`image/png` of `image/png; charset=x`, lower-cased; "" when there is none."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def check_upload_id(upload_id: object) -> str:
    if not isinstance(upload_id, str) or not UPLOAD_ID.match(upload_id):
        raise InvalidRequest("upload_id is not a valid upload id")
    return upload_id


def check_inline_size(size: int) -> None:
    """Refuse an inline image over what a synchronous Lambda invocation carries."""
    if size > MAX_INLINE_BYTES:
        raise ImageTooLarge("the image is over 6 MB: send it through POST /v1/uploads instead")


@dataclass
class BodyField:
    """One named value of a body: bytes for a file part (with its declared type), else text
    or a JSON value."""

    value: bytes | str | object = field(repr=False)
    content_type: str | None = None


def _from_fields(fields: list[tuple[str, BodyField]], params: dict[str, object]) -> RemovalRequest:
    sources: list[tuple[str, BodyField]] = []
    for raw_name, item in fields:
        name = ALIASES.get(raw_name, raw_name)
        if name == "image_url":
            raise ImageUrlRefused("image_url is not supported: this API never fetches URLs; "
                                  "upload the image (POST /v1/uploads) or send it in the body")
        if name in SOURCE_FIELDS:
            sources.append((name, item))
        elif name in OPTION_NAMES:
            params[name] = item.value
        else:
            options = ", ".join(OPTION_NAMES)
            raise InvalidOption(f"unknown field {raw_name!r}; options are {options}")
    if not sources:
        raise MissingSource("name an image: image_file, image_base64 or upload_id")
    if len(sources) > 1:
        raise MultipleSources("send exactly one of image_file, image_base64 and upload_id")
    name, item = sources[0]
    if name == "upload_id":
        return RemovalRequest(upload_id=check_upload_id(item.value), params=params)
    if name == "image_base64":
        image = decode_base64(item.value)
        content_type = "application/octet-stream"
    else:
        image = item.value if isinstance(item.value, bytes) else str(item.value).encode()
        content_type = item.content_type or "application/octet-stream"
    if not image:
        raise MissingSource(f"{name} is empty")
    check_inline_size(len(image))
    return RemovalRequest(image=image, image_content_type=content_type, params=params)


def decode_base64(value: object, name: str = "image_base64") -> bytes:
    """The bytes of a base64 (or data: URL) field, checked against the inline limit first."""
    if not isinstance(value, str):
        raise InvalidRequest(f"{name} must be a base64 string")
    text = value.strip()
    if text.startswith("data:") and "," in text:  # a data URL: keep the payload
        text = text.split(",", 1)[1]
    check_inline_size(len(text) * 3 // 4)
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidRequest(f"{name} is not valid base64") from None


def _json_fields(body: bytes) -> list[tuple[str, BodyField]]:
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: [[[[... bombs
        raise InvalidRequest("the body is not valid JSON") from None
    if not isinstance(document, dict):
        raise InvalidRequest("the JSON body must be an object")
    return [(name, BodyField(value)) for name, value in document.items()]


def _form_fields(body: bytes) -> list[tuple[str, BodyField]]:
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError:
        raise InvalidRequest("the form body is not UTF-8") from None
    return [(name, BodyField(value)) for name, value in pairs]


def _multipart_fields(body: bytes, header: Message) -> list[tuple[str, BodyField]]:
    """A small multipart/form-data reader: exact bytes, no temporary files."""
    boundary = header.get_param("boundary", header="content-type")
    if not isinstance(boundary, str) or not boundary:
        raise InvalidRequest("multipart/form-data needs a boundary")
    if not boundary.isascii() or len(boundary) > 70:  # RFC 2046: at most 70 ASCII characters
        raise InvalidRequest("the multipart boundary must be at most 70 ASCII characters")
    delimiter = b"--" + boundary.encode("ascii")
    chunks = body.split(delimiter)
    if len(chunks) < 3:
        raise InvalidRequest("the multipart body has no parts")
    fields: list[tuple[str, BodyField]] = []
    for chunk in chunks[1:]:
        if chunk.startswith(b"--"):
            break  # the closing delimiter
        chunk = chunk[2:] if chunk.startswith(b"\r\n") else chunk
        chunk = chunk[:-2] if chunk.endswith(b"\r\n") else chunk
        head, sep, content = chunk.partition(b"\r\n\r\n")
        if not sep:
            raise InvalidRequest("a multipart part has no header/body separator")
        part = Message()
        for line in head.decode("latin-1").split("\r\n"):
            name, colon, value = line.partition(":")
            if colon:
                part[name.strip()] = value.strip()
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            raise InvalidRequest("a multipart part has no name")
        is_file = part.get_param("filename", header="content-disposition") is not None
        if is_file or name == "image_file":
            declared = part.get_content_type() if part.get("content-type") else None
            fields.append((name, BodyField(content, declared)))
        else:
            fields.append((name, BodyField(content.decode("utf-8", errors="replace"))))
    return fields
