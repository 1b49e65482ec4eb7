"""The error-code catalogue and the response headers, read from the code that defines them.

Codes and statuses come from the error classes (`cutout.errors`), the gateway's own answers
from `cutout.api.gateway_errors`, headers from the functions that write them. A code or a
header the code gains without a description here fails the build.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable
from typing import Any

from cutout.api.gateway_errors import GATEWAY_ERRORS, retry_after
from cutout.api.gateway_templates import removebg_answer
from cutout.api.removebg_contract import CREDITS_CHARGED, DETECTED_TYPE, removebg_error
from cutout.api.responses import base_headers, removal_headers
from cutout.errors import (
    CutoutError,
    FileTooLarge,
    Forbidden,
    ImageObjectNotFound,
    ImageTooComplex,
    ImageUrlNotAllowed,
    ImageUrlRefused,
    InvalidOption,
    InvalidRequest,
    MissingSource,
    MultipleBackgrounds,
    MultipleSources,
    ResolutionTooHigh,
    ResultTooLarge,
    ServiceUnavailable,
    Throttled,
    Unauthorized,
    UndecodableImage,
    UnknownForeground,
    UnsupportedMediaType,
    UnsupportedOption,
    UploadNotFound,
)
from cutout.service.receipt import RECEIPT_PATTERN

JSON = "application/json"
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
    "image_too_large": "The input is over a bound, refused before anything is allocated: more "
                       "bytes than one request carries, more than an upload holds, or more "
                       "pixels than `CUTOUT_MAX_PIXELS` (decompression bombs).",
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
    "training_opt_in_required": "`POST /v1.0/improve` only.",
}


def gateway_codes() -> dict[str, tuple[int, str]]:
    """Codes only the gateway answers (no error class): from the stack's gateway responses."""
    return {error.code: (error.status or 400, error.message or "")
            for error in GATEWAY_ERRORS if error.status}


def error_classes() -> list[type[CutoutError]]:
    """Every CutoutError class (the base included; all live in `cutout.errors`), by status
    and code."""
    found: list[type[CutoutError]] = [CutoutError]
    for cls in found:
        found.extend(sub for sub in cls.__subclasses__() if sub not in found)
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
    for code, entry in gateway_codes().items():
        codes.setdefault(code, entry)
    return codes


def gateway_refusals() -> dict[int, list[str]]:
    """The remove.bg-shaped codes the gateway itself answers on the remove.bg route, by
    remove.bg's status.

    Each gateway response's body carries remove.bg's `errors` beside ours, with the
    response type's own status (`cutout.api.gateway_templates`). `route_not_found` is left
    out: it answers paths and methods the API does not have, never a documented operation;
    so are the DEFAULT_* types, whose status is API Gateway's own.
    """
    by_status: dict[int, list[str]] = {}
    for error in GATEWAY_ERRORS:
        if error.status and error.response_type != "MISSING_AUTHENTICATION_TOKEN":
            code, _title = removebg_answer(error)
            codes = by_status.setdefault(error.status, [])
            if code not in codes:
                codes.append(code)
    return by_status


def with_gateway_refusals(answers: dict[str, Any]) -> dict[str, Any]:
    """The remove.bg route's answers plus the gateway's own, which its gateway response
    bodies carry in remove.bg's `errors` shape too (with the gateway's statuses: 401 for a
    missing key, 413 for a body over 10 MB)."""
    merged = dict(answers)
    for status, codes in gateway_refusals().items():
        listed = ", ".join(f"`{code}`" for code in codes)
        own = merged.get(str(status))
        answer: dict[str, Any] = own if own is not None else {
            "description": "", "headers": base_headers_of(),
            "content": {JSON: {"schema": ref("RemoveBgErrors")}}}
        answer = _with_retry_after(dict(answer), status)
        answer["description"] = (f"{answer['description']} The gateway's own refusal: "
                                 f"{listed}.").strip()
        merged[str(status)] = answer
    return dict(sorted(merged.items()))


def forbidden_reasons() -> list[str]:
    """The `reason` values of a 403: the codes of the key refusals the authorizer denies."""
    return [cls.code for cls in error_classes()
            if issubclass(cls, Unauthorized) and cls is not Unauthorized]


def error_answers(errors: Iterable[type[CutoutError]]) -> dict[str, Any]:
    """The native error answers of a route that can raise `errors`, one per status."""
    by_status: dict[int, list[str]] = {}
    for cls in errors:
        by_status.setdefault(cls.status, [])
        if cls.code not in by_status[cls.status]:
            by_status[cls.status].append(cls.code)
    return answers_by_status(by_status, "Error")


def answers_by_status(by_status: dict[int, list[str]], schema: str) -> dict[str, Any]:
    """One documented answer per status, listing its codes, in the error shape `schema`."""
    answers = {}
    for status in sorted(by_status):
        codes = ", ".join(f"`{code}`" for code in by_status[status])
        answer: dict[str, Any] = {"description": f"Error: {codes}.",
                                  "headers": base_headers_of(),
                                  "content": {JSON: {"schema": ref(schema)}}}
        answers[str(status)] = _with_retry_after(answer, status)
    return answers


def _with_retry_after(answer: dict[str, Any], status: int) -> dict[str, Any]:
    """`answer` documenting `Retry-After` where an answer of `status` carries it."""
    if not retry_after(status):
        return answer
    return {**answer, "headers": {**answer["headers"], "Retry-After": {
        "$ref": "#/components/headers/Retry-After"}}}


def _sentence(class_name: str) -> str:
    words = "".join(f" {c.lower()}" if c.isupper() else c for c in class_name).strip()
    return words[:1].upper() + words[1:] + "."



REMOVEBG_ERRORS = (MissingSource, MultipleSources, ImageUrlRefused, ImageUrlNotAllowed,
                   ImageObjectNotFound, UnsupportedOption, MultipleBackgrounds, UploadNotFound,
                   InvalidOption, InvalidRequest,
                   UnsupportedMediaType, FileTooLarge, ResolutionTooHigh, UndecodableImage,
                   ImageTooComplex, UnknownForeground, ResultTooLarge,
                   Forbidden, Unauthorized, Throttled, ServiceUnavailable, CutoutError)


def removebg_error_codes(errors: Iterable[type[CutoutError]] = REMOVEBG_ERRORS,
                         ) -> dict[int, list[str]]:
    """The remove.bg-shaped codes a route answers for `errors` (by default the removal
    route's), by remove.bg's status (mapped by `removebg_error`)."""
    by_status: dict[int, list[str]] = {}
    for cls in errors:
        status, body = removebg_error(cls.status, cls.code, "")
        code = body["errors"][0]["code"]
        if code not in by_status.setdefault(status, []):
            by_status[status].append(code)
    return by_status


def removebg_error_answers(errors: Iterable[type[CutoutError]]) -> dict[str, Any]:
    """The error answers of another remove.bg route that can raise `errors`, in its shape."""
    return answers_by_status(removebg_error_codes(errors), "RemoveBgErrors")


HEADER_DESCRIPTIONS = {
    "X-Request-Id": "The API Gateway request id (quote it to support).",
    "Cache-Control": "Always `no-store`.",
    "X-Content-Type-Options": "Always `nosniff`.",
    "X-Cutout-Retention": (
        "The retention receipt: what this request stored and until when. `none` when it "
        "wrote nothing (an inline answer, an error, a gateway refusal); otherwise a comma "
        "list of `kind=delete-by`, one per object written, `kind` one of `result`, `upload`, "
        "`training-input`, `training-mask`, `training-note`, `batch-report`, "
        "`batch-report-step`, and "
        "`delete-by` the UTC time (`YYYY-MM-DDTHH:MM:SSZ`) by which the deployment's own "
        "rules delete it at the latest (docs/retention.md)."),
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
    "Retry-After": "Seconds to wait before retrying (429 and 503 only).",
}


# Headers whose value follows a grammar, stated in the document as a pattern.
HEADER_PATTERNS = {"X-Cutout-Retention": RECEIPT_PATTERN}


def headers_of(sample: dict[str, str]) -> dict[str, Any]:
    undescribed = set(sample) - set(HEADER_DESCRIPTIONS)
    if undescribed:
        raise ValueError(f"response headers without a description: {sorted(undescribed)}")
    return {name: {"$ref": f"#/components/headers/{name}"} for name in sample}



def removal_headers_of(extra: dict[str, str] | None = None) -> dict[str, Any]:
    """The headers of a removal's answer (a sample run through the code that writes them)."""
    sample = removal_headers(1, 1, (0, 0, 1, 1), {"decode": 1.0}, 1.0)
    return headers_of({**base_headers(""), **sample, **(extra or {})})


def base_headers_of() -> dict[str, Any]:
    """The headers every answer carries."""
    return headers_of(base_headers(""))


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}
