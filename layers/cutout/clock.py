"""The one clock of the library: timezone-aware UTC now, handed in where time decides
something (retention ages, the dates on accounts and keys) so tests can set the time."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """Now, in UTC, timezone-aware."""
    return datetime.now(UTC)
