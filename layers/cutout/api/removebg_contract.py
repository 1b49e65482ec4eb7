"""Answers of the remove.bg-compatible route, `POST /v1.0/removebg`.

Success: the image bytes, or `{"data": {"result_b64", "foreground_*"}}` when the first
`Accept` value is `application/json`, with remove.bg's `X-*` headers. Errors:
`{"errors": [{"title", "code", "detail"}]}` with remove.bg's statuses (400 for every client
mistake, 403 for keys, 429, 500). No engine import: the error shape is also used by the
zip functions' error mapping and by the local gateway.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import TYPE_CHECKING

from aws_lambda_powertools.event_handler import Response

from cutout.api.responses import image_response, json_response, removal_headers
from cutout.errors import ResultTooLarge
from cutout.limits import fits_inline

if TYPE_CHECKING:
    from cutout.openapi.models import RemoveBgErrors, RemoveBgResult  # bodies; types only
    from cutout.service.removal import Removal

REMOVEBG_PATH = "/v1.0/removebg"
REMOVEBG_PREFIX = "/v1.0/"  # every route under it speaks remove.bg's contract
DETECTED_TYPE = "other"  # X-Type: the model finds a subject, it does not classify it
CREDITS_CHARGED = "0"
# cutout's codes under remove.bg's names, where remove.bg has one.
CODES = {
    "undecodable_image": "unknown_format",
    "image_too_large": "file_too_large",
    "unauthorized": "auth_failed",
    "invalid_api_key": "auth_failed",
    "revoked_api_key": "auth_failed",
    "forbidden": "auth_failed",
}
TITLES = {
    "auth_failed": "API Key invalid",
    "missing_source": "No image given",
    "multiple_sources": "Multiple image sources given",
    "image_url_not_supported": "Image URLs are not fetched",
    "image_url_not_allowed": "Image URL not allowed",
    "image_url_not_found": "Image URL not found",
    "file_too_large": "File too large",
    "resolution_too_high": "Input image resolution too high",
    "unknown_format": "Unknown image format",
    "image_too_complex": "Image too complex to decode",
    "unknown_foreground": "Could not identify foreground in image",
    "unsupported_option": "Option not supported",
    "invalid_option": "Invalid parameter value",
    "unsupported_media_type": "Unsupported request body",
    "result_too_large": "Result too large",
    "throttled": "Rate limit exceeded",
    "internal_error": "Internal server error",
    "multiple_bg_sources": "Multiple background sources given",
    "training_opt_in_required": "AI Training Data is off for this account",
}
RESULT_TOO_LARGE = ("the result is too large for one response (about 4.5 MB once encoded); "
                    "ask for a smaller size (preview, medium, hd) or format=jpg, or use the "
                    "native POST /v1/remove-background, which answers large results with a link")


def speaks_removebg(event: object) -> bool:
    """Whether the current proxy event came through one of the remove.bg-compatible routes."""
    return str(getattr(event, "resource", None) or "").startswith(REMOVEBG_PREFIX)


def removebg_status(status: int) -> int:
    """remove.bg's status for ours: 403 for any key problem, 400 for any other client error."""
    if status in (401, 403):
        return 403
    if status == 429 or status >= 500:
        return status
    return 400 if status >= 400 else status


def removebg_error(status: int, code: str, detail: str) -> tuple[int, RemoveBgErrors]:
    """The status and body remove.bg clients expect for one of our errors."""
    code = CODES.get(code, code)
    status = removebg_status(status)
    title = TITLES.get(code, "Internal server error" if status >= 500 else "Invalid request")
    return status, {"errors": [{"title": title, "code": code, "detail": detail}]}


def removebg_error_response(status: int, code: str, detail: str, request_id: str,
                            headers: Mapping[str, str] | None = None) -> Response:
    status, body = removebg_error(status, code, detail)
    return json_response(status, body, request_id, headers)


def wants_json(accept: str | None) -> bool:
    """remove.bg answers JSON when asked first for `application/json`, else the image."""
    first = (accept or "").split(",", 1)[0].split(";", 1)[0].strip().lower()
    return first == "application/json"


def removebg_response(removal: Removal, accept: str | None, request_id: str) -> Response:
    """`removal` is a `cutout.service.removal.Removal` with a foreground (never a link)."""
    result = removal.result
    headers = removal_headers(result.width, result.height, result.foreground, result.timings,
                              removal.processing_ms)
    headers.update({"X-Type": DETECTED_TYPE, "X-Credits-Charged": CREDITS_CHARGED})
    if not fits_inline(len(result.data)):
        raise ResultTooLarge(RESULT_TOO_LARGE)
    if not wants_json(accept):
        return image_response(result.data, result.content_type, request_id, headers)
    if result.foreground is None:  # remove_for_removebg raised UnknownForeground already
        raise ValueError("a remove.bg answer needs a foreground")
    left, top, width, height = result.foreground
    body: RemoveBgResult = {"data": {
        "result_b64": base64.b64encode(result.data).decode("ascii"),
        "foreground_top": top, "foreground_left": left,
        "foreground_width": width, "foreground_height": height}}
    return json_response(200, body, request_id, headers)
