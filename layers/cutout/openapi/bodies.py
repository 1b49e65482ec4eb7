"""Request bodies and options of the two removal routes: what Powertools cannot say.

Both routes read one image in four encodings (raw, multipart, JSON, form) with options in
the query string or the body; the schemas come from the engine's option definitions and
the parsers' field lists, so an option or field without a schema fails the build.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from cutout.api import removebg_request
from cutout.api.image_url import MAX_URL_CHARS
from cutout.api.removal_request import ALIASES, SOURCES
from cutout.api.removebg_contract import CREDITS_CHARGED, DETECTED_TYPE
from cutout.engine import options as engine_options
from cutout.engine.decode import SAFE_FORMATS
from cutout.engine.options import (
    CHANNELS,
    EDGE_DESCRIPTION,
    EDGES,
    FORMAT_DESCRIPTION,
    FORMATS,
    MAX_MARGIN_PERCENT,
    MAX_MARGIN_PX,
    MAX_SIDE,
    NAMED_SIZES,
    OPTION_NAMES,
    POSITION_DESCRIPTION,
    POSITION_PATTERN,
    SCALE_DESCRIPTION,
    SCALE_PATTERN,
    RemovalOptions,
)
from cutout.limits import MAX_INLINE_IMAGE_BYTES, MAX_OBJECT_IMAGE_BYTES
from cutout.openapi.catalogue import (
    JSON,
    answers_by_status,
    ref,
    removal_headers_of,
    removebg_error_codes,
)
from cutout.openapi.models import IMAGE_TYPES, RemoveBgResult, ResultLink
from cutout.service.requests import UPLOAD_ID

IMAGE_URL_DESCRIPTION = (
    "An S3 object of this account inside the deployment, never fetched from the internet: "
    "`s3://<bucket>/<account_id>/<key>` or its https URL (virtual-hosted "
    "`https://<bucket>.s3.<region>.amazonaws.com/...` or path style), the bucket on the "
    "deployment's source allow-list (`cutout:batch_source_buckets`); or this account's upload, "
    "`s3://<transient bucket>/uploads/<account_id>/<upload_id>`. Read through a session that "
    "may read only that object; anything else is `400 image_url_not_allowed`.")


def option_schema(name: str, *, default_size: str | None = None) -> dict[str, Any]:
    """The schema of one engine option, with its values and default from the engine."""
    defaults = {f.name: f.default for f in fields(RemovalOptions)}
    schemas: dict[str, dict[str, Any]] = {
        "format": {"type": "string", "enum": list(FORMATS), "default": defaults["format"],
                   "description": "Output format; `jpg` has no alpha and is flattened onto "
                                  "`bg_color` (white by default). " + FORMAT_DESCRIPTION},
        "channels": {"type": "string", "enum": list(CHANNELS), "default": defaults["channels"],
                     "description": "The cutout (`rgba`) or only its mask (`alpha`)."},
        "bg_color": {"type": "string", "pattern": engine_options._HEX.pattern + "|^[A-Za-z]+$",
                     "description": "Flatten onto this colour: hex `#rgb`, `#rrggbb`, "
                                    "`#rrggbbaa` (with or without `#`) or a CSS colour name."},
        "size": {"oneOf": [
            {"type": "string", "enum": list(NAMED_SIZES)},
            {"type": "integer", "minimum": 1, "maximum": MAX_SIDE},
            {"type": "string", "pattern": "^[0-9]+$"}],
            "default": default_size or defaults["size"],
            "description": "A named size ("
                           + ", ".join(f"`{n}`: {_pixels(p)}" for n, p in NAMED_SIZES.items())
                           + f") or a maximum side in pixels (1-{MAX_SIDE}); never upscaled."},
        "edge": {"type": "string", "enum": list(EDGES), "default": defaults["edge"],
                 "description": EDGE_DESCRIPTION},
        "scale": {"type": "string", "pattern": SCALE_PATTERN, "default": "original",
                  "description": SCALE_DESCRIPTION},
        "position": {"type": "string", "pattern": POSITION_PATTERN, "default": "original",
                     "description": POSITION_DESCRIPTION},
        "crop": {"type": ["boolean", "string"], "default": defaults["crop"],
                 "description": "Crop to the subject (`true`/`false`, also as strings)."},
        "crop_margin": {"oneOf": [
            {"type": "number", "minimum": 0, "maximum": MAX_MARGIN_PX},
            {"type": "string", "pattern": engine_options._MARGIN.pattern}],
            "default": defaults["crop_margin"],
            "description": f"Margin around the crop: pixels (`30`, `30px`, up to "
                           f"{MAX_MARGIN_PX}) or a percentage of the subject (`10%`, up to "
                           f"{MAX_MARGIN_PERCENT:g})."},
    }
    if name not in schemas:
        raise ValueError(f"option {name!r} has no OpenAPI schema: describe it in {__name__}")
    return schemas[name]


def _pixels(budget: int | None) -> str:
    return "no downscaling" if budget is None else f"{budget / 1_000_000:g} MP"


def query_option(name: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": option_schema(name)}


# A background image under the cutout (cutout.engine.background), on both routes.
BACKGROUND_SCHEMAS: dict[str, dict[str, Any]] = {
    "bg_image_file": {"type": "string", "contentMediaType": "application/octet-stream",
                      "description": "A background image (multipart only), fitted to the "
                      "canvas as remove.bg does it (centred, resized to fill, aspect kept) "
                      "and laid under the cutout; bounded and decoded as the image is. Not "
                      "with `bg_color` (`multiple_bg_sources`), `channels=alpha` or "
                      "`format=zip`."},
    "bg_upload_id": {"type": "string", "pattern": UPLOAD_ID.pattern,
                     "description": "A background image sent through `POST /v1/uploads`: its "
                     "`upload_id`, used as `bg_image_file` is."},
}
FILE_ONLY = ("image_file", "bg_image_file")  # multipart parts: absent from JSON and forms


def native_removal_body() -> dict[str, Any]:
    options = {name: option_schema(name) for name in OPTION_NAMES}
    aliases = {alias: {"type": "string", "description": f"Another name of `{name}`."}
               for alias, name in ALIASES.items()}
    sources = {
        "image_file": {"type": "string", "contentMediaType": "application/octet-stream",
                       "description": "The image file (multipart only)."},
        "image_base64": {"type": "string",
                         "description": "The image as base64 or a `data:` URL."},
        "upload_id": {"type": "string", "pattern": UPLOAD_ID.pattern,
                      "description": "The `upload_id` of `POST /v1/uploads`."},
        "image_url": {"type": "string", "maxLength": MAX_URL_CHARS,
                      "description": IMAGE_URL_DESCRIPTION},
    }
    missing = set(SOURCES.names) - set(sources)
    if missing:
        raise ValueError(f"image sources without an OpenAPI schema: {sorted(missing)}")
    fields_schema: dict[str, Any] = {"type": "object", "additionalProperties": False,
                     "properties": {**sources, **aliases, **options,
                                    **BACKGROUND_SCHEMAS}}
    json_fields = {**fields_schema, "properties": {
        name: schema for name, schema in fields_schema["properties"].items()
        if name not in FILE_ONLY}}
    raw = {"schema": {"type": "string", "contentMediaType": "application/octet-stream"}}
    return {
        "required": True,
        "description": f"Exactly one image: a raw body, a multipart `image_file`, or "
                       f"`image_base64` / `upload_id` / `image_url`. Inline images up to "
                       f"{MAX_INLINE_IMAGE_BYTES // (1024 * 1024)} MB; larger ones through "
                       f"`POST /v1/uploads` (up to {MAX_OBJECT_IMAGE_BYTES // (1024 * 1024)} MB) "
                       "or an S3 `image_url` inside the deployment (the same bound); no URL "
                       "is ever fetched from the internet.",
        "content": {
            **{f"image/{name.lower()}": raw for name in SAFE_FORMATS},
            "application/octet-stream": raw,
            "multipart/form-data": {"schema": fields_schema},
            JSON: {"schema": json_fields},
            "application/x-www-form-urlencoded": {"schema": json_fields},
        },
    }


def removal_answers() -> dict[str, Any]:
    return {"200": {
        "description": "The image (inline), or JSON with a short-lived signed link when the "
                       "input came through an upload or the result is too large to return "
                       "inline.",
        "headers": removal_headers_of(),
        "content": {**{media: {"schema": {"type": "string", "contentMediaType": media}}
                       for media in IMAGE_TYPES},
                    JSON: {"schema": ref(ResultLink.__name__)}}}}


REMOVEBG_FIELDS: dict[str, dict[str, Any]] = {
    "image_file": {"type": "string", "contentMediaType": "application/octet-stream",
                   "description": "The image file (multipart)."},
    "image_file_b64": {"type": "string", "description": "The image as base64 or a `data:` URL."},
    "image_url": {"type": "string", "maxLength": MAX_URL_CHARS,
                  "description": IMAGE_URL_DESCRIPTION},
    "bg_image_url": {"type": "string", "description": "Never fetched: "
                     "`400 image_url_not_supported`."},
    **BACKGROUND_SCHEMAS,
}


def _removebg_field(name: str) -> dict[str, Any]:
    if name == "format":
        return {"type": "string", "enum": list(removebg_request.FORMATS), "default": "auto",
                "description": FORMAT_DESCRIPTION + " `webp` goes beyond remove.bg."}
    if name == "size":
        schema = option_schema("size", default_size=removebg_request.DEFAULT_SIZE)
        names = [*schema["oneOf"][0]["enum"], *removebg_request.SIZE_ALIASES]
        return {**schema, "oneOf": [{"type": "string", "enum": names}, *schema["oneOf"][1:]]}
    if name in removebg_request.PASSED:
        return option_schema(name)
    if name in removebg_request.IGNORED:
        return {"type": ["string", "number", "boolean"],
                "description": "Accepted and ignored."}
    if name in removebg_request.DEFAULT_ONLY:
        default = removebg_request.DEFAULT_ONLY[name]
        return {"type": ["string", "boolean"], "default": default,
                "description": f"Only `{default}` (remove.bg's default); anything else is "
                               "`400 unsupported_option`."}
    if name in REMOVEBG_FIELDS:
        return REMOVEBG_FIELDS[name]
    raise ValueError(f"remove.bg field {name!r} has no OpenAPI schema: describe it in {__name__}")


def removebg_text_fields() -> list[str]:
    return [name for name in removebg_request.FIELDS if name not in FILE_ONLY]


def removebg_query(name: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": _removebg_field(name)}


def removebg_body() -> dict[str, Any]:
    schema = {"type": "object", "additionalProperties": False,
              "properties": {name: _removebg_field(name) for name in removebg_request.FIELDS}}
    text = {**schema, "properties": {name: _removebg_field(name)
                                     for name in removebg_text_fields()}}
    return {"required": True, "description": "Exactly one of `image_file`, `image_file_b64` "
            "and `image_url` (an S3 object inside the deployment, never an internet URL). A "
            "raw image body is the native route's form.",
            "content": {"multipart/form-data": {"schema": schema}, JSON: {"schema": text},
                        "application/x-www-form-urlencoded": {"schema": text}}}


def removebg_answers() -> dict[str, Any]:
    headers = removal_headers_of({"X-Type": DETECTED_TYPE, "X-Credits-Charged": CREDITS_CHARGED})
    answers: dict[str, Any] = {"200": {
        "description": "The image, or `{\"data\": {...}}` when the first `Accept` value is "
                       "`application/json`.",
        "headers": headers,
        "content": {**{media: {"schema": {"type": "string", "contentMediaType": media}}
                       for media in IMAGE_TYPES},
                    JSON: {"schema": ref(RemoveBgResult.__name__)}}}}
    answers.update(answers_by_status(removebg_error_codes(), "RemoveBgErrors"))
    return answers




def improve_body() -> dict[str, Any]:
    """`POST /v1.0/improve`: one image and remove.bg's two text fields."""
    from cutout.api import improve_request

    text = {"type": "string", "maxLength": improve_request.MAX_TEXT_CHARS}
    properties: dict[str, Any] = {
        "image_file": REMOVEBG_FIELDS["image_file"],
        "image_file_b64": REMOVEBG_FIELDS["image_file_b64"],
        "image_url": {"type": "string", "maxLength": MAX_URL_CHARS,
                      "description": IMAGE_URL_DESCRIPTION + " An upload is not read here."},
        "image_filename": {**text, "description": "The image's file name, kept in its note."},
        "tag": {**text, "description": "Kept in the image's note (remove.bg groups "
                                       "submissions by it)."},
    }
    missing = set(improve_request.FIELDS) - set(properties)
    if missing:
        raise ValueError(f"improve fields without an OpenAPI schema: {sorted(missing)}")
    schema = {"type": "object", "additionalProperties": False, "properties": properties}
    json_schema = {**schema, "properties": {name: value for name, value in properties.items()
                                            if name != "image_file"}}
    return {"required": True,
            "description": "Exactly one of `image_file`, `image_file_b64` and `image_url`, "
                           "bounded as the remove.bg route's image is (`file_too_large` past "
                           "it).",
            "content": {"multipart/form-data": {"schema": schema}, JSON: {"schema": json_schema},
                        "application/x-www-form-urlencoded": {"schema": json_schema}}}
