"""The OpenAPI 3.1 document of the API, built from the code's own definitions.

Routes come from the local gateway's route table (the stack wires the same routes), option
names and values from the engine, error codes and statuses from the error classes, headers
and bodies from the functions that write them. A route, option, header or view field the
code gains without a description here fails the build, so the document cannot drift.
Not imported by any function: it may load the engine (Pillow) and the local gateway.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable
from dataclasses import fields
from types import SimpleNamespace
from typing import Any

from cutout import __version__
from cutout.api.authorizer import API_KEY_HEADER
from cutout.api.removebg import (
    CREDITS_CHARGED,
    DETECTED_TYPE,
    REMOVEBG_PATH,
    TITLES,
    removebg_error,
)
from cutout.api.responses import base_headers, removal_headers
from cutout.api.views import account_view, result_link_view, upload_view
from cutout.data.accounts import Account
from cutout.engine import options as engine_options
from cutout.engine.options import (
    CHANNELS,
    FORMATS,
    MAX_MARGIN_PERCENT,
    MAX_MARGIN_PX,
    MAX_SIDE,
    NAMED_SIZES,
    OPTION_NAMES,
    RemovalOptions,
)
from cutout.errors import (
    AccountNotFound,
    ConfigurationError,
    Conflict,
    CutoutError,
    Forbidden,
    ImageTooLarge,
    ImageUrlRefused,
    InvalidOption,
    InvalidRequest,
    MissingSource,
    ModelError,
    MultipleSources,
    ResultTooLarge,
    Throttled,
    TrainingDeletionFailed,
    Unauthorized,
    UndecodableImage,
    UnsupportedMediaType,
    UploadNotFound,
)
from cutout.local.gateway import ROUTES
from cutout.api import removebg_request
from cutout.api.removal_request import ALIASES, SOURCE_FIELDS
from cutout.api.removebg_request import FileTooLarge, UnsupportedOption
from cutout.service import retention  # noqa: F401 - defines an error class of its own
from cutout.service.removebg import ResolutionTooHigh, UnknownForeground
from cutout.service.requests import MAX_INLINE_BYTES
from cutout.service.uploads import MAX_UPLOAD_BYTES

OPENAPI_VERSION = "3.1.0"
ROUTE_NOT_FOUND = "route_not_found"  # answered by `cutout.api.errors` for an unknown route
OPT_IN_FIELD = "opt_in"
JSON = "application/json"
IMAGE_TYPES = sorted({RemovalOptions(format=fmt).content_type for fmt in set(FORMATS.values())})

# The modules that define error classes (a test proves no other module does).
ERROR_MODULES = ("cutout.errors", "cutout.api.removebg_request", "cutout.service.removebg",
                 "cutout.service.retention")
# What a code means, where its class has no docstring that says it (or says something else).
MEANINGS = {
    "internal_error": "Our fault; the `request_id` lets us find it in the logs.",
    "invalid_request": "Malformed JSON or form, bad base64, a bad `upload_id` or `opt_in`.",
    "invalid_option": "An option with a bad value, or an unknown option or field.",
    "unauthorized": "No `x-api-key` header (or no authenticated account reached the function).",
    "forbidden": "The key is unknown or revoked (see `reason`).",
    "account_not_found": "The key's account no longer exists.",
    "conflict": "A concurrent change won; read again and retry.",
    "unsupported_media_type": "A `Content-Type` the route does not read (or none).",
    "throttled": "Over the usage plan's rate or quota; see `Retry-After`.",
    "not_found": "Something named in the request does not exist.",
    "key_not_found": "No such key for this account.",
    "revoked_api_key": "The presented API key has been revoked.",
}
# Where a code surfaces when a route does not answer it under its own name.
SURFACES = {
    "invalid_api_key": "Never a `code`: answered as 403 `forbidden` with this `reason`.",
    "revoked_api_key": "Never a `code`: answered as 403 `forbidden` with this `reason`.",
    "key_not_found": "Admin commands only (`cutout keys revoke`).",
    "not_found": "The base of the 404 codes; answered as one of them.",
    "sweep_incomplete": "The scheduled sweeper only: a failed run, never an HTTP answer.",
    "result_too_large": "The remove.bg route only (as 400); the native route answers a signed "
                        "link instead.",
    "file_too_large": "The remove.bg route only.",
    "resolution_too_high": "The remove.bg route only.",
    "unsupported_option": "The remove.bg route only.",
    "unknown_foreground": "The remove.bg route only.",
}
EXTRA_CODES = {ROUTE_NOT_FOUND: (404, "No such path or method.")}

# Errors any authenticated route can answer (the gateway's refusals included).
COMMON_ERRORS = (Unauthorized, Forbidden, ImageTooLarge, Throttled, CutoutError,
                 ConfigurationError)


def _operations() -> dict[tuple[str, str], dict[str, Any]]:
    """What each route is, keyed like the route table; the build checks the keys match it."""
    return {
        ("POST", "/v1/remove-background"): {
            "operationId": "removeBackground",
            "summary": "Remove the background of one image",
            "parameters": [_query_option(name) for name in OPTION_NAMES],
            "requestBody": _native_removal_body(),
            "responses": _removal_answers(),
            "errors": (InvalidRequest, InvalidOption, MissingSource, MultipleSources,
                       ImageUrlRefused, UploadNotFound, AccountNotFound, UnsupportedMediaType,
                       UndecodableImage, ModelError),
        },
        ("POST", "/v1/uploads"): {
            "operationId": "createUpload",
            "summary": "Get a signed URL to upload a large image",
            "responses": {"201": {
                "description": "A presigned PUT for one object key; send exactly `headers`.",
                "headers": _headers(base_headers("")),
                "content": {JSON: {"schema": _ref("Upload")}}}},
            "errors": (),
        },
        ("GET", "/v1/account"): {
            "operationId": "getAccount",
            "summary": "The account and its training opt-in",
            "responses": {"200": {"description": "The calling key's account.",
                                  "headers": _headers(base_headers("")),
                                  "content": {JSON: {"schema": _ref("Account")}}}},
            "errors": (AccountNotFound,),
        },
        ("PUT", "/v1/account/training-opt-in"): {
            "operationId": "setTrainingOptIn",
            "summary": "Switch the training opt-in on or off (off deletes what was kept)",
            "requestBody": {"required": True, "content": {JSON: {"schema": {
                "type": "object", "required": [OPT_IN_FIELD], "properties": {
                    OPT_IN_FIELD: {"type": "boolean"}}}}}},
            "responses": {"200": {"description": "The account after the change.",
                                  "headers": _headers(base_headers("")),
                                  "content": {JSON: {"schema": _ref("OptInOutcome")}}}},
            "errors": (InvalidRequest, AccountNotFound, Conflict, TrainingDeletionFailed),
        },
        ("POST", REMOVEBG_PATH): {
            "operationId": "removeBgV1",
            "summary": "Remove the background, in remove.bg's v1.0 contract",
            "description": "Field names, defaults, answers and the `{\"errors\": [...]}` error "
                           "shape of remove.bg's v1.0 API; `image_url` is never fetched.",
            "parameters": [_removebg_query(name) for name in _removebg_text_fields()],
            "requestBody": _removebg_body(),
            "responses": _removebg_answers(),
            "errors": (),  # answered in remove.bg's shape, below
        },
    }


def build_document() -> dict[str, Any]:
    """The OpenAPI 3.1 document of every route in the route table."""
    operations = _operations()
    if set(operations) != set(ROUTES):
        raise ValueError("the OpenAPI operations and the route table differ: "
                         f"{sorted(set(operations) ^ set(ROUTES))}")
    paths: dict[str, dict[str, Any]] = {}
    for method, path in ROUTES:
        operation = dict(operations[(method, path)])
        errors = operation.pop("errors")
        if path != REMOVEBG_PATH:
            operation["responses"].update(_error_answers((*errors, *COMMON_ERRORS)))
        paths.setdefault(path, {})[method.lower()] = operation
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "cutout",
            "version": __version__,
            "summary": "Privacy-first background removal, deployed in your own AWS account.",
            "description": "Generated from the code by `cutout openapi`; do not edit by hand.",
        },
        "servers": [{"url": "{base}", "description": "The stack's `ApiUrl` output, or "
                     "`http://127.0.0.1:8080` with `cutout serve`",
                     "variables": {"base": {"default": "http://127.0.0.1:8080"}}}],
        "security": [{"apiKey": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {"apiKey": {"type": "apiKey", "in": "header",
                                           "name": API_KEY_HEADER}},
            "headers": {name: {"description": text, "schema": {"type": "string"}}
                        for name, text in HEADER_DESCRIPTIONS.items()},
            "schemas": _schemas(),
        },
    }


# --- errors ----------------------------------------------------------------------------------
def error_classes() -> list[type[CutoutError]]:
    """Every CutoutError class of `ERROR_MODULES` (the base included), by status and code."""
    found: list[type[CutoutError]] = [CutoutError]
    for cls in found:
        found.extend(sub for sub in cls.__subclasses__()
                     if sub not in found and sub.__module__ in ERROR_MODULES)
    return sorted(found, key=lambda cls: (cls.status, cls.code))


def error_codes() -> dict[str, tuple[int, str]]:
    """Each error code: the status it is answered with and what it means."""
    codes: dict[str, tuple[int, str]] = {}
    for cls in error_classes():
        if cls.code in codes:
            continue
        doc = MEANINGS.get(cls.code) or cls.__dict__.get("__doc__") or _sentence(cls.__name__)
        where = SURFACES.get(cls.code)
        # The authorizer's verdicts reach the client as a 403's `reason` (`cutout.api.authorizer`).
        status = Forbidden.status if cls.code in forbidden_reasons() else cls.status
        codes[cls.code] = (status, inspect.cleandoc(doc) + (f" {where}" if where else ""))
    codes.update(EXTRA_CODES)
    return codes


def forbidden_reasons() -> list[str]:
    """The `reason` values of a 403: the codes of the key refusals the authorizer denies."""
    return [cls.code for cls in error_classes()
            if issubclass(cls, Unauthorized) and cls is not Unauthorized]


def _error_answers(errors: Iterable[type[CutoutError]]) -> dict[str, Any]:
    by_status: dict[int, list[str]] = {}
    for cls in errors:
        by_status.setdefault(cls.status, [])
        if cls.code not in by_status[cls.status]:
            by_status[cls.status].append(cls.code)
    answers = {}
    for status in sorted(by_status):
        codes = ", ".join(f"`{code}`" for code in by_status[status])
        answer: dict[str, Any] = {"description": f"Error: {codes}.",
                                  "headers": _headers(base_headers("")),
                                  "content": {JSON: {"schema": _ref("Error")}}}
        if status == Throttled.status:
            answer["headers"] = {**answer["headers"], "Retry-After": {
                "$ref": "#/components/headers/Retry-After"}}
        answers[str(status)] = answer
    return answers


def _sentence(class_name: str) -> str:
    words = "".join(f" {c.lower()}" if c.isupper() else c for c in class_name).strip()
    return words[:1].upper() + words[1:] + "."


# --- the native removal ----------------------------------------------------------------------
def option_schema(name: str, *, default_size: str | None = None) -> dict[str, Any]:
    """The schema of one engine option, with its values and default from the engine."""
    defaults = {f.name: f.default for f in fields(RemovalOptions)}
    schemas: dict[str, dict[str, Any]] = {
        "format": {"type": "string", "enum": list(FORMATS), "default": defaults["format"],
                   "description": "Output format; `jpg` has no alpha and is flattened onto "
                                  "`bg_color` (white by default)."},
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


def _query_option(name: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": option_schema(name)}


def _native_removal_body() -> dict[str, Any]:
    options = {name: option_schema(name) for name in OPTION_NAMES}
    aliases = {alias: {"type": "string", "description": f"Another name of `{name}`."}
               for alias, name in ALIASES.items()}
    sources = {
        "image_file": {"type": "string", "contentMediaType": "application/octet-stream",
                       "description": "The image file (multipart only)."},
        "image_base64": {"type": "string",
                         "description": "The image as base64 or a `data:` URL."},
        "upload_id": {"type": "string", "pattern": "^[A-Za-z0-9_-]{32,64}$",
                      "description": "The `upload_id` of `POST /v1/uploads`."},
    }
    missing = set(SOURCE_FIELDS) - set(sources)
    if missing:
        raise ValueError(f"image sources without an OpenAPI schema: {sorted(missing)}")
    fields_schema = {"type": "object", "additionalProperties": False,
                     "properties": {**sources, **aliases, **options}}
    json_fields = {**fields_schema, "properties": {
        name: schema for name, schema in fields_schema["properties"].items()
        if name != "image_file"}}
    raw = {"schema": {"type": "string", "contentMediaType": "application/octet-stream"}}
    return {
        "required": True,
        "description": f"Exactly one image: a raw body, a multipart `image_file`, or "
                       f"`image_base64` / `upload_id`. Inline images up to "
                       f"{MAX_INLINE_BYTES // (1024 * 1024)} MB; larger ones through "
                       f"`POST /v1/uploads` (up to {MAX_UPLOAD_BYTES // (1024 * 1024)} MB). "
                       "`image_url` is refused: the service never fetches a URL.",
        "content": {
            "image/*": raw,
            "application/octet-stream": raw,
            "multipart/form-data": {"schema": fields_schema},
            JSON: {"schema": json_fields},
            "application/x-www-form-urlencoded": {"schema": json_fields},
        },
    }


def _removal_headers(extra: dict[str, str] | None = None) -> dict[str, Any]:
    sample = removal_headers(1, 1, (0, 0, 1, 1), {"decode": 1.0}, 1.0)
    return _headers({**base_headers(""), **sample, **(extra or {})})


def _removal_answers() -> dict[str, Any]:
    return {"200": {
        "description": "The image (inline), or JSON with a short-lived signed link when the "
                       "input came through an upload or the result is too large to return "
                       "inline.",
        "headers": _removal_headers(),
        "content": {**{media: {"schema": {"type": "string", "contentMediaType": media}}
                       for media in IMAGE_TYPES},
                    JSON: {"schema": _ref("ResultLink")}}}}


# --- the remove.bg-compatible route ----------------------------------------------------------
REMOVEBG_FIELDS: dict[str, dict[str, Any]] = {
    "image_file": {"type": "string", "contentMediaType": "application/octet-stream",
                   "description": "The image file (multipart)."},
    "image_file_b64": {"type": "string", "description": "The image as base64 or a `data:` URL."},
    "image_url": {"type": "string", "description": "Never fetched: "
                  "`400 image_url_not_supported`."},
    "bg_image_url": {"type": "string", "description": "Never fetched: "
                     "`400 image_url_not_supported`."},
    "bg_image_file": {"type": "string", "contentMediaType": "application/octet-stream",
                      "description": "Refused: `400 unsupported_option` (use `bg_color`)."},
}


def _removebg_field(name: str) -> dict[str, Any]:
    if name == "format":
        return {"type": "string", "enum": list(removebg_request.FORMATS), "default": "auto",
                "description": "`auto`: `jpg` for a full-colour result on an opaque "
                               "`bg_color`, `png` otherwise; `zip` is refused "
                               "(`400 unsupported_option`)."}
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


def _removebg_text_fields() -> list[str]:
    return [name for name in removebg_request.FIELDS
            if name not in ("image_file", "bg_image_file")]


def _removebg_query(name: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": _removebg_field(name)}


def _removebg_body() -> dict[str, Any]:
    schema = {"type": "object", "additionalProperties": False,
              "properties": {name: _removebg_field(name) for name in removebg_request.FIELDS}}
    text = {**schema, "properties": {name: _removebg_field(name)
                                     for name in _removebg_text_fields()}}
    return {"required": True, "description": "Exactly one of `image_file`, `image_file_b64` "
            "(`image_url` is refused). A raw image body is the native route's form.",
            "content": {"multipart/form-data": {"schema": schema}, JSON: {"schema": text},
                        "application/x-www-form-urlencoded": {"schema": text}}}


REMOVEBG_ERRORS = (MissingSource, MultipleSources, ImageUrlRefused, UnsupportedOption,
                   InvalidOption, InvalidRequest, UnsupportedMediaType, FileTooLarge,
                   ResolutionTooHigh, UndecodableImage, UnknownForeground, ResultTooLarge,
                   Forbidden, Unauthorized, Throttled, CutoutError)


def removebg_error_codes() -> dict[int, list[str]]:
    """The remove.bg-shaped codes the route answers, by status (mapped by `removebg_error`)."""
    by_status: dict[int, list[str]] = {}
    for cls in REMOVEBG_ERRORS:
        status, body = removebg_error(cls.status, cls.code, "")
        code = body["errors"][0]["code"]
        if code not in by_status.setdefault(status, []):
            by_status[status].append(code)
    return by_status


def _removebg_answers() -> dict[str, Any]:
    headers = _removal_headers({"X-Type": DETECTED_TYPE, "X-Credits-Charged": CREDITS_CHARGED})
    answers: dict[str, Any] = {"200": {
        "description": "The image, or `{\"data\": {...}}` when the first `Accept` value is "
                       "`application/json`.",
        "headers": headers,
        "content": {**{media: {"schema": {"type": "string", "contentMediaType": media}}
                       for media in IMAGE_TYPES},
                    JSON: {"schema": _ref("RemoveBgResult")}}}}
    for status, codes in sorted(removebg_error_codes().items()):
        listed = ", ".join(f"`{code}`" for code in codes)
        answer: dict[str, Any] = {"description": f"Error: {listed}.",
                                  "headers": _headers(base_headers("")),
                                  "content": {JSON: {"schema": _ref("RemoveBgErrors")}}}
        if status == Throttled.status:
            answer["headers"] = {**answer["headers"], "Retry-After": {
                "$ref": "#/components/headers/Retry-After"}}
        answers[str(status)] = answer
    return answers


# --- headers and bodies ----------------------------------------------------------------------
HEADER_DESCRIPTIONS = {
    "X-Request-Id": "The API Gateway request id (quote it to support).",
    "Cache-Control": "Always `no-store`.",
    "X-Content-Type-Options": "Always `nosniff`.",
    "X-Width": "Output width in pixels.",
    "X-Height": "Output height in pixels.",
    "X-Foreground-Left": "The subject's box in output pixels (absent when nothing was found).",
    "X-Foreground-Top": "The subject's box in output pixels (absent when nothing was found).",
    "X-Foreground-Width": "The subject's box in output pixels (absent when nothing was found).",
    "X-Foreground-Height": "The subject's box in output pixels (absent when nothing was found).",
    "X-Processing-Time-Ms": "Time spent in the function for this request.",
    "Server-Timing": "Per stage: `decode;dur=..., infer;dur=..., ...` (milliseconds).",
    "X-Type": f"Always `{DETECTED_TYPE}` (the subject is found, not classified).",
    "X-Credits-Charged": f"Always `{CREDITS_CHARGED}`.",
    "Retry-After": "Seconds to wait before retrying (429 only).",
}


def _headers(sample: dict[str, str]) -> dict[str, Any]:
    undescribed = set(sample) - set(HEADER_DESCRIPTIONS)
    if undescribed:
        raise ValueError(f"response headers without a description: {sorted(undescribed)}")
    return {name: {"$ref": f"#/components/headers/{name}"} for name in sample}


NULLABLE_TEXT = {"type": ["string", "null"]}
VIEW_FIELDS: dict[str, dict[str, Any]] = {
    "account_id": {"type": "string"},
    "created_at": {"type": "string", "format": "date-time"},
    "training_opt_in": {"type": "boolean", "description": "Off by default."},
    "training_opt_in_changed_at": {"type": ["string", "null"], "format": "date-time"},
    "training_opt_in_changed_by": {**NULLABLE_TEXT, "description":
                                   "The visible prefix of the key that made the last change, "
                                   "or `admin`."},
    "deleted_training_objects": {"type": "integer", "minimum": 0},
    "upload_id": {"type": "string"},
    "upload_url": {"type": "string", "format": "uri",
                   "description": "A presigned PUT; it signs one object key only."},
    "method": {"type": "string", "const": "PUT"},
    "headers": {"type": "object", "additionalProperties": {"type": "string"},
                "description": "Send exactly these headers with the PUT (they are signed)."},
    "expires_in": {"type": "integer", "description": "Seconds the URL stays valid."},
    "max_bytes": {"type": "integer"},
    "result_url": {"type": "string", "format": "uri",
                   "description": "A presigned GET of the result."},
    "content_type": {"type": "string", "enum": IMAGE_TYPES},
    "width": {"type": "integer"},
    "height": {"type": "integer"},
    "foreground": {"oneOf": [{"type": "null"}, {"type": "object", "properties": {
        side: {"type": "integer"} for side in ("left", "top", "width", "height")}}]},
}


def _view_schema(view: dict[str, Any]) -> dict[str, Any]:
    """An object schema with exactly the keys a view function answers with."""
    undescribed = set(view) - set(VIEW_FIELDS)
    if undescribed:
        raise ValueError(f"view fields without an OpenAPI schema: {sorted(undescribed)}")
    return {"type": "object", "required": list(view),
            "properties": {name: VIEW_FIELDS[name] for name in view}}


def _schemas() -> dict[str, Any]:
    account = account_view(Account(account_id="acct", created_at="2026-01-01T00:00:00Z"))
    upload = upload_view(SimpleNamespace(upload_id="u", max_bytes=1, presigned=SimpleNamespace(
        url="https://", headers={}, expires_in=1)))
    link = result_link_view(SimpleNamespace(
        link=SimpleNamespace(url="https://", expires_in=1),
        result=SimpleNamespace(foreground=(0, 0, 1, 1), content_type="image/png", width=1,
                               height=1)))
    codes = error_codes()
    reasons = forbidden_reasons()
    removebg_codes = sorted({c for cs in removebg_error_codes().values() for c in cs})
    return {
        "Account": _view_schema(account),
        "OptInOutcome": _view_schema({**account, "deleted_training_objects": 0}),
        "Upload": _view_schema(upload),
        "ResultLink": _view_schema(link),
        "ErrorCode": {"type": "string", "oneOf": [
            {"const": code, "description": f"HTTP {status}. {meaning}"}
            for code, (status, meaning) in codes.items()]},
        "Error": {"type": "object", "required": ["error"], "properties": {"error": {
            "type": "object", "required": ["code", "message", "request_id"], "properties": {
                "code": _ref("ErrorCode"),
                "message": {"type": "string", "description": "A sentence for a person."},
                "request_id": {"type": "string"},
                "reason": {"type": "string", "enum": [*reasons, ""],
                           "description": "`403 forbidden` only: the authorizer's verdict."},
            }}}},
        "RemoveBgResult": {"type": "object", "required": ["data"], "properties": {"data": {
            "type": "object", "properties": {
                "result_b64": {"type": "string", "contentEncoding": "base64"},
                **{f"foreground_{side}": {"type": "integer"}
                   for side in ("top", "left", "width", "height")}}}}},
        "RemoveBgErrors": {"type": "object", "required": ["errors"], "properties": {"errors": {
            "type": "array", "items": {
                "type": "object", "required": ["title", "code", "detail"], "properties": {
                    "title": {"type": "string", "examples": sorted(set(TITLES.values()))},
                    "code": {"type": "string", "enum": removebg_codes},
                    "detail": {"type": "string"}}}}}},
    }


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}
