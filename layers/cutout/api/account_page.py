"""The account page's files and the headers that lock the page down.

Three static files, each behind its own route (`cutout.api.routes`), read from
`static/account/` by a fixed name: no path from the request ever reaches the file system.
The Content-Security-Policy allows the page's own origin and, for the signed upload and
result links, exactly the S3 origin this deployment signs URLs for; nothing else.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from aws_lambda_powertools.event_handler import Response

STATIC = Path(__file__).resolve().parent / "static" / "account"

# operation id -> (file under static/account/, its media type)
PAGE_FILES: dict[str, tuple[str, str]] = {
    "get_account_page": ("index.html", "text/html; charset=utf-8"),
    "get_account_page_script": ("account.js", "text/javascript; charset=utf-8"),
    "get_account_page_style": ("account.css", "text/css; charset=utf-8"),
}


def content_security_policy(signed_url_origin: str) -> str:
    """`default-src 'self'`, no inline script or style, S3 only for the signed links."""
    if not signed_url_origin.startswith(("https://", "http://127.0.0.1:", "http://localhost:")):
        raise ValueError("signed links must be https (or the local stack's loopback moto)")
    return "; ".join((
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' blob: data:",
        f"connect-src 'self' {signed_url_origin}",
        "font-src 'none'",
        "object-src 'none'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "form-action 'none'",
    ))


def page_headers(signed_url_origin: str, request_id: str) -> dict[str, str]:
    """Security headers of every page answer; the page sets no cookie and reads none."""
    return {
        "Content-Security-Policy": content_security_policy(signed_url_origin),
        "Referrer-Policy": "no-referrer",
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Cross-Origin-Opener-Policy": "same-origin",
        "Cross-Origin-Resource-Policy": "same-origin",
        "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
        "Cache-Control": "no-cache",
        "X-Request-Id": request_id,
    }


@cache
def _file(name: str) -> str:
    return (STATIC / name).read_text(encoding="utf-8")


def page_file_response(operation: str, signed_url_origin: str, request_id: str) -> Response:
    """The static file of route `operation`, with the page's security headers."""
    name, media_type = PAGE_FILES[operation]
    return Response(status_code=200, content_type=media_type, body=_file(name),
                    headers=page_headers(signed_url_origin, request_id))
