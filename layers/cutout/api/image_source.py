"""Pick the one image a request names, for both removal routes.

The native route and remove.bg's name their sources differently (`image_base64` and
`upload_id` here, `image_file_b64` there) and word their refusals differently, but the
rules are one: exactly one source, within the inline limit, not empty; an `image_url` is
an S3 location inside the deployment (`cutout.api.image_url`), never an address to fetch.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from cutout.api.body import BodyField
from cutout.api.image_url import parse_image_url
from cutout.errors import (
    ImageTooLarge,
    InvalidRequest,
    MissingSource,
    MultipleSources,
)
from cutout.limits import MAX_INLINE_IMAGE_BYTES
from cutout.service.requests import (
    UPLOAD_ID,
    ImageSource,
    InlineImage,
    UploadedImage,
)

URL_FIELDS = ("image_url",)


@dataclass(frozen=True)
class SourceRules:
    """How one route names its sources and words what is wrong with them."""

    file_field: str
    base64_fields: tuple[str, ...]
    upload_field: str | None
    missing: str
    multiple: str
    too_large: type[ImageTooLarge] = ImageTooLarge
    too_large_message: str = ("the image is over 6 MB: send it through POST /v1/uploads "
                              "instead")

    @property
    def names(self) -> tuple[str, ...]:
        upload = (self.upload_field,) if self.upload_field else ()
        return (self.file_field, *self.base64_fields, *upload, *URL_FIELDS)


def pick_image_source(sources: list[tuple[str, BodyField]], rules: SourceRules) -> ImageSource:
    """The one source among `sources` (fields whose names are in `rules.names`)."""
    if not sources:
        raise MissingSource(rules.missing)
    if len(sources) > 1:
        raise MultipleSources(rules.multiple)
    name, item = sources[0]
    if name in URL_FIELDS:
        value = item.value
        return parse_image_url(value.decode("utf-8", "replace") if isinstance(value, bytes)
                               else value)
    if name == rules.upload_field:
        return UploadedImage(check_upload_id(item.value))
    try:
        if name in rules.base64_fields:
            image = decode_base64(item.value, name)
        else:
            value = item.value
            image = value if isinstance(value, bytes) else str(value).encode()
            check_inline_size(len(image))
    except ImageTooLarge:
        raise rules.too_large(rules.too_large_message) from None
    if not image:
        raise MissingSource(f"{name} is empty")
    return InlineImage(image)


def check_upload_id(upload_id: object) -> str:
    if not isinstance(upload_id, str) or not UPLOAD_ID.match(upload_id):
        raise InvalidRequest("upload_id is not a valid upload id")
    return upload_id


def check_inline_size(size: int) -> None:
    """Refuse an inline image over what a synchronous Lambda invocation carries."""
    if size > MAX_INLINE_IMAGE_BYTES:
        raise ImageTooLarge("the image is over 6 MB: send it through POST /v1/uploads instead")


def decode_base64(value: object, name: str) -> bytes:
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
