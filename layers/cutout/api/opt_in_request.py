"""`PUT /v1/account/training-opt-in`: its body, `{"opt_in": true|false}`, and nothing looser."""

from __future__ import annotations

import json

from cutout.errors import InvalidRequest

_HOW = 'send JSON: {"opt_in": true} or {"opt_in": false}'


def parse_opt_in(body: bytes) -> bool:
    """Exactly a JSON boolean: "true", 1 or "yes" are refused, so no switch flips by accident."""
    try:
        document = json.loads(body or b"null")
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise InvalidRequest(_HOW) from None
    if not isinstance(document, dict) or not isinstance(document.get("opt_in"), bool):
        raise InvalidRequest(_HOW)
    # Any other field is refused, as the document's `additionalProperties: false` says: a
    # field we do not read (a typo, a guessed "delete_data") must not look as if it worked.
    if set(document) != {"opt_in"}:
        raise InvalidRequest(f"unknown field(s) {sorted(set(document) - {'opt_in'})}; {_HOW}")
    return document["opt_in"]
