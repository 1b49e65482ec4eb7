"""`POST /v1/batches`: its JSON body as a domain `BatchRequest`, and nothing looser.

`{"source": "s3://bucket/prefix/", "destination": "s3://bucket/prefix/", "options": {...},
"overwrite": false}`. Options are `POST /v1/remove-background`'s, checked by the engine's
own parser here, so a job the engine would refuse item by item is refused before it starts.
"""

from __future__ import annotations

import json
import re

from cutout.data.batch_access import MAX_PREFIX_POLICY_CHARS, prefix_policy_chars
from cutout.engine.options import OPTION_NAMES, RemovalOptions
from cutout.errors import InvalidLocation, InvalidOption, InvalidRequest
from cutout.service.batch import BatchRequest, Location

FIELDS = ("source", "destination", "options", "overwrite")
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
MAX_PREFIX_BYTES = 512  # S3 keys are at most 1,024 bytes; leave room for the names below
_HOW = ('send JSON: {"source": "s3://bucket/prefix/", "destination": "s3://bucket/prefix/", '
        '"options": {"format": "png"}, "overwrite": false}')


def parse_batch_request(body: bytes) -> BatchRequest:
    """The domain request; a 400 naming the field for anything else."""
    try:
        document = json.loads(body or b"null")
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise InvalidRequest(_HOW) from None
    if not isinstance(document, dict):
        raise InvalidRequest(_HOW)
    unknown = sorted(set(document) - set(FIELDS))
    if unknown:
        raise InvalidRequest(f"unknown field {unknown[0]!r}; fields are {', '.join(FIELDS)}")
    source = parse_location(document.get("source"), "source")
    destination = parse_location(document.get("destination"), "destination")
    params = _options(document.get("options"))
    overwrite = document.get("overwrite", False)
    if not isinstance(overwrite, bool):
        raise InvalidRequest("overwrite must be true or false")
    return BatchRequest(source=source, destination=destination,
                        options=RemovalOptions.from_params(params), params=params,
                        overwrite=overwrite)


def parse_location(value: object, name: str) -> Location:
    """`s3://bucket/` or `s3://bucket/some/prefix/` (a prefix is a folder: it ends with /)."""
    if not isinstance(value, str) or not value.startswith("s3://"):
        raise InvalidLocation(f"{name} must be an S3 location like s3://bucket/prefix/")
    bucket, _, prefix = value[len("s3://"):].partition("/")
    if not _BUCKET.match(bucket) or ".." in bucket:
        raise InvalidLocation(f"{name} names no valid bucket: {bucket!r}")
    if prefix and not prefix.endswith("/"):
        raise InvalidLocation(f"{name}'s prefix must end with '/' (a folder), got {prefix!r}")
    if _CONTROL.search(prefix) or "//" in prefix or prefix.startswith("/"):
        raise InvalidLocation(f"{name}'s prefix has an empty folder name or a control character")
    try:
        size = len(prefix.encode("utf-8", errors="strict"))
    except UnicodeEncodeError:  # a lone UTF-16 surrogate (`\ud800` in the JSON)
        raise InvalidLocation(f"{name}'s prefix is not valid UTF-8 (a lone surrogate)") from None
    if size > MAX_PREFIX_BYTES:
        raise InvalidLocation(f"{name}'s prefix is over {MAX_PREFIX_BYTES} bytes")
    if prefix_policy_chars(prefix) > MAX_PREFIX_POLICY_CHARS:  # IAM writes * ? $ as ${*} ...
        raise InvalidLocation(f"{name}'s prefix is too long for the job's IAM session policy "
                              f"(at most {MAX_PREFIX_POLICY_CHARS} characters, each * ? $ "
                              "counting 4)")
    return Location(bucket=bucket, prefix=prefix)


def _options(value: object) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidOption(f"options must be an object with fields from {', '.join(OPTION_NAMES)}")
    params: dict[str, str] = {}
    for name, option in value.items():
        if name not in OPTION_NAMES:
            raise InvalidOption(f"unknown option {name!r}; options are {', '.join(OPTION_NAMES)}")
        if isinstance(option, (dict, list)) or option is None:
            raise InvalidOption(f"option {name!r} must be a string, number or boolean")
        params[name] = str(option).lower() if isinstance(option, bool) else str(option)
    return params
