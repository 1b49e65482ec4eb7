"""Proxy responses: JSON, binary images (base64 in the proxy format) and signed-link answers.

Every answer carries the request id and `Cache-Control: no-store`, and (set once the route has
run, by `with_receipt`) its retention receipt `X-Cutout-Retention`. An image answer is
checked against Lambda's 6 MB synchronous response limit and refused with
`ResultTooLarge`, so that the caller can send the result through S3 instead.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from aws_lambda_powertools.event_handler import Response

from cutout.errors import ResultTooLarge
from cutout.limits import fits_inline
from cutout.service.receipt import NONE, RETENTION_HEADER, Receipt


def base_headers(request_id: str) -> dict[str, str]:
    """The headers of every answer (the receipt says `none` until `with_receipt` has run)."""
    return {"X-Request-Id": request_id, "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff", RETENTION_HEADER: NONE}


def with_receipt(answer: dict[str, object], receipt: Receipt) -> dict[str, object]:
    """A resolved proxy answer (any route, any error) with what its request wrote."""
    headers = "multiValueHeaders" if "multiValueHeaders" in answer else "headers"
    present = answer.get(headers)
    answer[headers] = {**(present if isinstance(present, Mapping) else {}),
                       RETENTION_HEADER: [receipt.header()] if headers == "multiValueHeaders"
                       else receipt.header()}
    return answer


def json_response(status: int, body: object, request_id: str,
                  headers: Mapping[str, str] | None = None) -> Response:
    return Response(status_code=status, content_type="application/json",
                    body=json.dumps(body, separators=(",", ":")),
                    headers={**base_headers(request_id), **(headers or {})})


def image_response(data: bytes, content_type: str, request_id: str,
                   headers: Mapping[str, str] | None = None) -> Response:
    """A binary answer (Powertools base64-encodes bytes and sets isBase64Encoded)."""
    if not fits_inline(len(data)):
        raise ResultTooLarge("the result is too large to return inline")
    return Response(status_code=200, content_type=content_type, body=data,
                    headers={**base_headers(request_id), **(headers or {})})


def removal_headers(width: int, height: int, foreground: tuple[int, int, int, int] | None,
                    timings: Mapping[str, float], processing_ms: float) -> dict[str, str]:
    """Size, foreground box (left, top, width, height) and timing headers of a cutout."""
    headers = {"X-Width": str(width), "X-Height": str(height),
               "X-Processing-Time-Ms": f"{processing_ms:.1f}"}
    if foreground is not None:
        left, top, box_width, box_height = foreground
        headers.update({"X-Foreground-Left": str(left), "X-Foreground-Top": str(top),
                        "X-Foreground-Width": str(box_width),
                        "X-Foreground-Height": str(box_height)})
    if timings:
        headers["Server-Timing"] = ", ".join(f"{name};dur={ms:.1f}" for name, ms in timings.items())
    return headers
