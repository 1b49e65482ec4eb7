"""The commands that talk to a cutout API (`cutout privacy`, `cutout batch`): one way to call
it, with the key only in `x-api-key`, and one way to read its refusals.

The standard library speaks HTTP here: the CLI needs no extra package.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

API_URL_ENV = "CUTOUT_API_URL"
API_KEY_ENV = "CUTOUT_API_KEY"
DEFAULT_API_URL = "http://127.0.0.1:8080"  # `cutout serve`


class ApiCallFailed(Exception):
    """The API refused the call (`status`) or could not be reached (`status` None)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


def call_api(base_url: str, key: str, method: str, path: str, body: Any = None,
             timeout: float = 60) -> Any:
    """The JSON answer of `method base_url+path`; `ApiCallFailed` with a sentence otherwise."""
    data = json.dumps(body).encode() if body is not None else None
    headers = {"x-api-key": key, "Accept": "application/json"}
    if data is not None:
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(  # noqa: S310 - the operator's own API URL
        base_url.rstrip("/") + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return json.loads(response.read())
    except urllib.error.HTTPError as error:
        detail = error_text(error.read(), str(error.reason or "no message"))
        raise ApiCallFailed(f"the API answered {error.code}: {detail}", error.code) from None
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise ApiCallFailed(f"cannot reach {base_url}: {reason}") from None


def error_text(body: bytes, fallback: str) -> str:
    """`code: message` of our JSON error shape; `fallback` for any other body."""
    try:
        error = json.loads(body)["error"]
        return f"{error['code']}: {error['message']}"
    except (ValueError, KeyError, TypeError):
        return fallback
