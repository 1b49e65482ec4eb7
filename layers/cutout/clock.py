"""The one clock of the library: timezone-aware UTC now, handed in where time decides
something (retention ages, the dates on accounts and keys) so tests can set the time."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """Now, in UTC, timezone-aware."""
    return datetime.now(UTC)


def iso_seconds(moment: datetime) -> str:
    """`2026-12-02T04:40:33Z`: a moment in UTC to the second (job start and end times)."""
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
