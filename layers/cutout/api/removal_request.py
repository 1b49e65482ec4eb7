"""`POST /v1/remove-background`: its body and query string as a domain `RemovalRequest`.

Sources: a raw image body (`image/*` or `application/octet-stream`), a multipart
`image_file`, or a JSON / form field `image_base64` (alias `image_file_b64`), `upload_id`
or `image_url` (an S3 location inside the deployment, `cutout.api.image_url`); a background
image in `bg_image_file` (multipart) or `bg_upload_id` (`cutout.api.background_source`). Options
come from the query string and from the form or JSON fields; their names and values are
the engine's (`cutout.engine.options`).
"""

from __future__ import annotations

from collections.abc import Mapping

from cutout.api.background_source import BACKGROUND_FIELDS, pick_background
from cutout.api.body import media_type
from cutout.api.image_source import SourceRules, check_inline_size, pick_image_source
from cutout.api.request_fields import readable_fields, sort_fields
from cutout.engine.options import OPTION_NAMES, RemovalOptions
from cutout.errors import InvalidOption, MissingSource
from cutout.service.requests import InlineImage, RemovalRequest

ALIASES = {"image_file_b64": "image_base64"}  # remove.bg's name for the same thing
RAW_TYPES = ("application/octet-stream",)
SOURCES = SourceRules(
    file_field="image_file", base64_fields=("image_base64",), upload_field="upload_id",
    missing="name an image: image_file, image_base64 or upload_id",
    multiple="send exactly one of image_file, image_base64, upload_id and image_url")


def parse_removal_request(body: bytes, content_type: str | None,
                          query: Mapping[str, str] | None = None) -> RemovalRequest:
    """The domain request; raises 400/413/415 errors naming what is wrong."""
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
        return RemovalRequest(InlineImage(body), RemovalOptions.from_params(params))
    fields = readable_fields(body, content_type, "send image/*, multipart/form-data or "
                             "application/json", no_type="no Content-Type")
    # An alias names a source, so every other field keeps the name the client sent.
    parts = sort_fields([(ALIASES.get(name, name), item) for name, item in fields], SOURCES)
    for name, item in parts.rest:
        if name not in OPTION_NAMES:
            raise InvalidOption(f"unknown field {name!r}; options are "
                                f"{', '.join(OPTION_NAMES)}, and a background image in "
                                f"{' or '.join(BACKGROUND_FIELDS)}")
        params[name] = item.value
    source = pick_image_source(parts.sources, SOURCES)
    # Bad options fail here, before an upload is read or the engine runs.
    options = RemovalOptions.from_params(params)
    return RemovalRequest(source, options, pick_background(parts.backgrounds, options, SOURCES))
