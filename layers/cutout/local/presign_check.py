"""Check every request to the local moto server the way AWS does, because moto does not.

Measured with moto 5.2: moto's server answers any request, signed or not (an unsigned GET
lists the buckets and reads the demo upload; an unsigned PutItem writes a key hash into the
accounts table), and on presigned URLs an expired link, a link whose object key was changed
and a PUT without the signed encryption headers all succeed. moto's IAM mode
(INITIAL_NO_AUTH_ACTION_COUNT) reads only the Authorization header and not S3's query
signatures. This WSGI layer in front of moto therefore recomputes the SigV4 signature of
every request, from its Authorization header (method, path, query, signed headers, payload
hash) or its presigned query (and expiry), with the local stack's own credentials, and
answers AWS's own errors: S3's 403 XML, or the JSON services' 400 `__type`. Only CORS
preflights (OPTIONS), which carry no credentials in AWS either, pass unsigned.

Not checked: that an S3 body matches the `x-amz-content-sha256` its signature covers.
"""

from __future__ import annotations

import calendar
import hashlib
import hmac
import io
import json
import re
import time
from collections.abc import Callable, Iterable
from urllib.parse import parse_qsl, quote

from botocore.utils import normalize_url_path

ALGORITHM = "AWS4-HMAC-SHA256"
MAX_EXPIRES_SECONDS = 7 * 24 * 3600
MAX_SKEW_SECONDS = 15 * 60  # S3's RequestTimeTooSkewed, DynamoDB's InvalidSignatureException
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
_AUTHORIZATION = re.compile(
    r"AWS4-HMAC-SHA256\s+Credential=([^,\s]+)\s*,\s*SignedHeaders=([^,\s]+)\s*,"
    r"\s*Signature=([0-9a-f]{64})")


class SignatureVerifier:
    """WSGI middleware: refuse requests not signed (SigV4) with the local stack's credentials."""

    def __init__(
        self,
        access_key_id: str,
        secret_access_key: str,
        clock: Callable[[], float] = time.time,
        issued: Callable[[str], str | None] | None = None,
    ) -> None:
        """`issued`: the secret of another key this stack issued (None: unknown), whose
        header-signed calls are admitted as AWS admits them: an STS session's temporary
        credentials, or the fixed pair moto's States Language interpreter signs the state
        machine's own calls with. Presigned URLs remain the stack key's alone."""
        self._access_key_id = access_key_id
        self._secret = secret_access_key
        self._issued = issued or (lambda _key: None)
        self._clock = clock

    def _secret_of(self, access_key_id: str) -> str | None:
        if access_key_id == self._access_key_id:
            return self._secret
        return self._issued(access_key_id)

    def wrap(self, app: Callable) -> Callable:
        """The app, answering AWS's refusal first for any request that fails the check."""

        def checked(environ: dict, start_response: Callable) -> Iterable[bytes]:
            refusal = self.refusal(environ)
            if refusal is None:
                return app(environ, start_response)
            status, content_type, body = _error_response(environ, *refusal)
            start_response(status, [("Content-Type", content_type),
                                    ("Content-Length", str(len(body)))])
            return [body]

        return checked

    def refusal(self, environ: dict) -> tuple[str, str] | None:
        """None if the request is signed with our credentials (or a CORS preflight); else
        AWS's error code and message."""
        if environ.get("REQUEST_METHOD") == "OPTIONS":
            return None  # a browser's CORS preflight: S3 answers it from the CORS rules alone
        query = environ.get("QUERY_STRING", "")
        pairs = parse_qsl(query, keep_blank_values=True)
        params = dict(pairs)
        if "Signature" in params and "AWSAccessKeyId" in params:
            # SigV2 links are never made by cutout (its S3 client signs SigV4); refusing them
            # keeps "every presigned URL is checked" true instead of letting them through.
            return "AccessDenied", "Only AWS4-HMAC-SHA256 (SigV4) presigned URLs are accepted"
        authorization = str(environ.get("HTTP_AUTHORIZATION", ""))
        if authorization:
            return self._header_refusal(environ, authorization)
        if "X-Amz-Signature" not in params:
            return "MissingAuthenticationToken", "Request is missing Authentication Token"
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

    def _header_refusal(self, environ: dict, authorization: str) -> tuple[str, str] | None:
        found = _AUTHORIZATION.fullmatch(authorization.strip())
        if found is None:
            return "IncompleteSignature", "Only complete AWS4-HMAC-SHA256 signatures are accepted"
        credential, signed_headers, given = found.groups()
        access_key_id, _, scope = credential.partition("/")
        secret = self._secret_of(access_key_id)
        if secret is None:
            return "InvalidAccessKeyId", "The access key ID does not exist in our records"
        amz_date = str(environ.get("HTTP_X_AMZ_DATE", ""))
        try:
            signed_at = calendar.timegm(time.strptime(amz_date, "%Y%m%dT%H%M%SZ"))
            date, _region, service, terminator = scope.split("/")
        except ValueError:
            return "IncompleteSignature", "X-Amz-Date or the credential scope is malformed"
        if date != amz_date[:8] or terminator != "aws4_request" or "host" not in \
                signed_headers.split(";"):
            return "IncompleteSignature", "The credential scope does not match the request"
        if abs(self._clock() - signed_at) > MAX_SKEW_SECONDS:
            return "RequestTimeTooSkewed", "The difference between the request time and the " \
                "current time is too large"
        payload = environ.get("HTTP_X_AMZ_CONTENT_SHA256") or _payload_hash(environ)
        canonical = "\n".join([
            environ.get("REQUEST_METHOD", "GET").upper(),
            _raw_path(environ) if service == "s3" else _normalized_path(environ),
            _raw_canonical_query(environ.get("QUERY_STRING", "")),
            _canonical_headers(environ, signed_headers),
            signed_headers,
            payload,
        ])
        if not hmac.compare_digest(self._sign(canonical, amz_date, scope, secret), given):
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
        return self._sign(canonical, amz_date, scope, self._secret)

    def _sign(self, canonical: str, amz_date: str, scope: str, secret: str) -> str:
        string_to_sign = "\n".join(
            [ALGORITHM, amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()]
        )
        key = ("AWS4" + secret).encode()
        for part in scope.split("/"):
            key = hmac.new(key, part.encode(), hashlib.sha256).digest()
        return hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()


def _raw_path(environ: dict) -> str:
    # S3 signs the path exactly as sent (no normalisation), so use the raw request URI.
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if raw:
        return raw.split("?", 1)[0] or "/"
    return quote(environ.get("PATH_INFO", "/"), safe="/~")


def _normalized_path(environ: dict) -> str:
    # Every service but S3 signs the normalised path, URI-encoded once more.
    return quote(normalize_url_path(_raw_path(environ)), safe="/~")


def _raw_canonical_query(query: str) -> str:
    # Header-signed requests sign their query as sent, pairs sorted (botocore does the same).
    if not query:
        return ""
    pairs = [pair.partition("=") for pair in query.split("&")]
    return "&".join(f"{name}={value}" for name, _, value in sorted(
        (name, sep, value) for name, sep, value in pairs))


def _payload_hash(environ: dict) -> str:
    """sha256 of the body, which is then handed on to moto unchanged."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length > 0 else b""
    environ["wsgi.input"] = io.BytesIO(body)
    return hashlib.sha256(body).hexdigest()


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


def _error_response(environ: dict, code: str, message: str) -> tuple[str, str, bytes]:
    """S3's 403 XML, or the 400 `__type` JSON of the services called with X-Amz-Target."""
    if environ.get("HTTP_X_AMZ_TARGET"):  # DynamoDB, KMS: the JSON protocol
        body = json.dumps({"__type": _JSON_CODES.get(code, code), "message": message}).encode()
        return "400 Bad Request", "application/x-amz-json-1.0", body
    return "403 Forbidden", "application/xml", _s3_error(code, message)


_JSON_CODES = {"InvalidAccessKeyId": "UnrecognizedClientException",
               "SignatureDoesNotMatch": "InvalidSignatureException",
               "RequestTimeTooSkewed": "InvalidSignatureException",
               "MissingAuthenticationToken": "MissingAuthenticationTokenException",
               "IncompleteSignature": "IncompleteSignatureException"}


def _s3_error(code: str, message: str) -> bytes:
    from xml.sax.saxutils import escape

    if code == "MissingAuthenticationToken":
        code, message = "AccessDenied", "Access Denied"  # S3's answer to an anonymous call
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{escape(code)}</Code><Message>{escape(message)}</Message></Error>"
    ).encode()

