"""Check presigned S3 URLs the way S3 does, because moto's server does not.

Measured with moto 5.2: an expired link, a link whose object key was changed and a PUT
without the signed encryption headers all succeed against moto, and moto's IAM
authentication mode (INITIAL_NO_AUTH_ACTION_COUNT) reads only the Authorization header, so
it cannot help with query-string signatures. This WSGI layer in front of moto recomputes
the SigV4 query signature (method, path, query, signed headers, unsigned payload) and the
expiry, and answers S3's own 403 errors, so that locally, as in AWS, a link is bound to
its object, its headers and its lifetime.
"""

from __future__ import annotations

import calendar
import hashlib
import hmac
import time
from collections.abc import Callable, Iterable
from urllib.parse import parse_qsl, quote

ALGORITHM = "AWS4-HMAC-SHA256"
MAX_EXPIRES_SECONDS = 7 * 24 * 3600
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"


class PresignedUrlVerifier:
    """WSGI middleware: refuse presigned requests whose signature or lifetime is wrong."""

    def __init__(
        self,
        access_key_id: str,
        secret_access_key: str,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._access_key_id = access_key_id
        self._secret = secret_access_key
        self._clock = clock

    def wrap(self, app: Callable) -> Callable:
        """The app, answering 403 first for any presigned request that fails the check."""

        def checked(environ: dict, start_response: Callable) -> Iterable[bytes]:
            refusal = self.refusal(environ)
            if refusal is None:
                return app(environ, start_response)
            code, message = refusal
            body = _s3_error(code, message)
            start_response(
                "403 Forbidden",
                [("Content-Type", "application/xml"), ("Content-Length", str(len(body)))],
            )
            return [body]

        return checked

    def refusal(self, environ: dict) -> tuple[str, str] | None:
        """None if the request is not presigned or passes; else S3's error code and message."""
        query = environ.get("QUERY_STRING", "")
        pairs = parse_qsl(query, keep_blank_values=True)
        params = dict(pairs)
        if "Signature" in params and "AWSAccessKeyId" in params:
            # SigV2 links are never made by cutout (its S3 client signs SigV4); refusing them
            # keeps "every presigned URL is checked" true instead of letting them through.
            return "AccessDenied", "Only AWS4-HMAC-SHA256 (SigV4) presigned URLs are accepted"
        if "X-Amz-Signature" not in params:
            return None
        if params.get("X-Amz-Algorithm") != ALGORITHM:
            return "AccessDenied", "Only AWS4-HMAC-SHA256 query signatures are accepted"
        try:
            credential = params["X-Amz-Credential"]
            amz_date = params["X-Amz-Date"]
            expires = int(params["X-Amz-Expires"])
            signed_headers = params["X-Amz-SignedHeaders"]
            signed_at = calendar.timegm(time.strptime(amz_date, "%Y%m%dT%H%M%SZ"))
            access_key_id, scope = credential.split("/", 1)
        except (KeyError, ValueError):
            return "AuthorizationQueryParametersError", "Incomplete query-string signature"
        if access_key_id != self._access_key_id:
            return "InvalidAccessKeyId", "The access key ID does not exist in our records"
        if not 0 < expires <= MAX_EXPIRES_SECONDS:
            return "AuthorizationQueryParametersError", "X-Amz-Expires is out of range"
        if self._clock() > signed_at + expires:
            return "AccessDenied", "Request has expired"
        expected = self.signature(environ, pairs, amz_date, scope, signed_headers)
        if not hmac.compare_digest(expected, params["X-Amz-Signature"]):
            return "SignatureDoesNotMatch", (
                "The request signature we calculated does not match the signature you "
                "provided. Check your key and signing method."
            )
        return None

    def signature(
        self,
        environ: dict,
        pairs: list[tuple[str, str]],
        amz_date: str,
        scope: str,
        signed_headers: str,
    ) -> str:
        """The SigV4 signature S3 would compute for this request."""
        canonical = "\n".join(
            [
                environ.get("REQUEST_METHOD", "GET").upper(),
                _raw_path(environ),
                _canonical_query(pairs),
                _canonical_headers(environ, signed_headers),
                signed_headers,
                dict(pairs).get("X-Amz-Content-Sha256", UNSIGNED_PAYLOAD),
            ]
        )
        string_to_sign = "\n".join(
            [ALGORITHM, amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()]
        )
        date, region, service, terminator = scope.split("/")
        key = ("AWS4" + self._secret).encode()
        for part in (date, region, service, terminator):
            key = hmac.new(key, part.encode(), hashlib.sha256).digest()
        return hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()


def _raw_path(environ: dict) -> str:
    # S3 signs the path exactly as sent (no normalisation), so use the raw request URI.
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if raw:
        return raw.split("?", 1)[0] or "/"
    return quote(environ.get("PATH_INFO", "/"), safe="/~")


def _canonical_query(pairs: list[tuple[str, str]]) -> str:
    encoded = sorted(
        (quote(name, safe="-_.~"), quote(value, safe="-_.~"))
        for name, value in pairs
        if name != "X-Amz-Signature"
    )
    return "&".join(f"{name}={value}" for name, value in encoded)


def _canonical_headers(environ: dict, signed_headers: str) -> str:
    lines = []
    for name in signed_headers.split(";"):
        value = _header(environ, name)
        lines.append(f"{name}:{' '.join(value.split())}\n")
    return "".join(lines)


def _header(environ: dict, name: str) -> str:
    if name == "content-type":
        return environ.get("CONTENT_TYPE", "")
    if name == "content-length":
        return environ.get("CONTENT_LENGTH", "")
    return str(environ.get("HTTP_" + name.upper().replace("-", "_"), ""))


def _s3_error(code: str, message: str) -> bytes:
    from xml.sax.saxutils import escape

    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{escape(code)}</Code><Message>{escape(message)}</Message></Error>"
    ).encode()

