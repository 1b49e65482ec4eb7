"""Usage of an account: per-day counters written after each removal, read back by month.

Counted by the remove-background function once a removal has succeeded (requests and the
pixels of the result it produced); shown on the account page and in `GET /v1/account`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from cutout.clock import Clock, utc_now
from cutout.data.accounts import AccountStore, DailyUsage
from cutout.data.aws import AwsError

logger = logging.getLogger(__name__)



def utc_day(moment: datetime) -> str:
    """The UTC calendar day of `moment`, as the counters are keyed (YYYY-MM-DD)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d")


@dataclass(frozen=True)
class MonthlyUsage:
    """One calendar month (UTC) of an account's usage, with its days."""

    month: str  # YYYY-MM
    days: tuple[DailyUsage, ...]

    @property
    def requests(self) -> int:
        return sum(day.requests for day in self.days)

    @property
    def pixels(self) -> int:
        return sum(day.pixels for day in self.days)

    @property
    def megapixels(self) -> float:
        return round(self.pixels / 1_000_000, 2)


class UsageMeter:
    """Counts removals per account and day; reads a month back."""

    def __init__(self, accounts: AccountStore, clock: Clock = utc_now) -> None:
        self._accounts = accounts
        self._clock = clock

    def record(self, account_id: str, pixels: int) -> bool:
        """One more successful request producing `pixels` pixels, counted today (UTC).

        Best effort: the cutout is already made and owed to the caller, so a counter that
        cannot be written is logged (error code only) and reported False, never raised.
        """
        try:
            self._accounts.add_usage(account_id, utc_day(self._clock()), 1, pixels)
        except AwsError as error:
            code = getattr(error, "response", {}).get("Error", {}).get("Code", type(error).__name__)
            logger.warning("usage not counted", extra={"error_code": code})
            return False
        return True

    def this_month(self, account_id: str) -> MonthlyUsage:
        """The current UTC month's counters of the account (no days: zero everywhere)."""
        month = self._clock().astimezone(UTC).strftime("%Y-%m")
        return MonthlyUsage(month=month, days=tuple(self._accounts.usage(account_id, month)))
