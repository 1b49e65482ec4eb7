"""`image_url`, parsed strictly: an S3 object's location, never an address to fetch.

Accepted: `s3://<bucket>/<key>`, and the https URL of an S3 object in virtual-hosted style
(`https://<bucket>.s3[.<region>].amazonaws.com/<key>`) or path style
(`https://s3[.<region>].amazonaws.com/<bucket>/<key>`). Whether that bucket and key are
this account's to read (the deployment's allow-list, the account's folder) is the
domain's rule (`cutout.service.image_url`); here only the shape is judged, on the whole
string, by regular expressions rather than a URL library: `urllib` drops tabs and
newlines, splits userinfo and ports, and would hand us a host we never meant to accept.
Nothing is ever resolved or fetched: the location is read through S3's API.
"""

from __future__ import annotations

import re
from urllib.parse import unquote_to_bytes

from cutout.errors import ImageUrlNotAllowed
from cutout.service.requests import BucketObject

MAX_URL_CHARS = 2048
MAX_KEY_BYTES = 1024  # S3's longest key
# S3's bucket naming rules (general purpose buckets): 3-63 of a-z 0-9 . -, letters or
# digits at both ends, no "..", not shaped like an IP address, no reserved prefix/suffix.
_BUCKET = r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]"
_REGION = r"[a-z]{2}(?:-[a-z]+)+-\d"
_S3 = re.compile(rf"s3://(?P<bucket>{_BUCKET})/(?P<key>[^\x00-\x1f\x7f]+)")
# https: the host is exactly one of S3's own names; no userinfo, port, query or fragment
# can match (`@`, `:`, `?` and `#` are outside the host's and the path's characters).
_PATH_CHARS = r"[A-Za-z0-9\-._~!$&'()*+,;=/%]+"
_VIRTUAL = re.compile(
    rf"https://(?P<bucket>{_BUCKET})\.s3(?:\.(?P<region>{_REGION}))?\.amazonaws\.com"
    rf"/(?P<key>{_PATH_CHARS})")
_PATH = re.compile(
    rf"https://s3(?:\.(?P<region>{_REGION}))?\.amazonaws\.com"
    rf"/(?P<bucket>{_BUCKET})/(?P<key>{_PATH_CHARS})")
_IP_SHAPED = re.compile(r"\d+\.\d+\.\d+\.\d+")
_RESERVED = (("xn--", "sthree-", "amzn-s3-demo-"), ("-s3alias", "--ol-s3", ".mrap", "--x-s3"))
_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")

ACCEPTED = ("image_url must name an S3 object inside this deployment: s3://<bucket>/<key>, "
            "or https://<bucket>.s3.<region>.amazonaws.com/<key> (or path style "
            "https://s3.<region>.amazonaws.com/<bucket>/<key>), with no user, port, query or "
            "fragment")


def parse_image_url(value: object) -> BucketObject:
    """The bucket and key an `image_url` names; `ImageUrlNotAllowed` for anything else."""
    if not isinstance(value, str):
        raise ImageUrlNotAllowed(f"{ACCEPTED}; got a {type(value).__name__}")
    if len(value) > MAX_URL_CHARS:
        raise ImageUrlNotAllowed(f"{ACCEPTED}; this one is over {MAX_URL_CHARS} characters")
    location = _s3_uri(value) or _https_url(value)
    if location is None:
        raise ImageUrlNotAllowed(f"{ACCEPTED}. URLs anywhere else are never fetched")
    _check_bucket(location.bucket)
    _check_key(location.key)
    return location


def _s3_uri(value: str) -> BucketObject | None:
    """`s3://bucket/key`: the key is literal, as the AWS CLI reads it (no %-decoding)."""
    match = _S3.fullmatch(value)
    if match is None:
        return None
    return BucketObject(match["bucket"], match["key"])


def _https_url(value: str) -> BucketObject | None:
    match = _VIRTUAL.fullmatch(value) or _PATH.fullmatch(value)
    if match is None:
        return None
    raw = match["key"]
    if _ESCAPE.search(raw):
        raise ImageUrlNotAllowed(f"{ACCEPTED}; the key has a '%' that is not an escape")
    try:
        key = unquote_to_bytes(raw).decode("utf-8")
    except UnicodeDecodeError:
        raise ImageUrlNotAllowed(f"{ACCEPTED}; the key's escapes are not UTF-8") from None
    return BucketObject(match["bucket"], key, match["region"])


def _check_bucket(bucket: str) -> None:
    prefixes, suffixes = _RESERVED
    if (".." in bucket or ".-" in bucket or "-." in bucket or _IP_SHAPED.fullmatch(bucket)
            or bucket.startswith(prefixes) or bucket.endswith(suffixes)):
        raise ImageUrlNotAllowed(f"{ACCEPTED}; {bucket!r} is not an S3 bucket name")


def _check_key(key: str) -> None:
    """A key is S3's literal name; we refuse the ones that read like something else (dot
    segments a client might normalise, empty segments, control characters, a folder)."""
    segments = key.split("/")
    if (len(key.encode("utf-8")) > MAX_KEY_BYTES or key.endswith("/")
            or any(s in ("", ".", "..") for s in segments)
            or re.search(r"[\x00-\x1f\x7f\\]", key)):
        raise ImageUrlNotAllowed(f"{ACCEPTED}; the key must name one object (no empty, '.' "
                                 "or '..' segments, no control characters or backslashes)")
