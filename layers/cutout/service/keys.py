"""API keys: random, high-entropy, shown once; we keep only the sha256 and a visible prefix."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from cutout.data.accounts import AccountStore, ApiKeyRecord
from cutout.errors import RevokedKey, UnknownKey

KEY_SCHEME = "co_live_"
SECRET_BYTES = 32  # 43 urlsafe characters, 256 bits
PREFIX_CHARS = 8  # of the secret part, shown to humans to tell keys apart
MAX_KEY_LENGTH = 256


@dataclass(frozen=True)
class NewKey:
    """A freshly generated key: `secret` is shown once and never stored."""

    secret: str
    key_hash: str
    key_prefix: str

    def __repr__(self) -> str:  # keep the secret out of tracebacks and debug output
        return f"NewKey(key_prefix={self.key_prefix!r})"


def generate_key() -> NewKey:
    """A new `co_live_<43 urlsafe chars>` key with its hash and visible prefix."""
    secret = KEY_SCHEME + secrets.token_urlsafe(SECRET_BYTES)
    return NewKey(secret=secret, key_hash=hash_key(secret), key_prefix=visible_prefix(secret))


def hash_key(secret: str) -> str:
    """The sha256 hex digest we store and look up (also the usage-plan key value)."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def visible_prefix(secret: str) -> str:
    return secret[: len(KEY_SCHEME) + PREFIX_CHARS]


class Authenticator:
    """Turns a presented key into the record of a live key, or refuses it."""

    def __init__(self, accounts: AccountStore) -> None:
        self._accounts = accounts

    def authenticate(self, presented: str | None) -> ApiKeyRecord:
        """The live key's record; `UnknownKey` for missing/unknown keys, `RevokedKey` if revoked."""
        if not presented or len(presented) > MAX_KEY_LENGTH:
            raise UnknownKey("a valid API key is required in the x-api-key header")
        key_hash = hash_key(presented.strip())
        record = self._accounts.get_key(key_hash)
        # The lookup is by hash already; the comparison is still constant-time so that no
        # code path ever compares key material with an early-exit equality.
        if record is None or not hmac.compare_digest(record.key_hash, key_hash):
            raise UnknownKey("the API key is not valid")
        if record.revoked:
            raise RevokedKey("the API key has been revoked")
        return record
