"""Live probes with an API key: a request without a key is refused, TLS 1.1 is refused and
TLS 1.2 accepted, a generated image round-trips to a cutout with no colour under alpha 0, and
nothing of that request stays in the transient bucket beyond what its retention receipt
(`X-Cutout-Retention`) names. Keys, signed links and image bytes are read, compared and
dropped: none reaches the report."""

from __future__ import annotations

import io
import ipaddress
import json
import socket
import ssl
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import numpy as np
from PIL import Image

from cutout.clock import utc_now
from cutout.data.schema import RESULTS_PREFIX, UPLOADS_PREFIX
from cutout.service.receipt import RESULT, RETENTION_HEADER, UPLOAD, parse_receipt
from cutout.verify.report import Check, Evidence, check, not_applicable

AUTH = "authenticated access: a request without a valid API key is refused"
TLS = "encryption: TLS 1.2+ in transit on every endpoint"
OUTPUT = "no leakage in the output: where alpha is 0 the output carries no original colour"
CLOSED = "24-hour rule / closed loop: nothing of a request stays behind after its answer"
TIMEOUT = 60


@dataclass
class Target:
    """The API under test and, when the caller can read it, its transient bucket."""

    base_url: str
    api_key: str
    s3: Any = None
    transient_bucket: str | None = None
    now: Callable[[], datetime] = utc_now

    @property
    def loopback(self) -> bool:
        host = urlsplit(self.base_url).hostname or ""
        try:
            return host == "localhost" or ipaddress.ip_address(host).is_loopback
        except ValueError:
            return False


def _request(url: str, method: str = "GET", body: bytes | None = None,
             headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, data=body, method=method,  # noqa: S310 - the API
                                     headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def no_key_refused(target: Target) -> Check:
    how = "POST /v1/remove-background with an image and no x-api-key header"
    status, _, _ = _request(target.base_url.rstrip("/") + "/v1/remove-background", "POST",
                            _probe_png(), {"Content-Type": "image/png"})
    failures = [] if status in (401, 403) else [f"a request without a key was answered {status}"]
    return check("probe.no_key", AUTH, how, failures,
                 [Evidence(target.base_url, "status without a key", status)],
                 f"A request without a key is refused with {status}.")


def tls_versions(target: Target) -> Check:
    how = "TLS handshakes with the API's host on port 443 capped at TLS 1.1, then at TLS 1.2"
    parts = urlsplit(target.base_url)
    if parts.scheme != "https" or target.loopback:
        return not_applicable("probe.tls", TLS, how,
                              "Not HTTPS on a public endpoint (loopback): TLS is the gateway's.")
    host, port = parts.hostname or "", parts.port or 443
    old, new = _handshake(host, port, ssl.TLSVersion.TLSv1_1), _handshake(
        host, port, ssl.TLSVersion.TLSv1_2)
    evidence = [Evidence(host, "TLS 1.1 handshake", old or "refused"),
                Evidence(host, "TLS 1.2 handshake", new or "refused")]
    failures = []
    if old:
        failures.append(f"{host} accepted a TLS 1.1 handshake ({old})")
    if not new:
        failures.append(f"{host} refused a TLS 1.2 handshake")
    return check("probe.tls", TLS, how, failures, evidence,
                 "TLS 1.1 is refused and TLS 1.2 accepted.")


def _handshake(host: str, port: int, version: ssl.TLSVersion) -> str | None:
    """The negotiated version, or None when the server refused a handshake at most `version`."""
    context = ssl.create_default_context()
    context.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
    context.maximum_version = version
    if version < ssl.TLSVersion.TLSv1_2:
        context.set_ciphers("DEFAULT:@SECLEVEL=0")  # let OUR side offer it: the server decides
    try:
        with socket.create_connection((host, port), timeout=TIMEOUT) as raw, \
                context.wrap_socket(raw, server_hostname=host) as tls:
            return tls.version()
    except (ssl.SSLError, OSError):
        return None


def _probe_png() -> bytes:
    """A generated 96x96 picture: a red disc on a striped background (no customer data)."""
    y, x = np.mgrid[0:96, 0:96]
    pixels = np.zeros((96, 96, 3), dtype=np.uint8)
    pixels[..., 1] = ((x // 8) % 2) * 200
    pixels[..., 2] = 180
    disc = (x - 48) ** 2 + (y - 48) ** 2 < 28 ** 2
    pixels[disc] = (220, 30, 30)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "PNG")
    return buffer.getvalue()


def round_trip(target: Target) -> list[Check]:
    """The cutout check and the nothing-left-behind check, from one request."""
    how = ("POST /v1/remove-background with a generated PNG and the key; the RGBA answer's "
           "pixels where alpha is 0 must all be (0, 0, 0)")
    started = target.now()
    base = target.base_url.rstrip("/")
    headers = {"x-api-key": target.api_key, "Content-Type": "image/png",
               "Accept": "image/png"}
    status, answer_headers, body = _request(base + "/v1/remove-background?format=png", "POST",
                                            _probe_png(), headers)
    inline = answer_headers.get("Content-Type", "").startswith("image/")
    if status == 200 and not inline:  # a signed result link: fetched, never reported
        link = json.loads(body).get("result_url") or json.loads(body).get("url")
        status, _, body = _request(link) if link else (status, {}, b"")
    evidence = [Evidence(base + "/v1/remove-background", "status", status),
                Evidence(base + "/v1/remove-background", "answered",
                         "inline" if inline else "signed link")]
    failures = []
    if status != 200:
        failures.append(f"the probe image was answered {status}")
        coloured = None
    else:
        rgba = np.asarray(Image.open(io.BytesIO(body)).convert("RGBA"))
        clear = rgba[..., 3] == 0
        coloured = int(np.count_nonzero(rgba[clear][:, :3].any(axis=1)))
        evidence += [Evidence("the cutout", "pixels with alpha 0", int(clear.sum())),
                     Evidence("the cutout", "of them with colour", coloured)]
        if coloured:
            failures.append(f"{coloured} pixel(s) under alpha 0 keep colour")
    cutout = check("probe.round_trip", OUTPUT, how, failures, evidence,
                   "The cutout carries no colour where alpha is 0.")
    return [cutout, _nothing_left(target, started, inline, answer_headers)]


def _nothing_left(target: Target, started: datetime, inline: bool,
                  headers: dict[str, str]) -> Check:
    how = ("s3 ListObjectsV2 of the transient bucket under uploads/ and results/ after the "
           "answer, against the answer's X-Cutout-Retention: no object written since the probe "
           "began beyond those the receipt names (none for an inline answer)")
    if target.s3 is None or not target.transient_bucket:
        return not_applicable("probe.nothing_left", CLOSED, how,
                              "The transient bucket is not readable from here.")
    receipt = next((value for name, value in headers.items()
                    if name.lower() == RETENTION_HEADER.lower()), None)
    named, failures = _receipt_names(receipt, inline)
    # Only the probing key's own account: other traffic of the deployment is not the probe's.
    status, _, body = _request(target.base_url.rstrip("/") + "/v1/account",
                               headers={"x-api-key": target.api_key})
    account = json.loads(body).get("account_id", "") if status == 200 else ""
    left = 0
    for prefix in (f"{UPLOADS_PREFIX}{account}/", f"{RESULTS_PREFIX}{account}/"):
        for page in target.s3.get_paginator("list_objects_v2").paginate(
                Bucket=target.transient_bucket, Prefix=prefix):
            left += sum(1 for item in page.get("Contents", [])
                        if item["LastModified"] >= started.replace(microsecond=0))
    evidence = [Evidence(f"arn:aws:s3:::{target.transient_bucket}",
                         "objects written since the probe", left),
                Evidence("the answer", "X-Cutout-Retention", receipt)]
    if left > named:
        failures.append(f"{left} object(s) written by the probe remain, its receipt names "
                        f"{named}")
    return check("probe.nothing_left", CLOSED, how, failures, evidence,
                 "Nothing of the request remains in the transient bucket beyond what its "
                 "retention receipt names.")


def _receipt_names(receipt: str | None, inline: bool) -> tuple[int, list[str]]:
    """How many transient objects the receipt names, and what is wrong with it: an inline
    answer names none; a signed link's names its result (training objects of an opted-in
    account live elsewhere and may appear on either)."""
    if receipt is None:
        return 0, ["the answer carries no X-Cutout-Retention"]
    try:
        kinds = [entry.kind for entry in parse_receipt(receipt)]
    except ValueError:
        return 0, [f"the answer's X-Cutout-Retention is not a receipt: {receipt[:80]!r}"]
    transient = [kind for kind in kinds if kind in (RESULT, UPLOAD)]
    if inline and transient:
        return len(transient), [f"an inline answer's receipt names stored {', '.join(transient)}"]
    if not inline and RESULT not in transient:
        return len(transient), ["the signed-link answer's receipt names no result"]
    return len(transient), []


def run_probes(target: Target) -> list[Check]:
    """Every probe; one the API cannot answer fails with why, and the next still runs."""
    checks: list[Check] = []
    for probe, ids in ((no_key_refused, ("probe.no_key",)), (tls_versions, ("probe.tls",)),
                       (round_trip, ("probe.round_trip", "probe.nothing_left"))):
        try:
            found = probe(target)
        except (urllib.error.URLError, OSError, ValueError) as error:
            reason = getattr(error, "reason", error)
            checks += [Check(name, "the live API answers", "fail",
                             f"The probe could not complete: {reason}.") for name in ids]
            continue
        checks += found if isinstance(found, list) else [found]
    return checks
