"""When a venue trades, as an object the context carries (`SessionContext.venue_hours`).

KRX trades on the days of its calendar until 15:30 KST, and an approval asked for during a
session lapses at that close. The built-in demo market is always open: a demo session for
today trades on any day (its prices loop over the last trading day's session), so the demo and
Studio work on weekends too, and its approvals wait out their time-to-live. The context is
given one of these where it is built; the nodes ask it instead of comparing venue names.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Protocol

from core.clock import KST

MARKET_CLOSE = time(15, 30)
"""The close of the KRX regular session, KST."""


class VenueHours(Protocol):
    """Which days a venue trades, and until when an approval may wait."""

    def trades_on(self, day: date, *, today: date, is_trading_day: Callable[[date], bool]) -> bool:
        """Whether a session on `day` trades (`is_trading_day`: the calendar the context has)."""
        ...

    def approval_deadline(self, session_date: date) -> datetime | None:
        """The latest moment an approval of that day's session may wait to (None: no limit)."""
        ...


@dataclass(frozen=True)
class KrxHours:
    """The KRX regular session: calendar days only; approvals lapse at the close."""

    close: time = MARKET_CLOSE

    def trades_on(self, day: date, *, today: date, is_trading_day: Callable[[date], bool]) -> bool:
        """A day of the calendar."""
        return is_trading_day(day)

    def approval_deadline(self, session_date: date) -> datetime | None:
        """The session day's close."""
        return datetime.combine(session_date, self.close, tzinfo=KST)


@dataclass(frozen=True)
class AlwaysOpen:
    """The built-in demo market: today always trades, and approvals wait out their TTL."""

    def trades_on(self, day: date, *, today: date, is_trading_day: Callable[[date], bool]) -> bool:
        """A day of the calendar, or today whatever the calendar says."""
        return is_trading_day(day) or day == today

    def approval_deadline(self, session_date: date) -> datetime | None:
        """No deadline but the approval's own time-to-live."""
        return None
