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
from cutout.api.body import BodyField, body_fields, media_type
from cutout.api.image_source import SourceRules, check_inline_size, pick_image_source
from cutout.engine.options import OPTION_NAMES, RemovalOptions
from cutout.errors import InvalidOption, MissingSource, UnsupportedMediaType
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
    fields = body_fields(body, content_type)
    if fields is None:
        raise UnsupportedMediaType(
            "send image/*, multipart/form-data or application/json; got "
            f"{media or 'no Content-Type'}")
    sources: list[tuple[str, BodyField]] = []
    backgrounds: list[tuple[str, BodyField]] = []
    for raw_name, item in fields:
        name = ALIASES.get(raw_name, raw_name)
        if name in SOURCES.names:
            sources.append((name, item))
        elif name in BACKGROUND_FIELDS:
            backgrounds.append((name, item))
        elif name in OPTION_NAMES:
            params[name] = item.value
        else:
            raise InvalidOption(f"unknown field {raw_name!r}; options are "
                                f"{', '.join(OPTION_NAMES)}, and a background image in "
                                f"{' or '.join(BACKGROUND_FIELDS)}")
    source = pick_image_source(sources, SOURCES)
    # Bad options fail here, before an upload is read or the engine runs.
    options = RemovalOptions.from_params(params)
    return RemovalRequest(source, options, pick_background(backgrounds, options, SOURCES))
