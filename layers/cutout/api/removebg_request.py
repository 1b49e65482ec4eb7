"""What a remove.bg v1.0 request (`POST /v1.0/removebg`) asks for, as a domain request.

remove.bg's fields become a native `RemovalRequest`, so the removal itself (and its privacy
rules) is the same service the native route uses. What we cannot do is refused with a 400
that says so, never ignored silently. `image_url` names an S3 object inside the deployment
(`cutout.api.image_url`), never an address to fetch; `bg_image_url` is refused, and a
background image comes as `bg_image_file` (multipart) or `bg_upload_id` (an upload).
"""

from __future__ import annotations

from collections.abc import Mapping

from cutout.api.background_source import BACKGROUND_FIELDS, pick_background
from cutout.api.body import BodyField
from cutout.api.image_source import SourceRules, pick_image_source
from cutout.api.request_fields import readable_fields, sort_fields
from cutout.engine.options import OPTION_NAMES, RemovalOptions
from cutout.errors import (
    FileTooLarge,
    ImageUrlRefused,
    InvalidOption,
    UnsupportedOption,
)
from cutout.flags import FALSE_WORDS, TRUE_WORDS
from cutout.service.requests import RemovalRequest

SOURCES = SourceRules(
    file_field="image_file", base64_fields=("image_file_b64",), upload_field=None,
    missing="send the image as image_file (multipart) or image_file_b64",
    multiple="send exactly one of image_file, image_file_b64 and image_url",
    too_large=FileTooLarge,
    too_large_message=("the image is over the 6 MB one request carries here; send a smaller "
                       "file, or use the native POST /v1/uploads flow"))
# Passed to the engine as they are (the engine validates them and names a bad value): the
# engine's options, which remove.bg's names match (`edge` and webp go beyond remove.bg).
PASSED = OPTION_NAMES
DEFAULT_SIZE = "preview"  # remove.bg's default, unlike the native route's `full`
SIZE_ALIASES = {"50mp": "full"}
FORMATS = ("auto", "png", "jpg", "jpeg", "zip", "webp")  # webp beyond remove.bg
# Accepted and without effect: the model finds one subject whatever its kind, and its mask
# always has soft edges.
IGNORED = ("type", "type_level", "semitransparency", "shadow_opacity")
# Accepted only with remove.bg's default value: anything else asks for work we do not do.
DEFAULT_ONLY = {
    "roi": "0% 0% 100% 100%",
    "shadow_type": "none",
    "add_shadow": "false",
}
# What a remove.bg route's 415 asks for (improve's too).
SEND_FIELDS = ("send multipart/form-data (image_file), application/x-www-form-urlencoded or "
               "application/json (image_file_b64)")
FIELDS = (*SOURCES.names, *PASSED, *IGNORED, *DEFAULT_ONLY, "bg_image_url", *BACKGROUND_FIELDS)


def parse_removebg_request(body: bytes, content_type: str | None,
                           query: Mapping[str, str] | None = None) -> RemovalRequest:
    """The native request for a remove.bg one; raises 400-class errors naming the field."""
    fields = [(name, BodyField(value)) for name, value in (query or {}).items()]
    if body:
        fields += readable_fields(body, content_type, SEND_FIELDS)
    params: dict[str, object] = {}
    parts = sort_fields(fields, SOURCES)
    for name, item in parts.rest:
        if name in PASSED:
            params[name] = item.value
        elif name in DEFAULT_ONLY:
            _require_default(name, item.value)
        elif name == "bg_image_url":
            raise ImageUrlRefused("bg_image_url is not supported: this API never fetches URLs; "
                                  "send the background as bg_image_file (multipart) or name "
                                  "an upload with bg_upload_id")
        elif name not in IGNORED:
            raise InvalidOption(f"unknown field {name!r}; remove.bg fields are "
                                f"{', '.join(FIELDS)}")
        elif not isinstance(item.value, str | bool | int | float | bytes):
            # accepted and ignored, but only as the scalar remove.bg defines
            raise InvalidOption(f"{name} must be a string")
    source = pick_image_source(parts.sources, SOURCES)
    options = RemovalOptions.from_params(_native_options(params))
    return RemovalRequest(source, options, pick_background(parts.backgrounds, options, SOURCES))


def _native_options(params: dict[str, object]) -> dict[str, object]:
    """remove.bg's defaults and value names, as the engine's options."""
    options = dict(params)
    size = _text("size", options.get("size")).lower() or DEFAULT_SIZE
    options["size"] = SIZE_ALIASES.get(size, size)
    fmt = _text("format", options.get("format")).lower() or "auto"
    if fmt not in FORMATS:
        raise InvalidOption(f"format must be auto, png, jpg, zip or webp; got {fmt!r}")
    options["format"] = fmt  # auto: the engine picks png or jpg by the result's pixels
    return options


def _require_default(name: str, value: object) -> None:
    default = DEFAULT_ONLY[name]
    text = " ".join(_text(name, value).lower().split())
    if not text or text == default or (default == "false" and text in FALSE_WORDS):
        return
    if default == "false" and text not in TRUE_WORDS:
        raise InvalidOption(f"{name} must be true or false; got {text!r}")
    raise UnsupportedOption(f"{name}={text} is not supported; only {name}={default} "
                            f"(remove.bg's default) is")


def _text(name: str, value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value).strip()
    raise InvalidOption(f"{name} must be a string, a number or a boolean")
