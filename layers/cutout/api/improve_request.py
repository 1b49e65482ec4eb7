"""What a remove.bg `POST /v1.0/improve` asks for, as a domain `Submission`.

remove.bg's fields: one image (`image_file`, `image_file_b64`), `image_filename` and `tag`,
under the same bounds as a removal's image (`removebg_request.SOURCES`: 6 MB inline, not
empty), or `image_url` naming an S3 object inside the deployment (`cutout.api.image_url`,
never an address to fetch). Any other field is a 400 naming the fields there are.
"""

from __future__ import annotations

import re

from cutout.api.body import BodyField
from cutout.api.image_source import pick_image_source
from cutout.api.removebg_request import SEND_FIELDS, SOURCES
from cutout.api.request_fields import readable_fields
from cutout.errors import InvalidOption, MissingSource
from cutout.service.improve import Submission
from cutout.service.requests import BucketObject, InlineImage

TEXT_FIELDS = ("image_filename", "tag")
FIELDS = ("image_file", "image_file_b64", "image_url", *TEXT_FIELDS)
MAX_TEXT_CHARS = 255
# Printable text only: a tag or a file name never carries a line break into a stored note.
_TEXT = re.compile(r"^[^\x00-\x1f\x7f]*$")


def parse_improve_request(body: bytes, content_type: str | None) -> Submission:
    """The submission; raises 400-class errors naming the field."""
    if not body:
        raise MissingSource("send the image as image_file (multipart) or image_file_b64")
    sources: list[tuple[str, BodyField]] = []
    texts: dict[str, str] = {}
    for name, item in readable_fields(body, content_type, SEND_FIELDS):
        if name in SOURCES.names:
            sources.append((name, item))
        elif name in TEXT_FIELDS:
            texts[name] = _text(name, item.value)
        else:
            raise InvalidOption(f"unknown field {name!r}; /v1.0/improve takes "
                                f"{', '.join(FIELDS)}")
    source = pick_image_source(sources, SOURCES)
    if not isinstance(source, InlineImage | BucketObject):  # remove.bg's have no upload_id
        raise InvalidOption("send the image as image_file, image_file_b64 or image_url")
    return Submission(source=source, tag=texts.get("tag") or None,
                      filename=texts.get("image_filename") or None)


def _text(name: str, value: object) -> str:
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
    if not isinstance(text, str):
        raise InvalidOption(f"{name} must be a string")
    text = text.strip()
    if len(text) > MAX_TEXT_CHARS or not _TEXT.match(text):
        raise InvalidOption(f"{name} must be printable text of at most {MAX_TEXT_CHARS} "
                            "characters")
    return text
