"""When a venue trades, as an object the context carries (`SessionContext.venue_hours`).

KRX trades on the days of its calendar until its close (15:30 KST; 16:30 on an exam day), and
an approval asked for during a session lapses at that close. The built-in demo market is always
open: a demo session for today trades on any day (its prices loop over the last trading day's
session), so the demo and Studio work on weekends too, and its approvals wait out their
time-to-live. The context is given one of these where it is built; the nodes ask it instead of
comparing venue names.

The executor also asks it whether the venue takes a new order now, and when it next will: KIS
receives regular-session orders from 08:30 KST (the opening auction's order reception, 30
minutes before the open) to the close at 15:30, and its virtual server refuses an order outside
them with 40570000 "모의투자 장시작전" or 40580000 "모의투자 장종료" (`../shared/reference/
kis-api.md`, section 7 "Trading rules for the simulator": "Pre-open call auction 08:30–09:00",
"Regular continuous session 09:00–15:30, with the closing call 15:20–15:30", "Virtual: orders
outside hours are rejected with 40570000 (before the open) or 40580000 (after the close)").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Protocol

from core.clock import KST
from tools.krx.calendar import session_hours

MARKET_CLOSE = time(15, 30)
"""The close of the KRX regular session, KST."""
ORDER_RECEPTION_LEAD = timedelta(minutes=30)
"""How long before the open KIS receives orders (the opening auction: 08:30 for a 09:00 open)."""
SEARCH_DAYS = 15
"""How many days ahead `KrxHours.next_order_window` looks (longer than any KRX holiday run)."""

SessionHours = Callable[[date], tuple[datetime, datetime] | None]
"""A day's regular session (open, close), or None when the venue is closed that day."""


class VenueHours(Protocol):
    """Which days a venue trades, and until when an approval may wait."""

    def trades_on(self, day: date, *, today: date, is_trading_day: Callable[[date], bool]) -> bool:
        """Whether a session on `day` trades (`is_trading_day`: the calendar the context has)."""
        ...

    def approval_deadline(self, session_date: date) -> datetime | None:
        """The latest moment an approval of that day's session may wait to (None: no limit)."""
        ...

    def accepts_orders(self, at: datetime) -> bool:
        """Whether the venue takes a new regular-session order at `at` (aware)."""
        ...

    def next_order_window(self, after: datetime) -> datetime | None:
        """When the venue next takes orders: `after` itself if it does then (None: not soon)."""
        ...

    def order_hours(self, day: date) -> str:
        """The hours the venue takes orders on `day`, for a person (``08:30–15:30 KST``)."""
        ...


@dataclass(frozen=True)
class KrxHours:
    """The KRX regular session: calendar days only; approvals lapse at the close.

    Orders are taken from `ORDER_RECEPTION_LEAD` before the day's open to its close, both from
    the calendar (`tools.krx.calendar.session_hours`): 08:30-15:30 KST on most days, 09:30-15:30
    on the year's first trading day (it opens at 10:00), 09:30-16:30 on an exam day.
    """

    close: time = MARKET_CLOSE
    sessions: SessionHours = session_hours
    """The day's session hours (the XKRX calendar; a test may pin its own)."""

    def trades_on(self, day: date, *, today: date, is_trading_day: Callable[[date], bool]) -> bool:
        """A day of the calendar."""
        return is_trading_day(day)

    def approval_deadline(self, session_date: date) -> datetime | None:
        """The session day's close (the calendar's; `close` on a day it does not trade)."""
        hours = self.sessions(session_date)
        if hours is None:
            return datetime.combine(session_date, self.close, tzinfo=KST)
        return hours[1]

    def _reception(self, day: date) -> tuple[datetime, datetime] | None:
        hours = self.sessions(day)
        if hours is None:
            return None
        opens, closes = hours
        return opens - ORDER_RECEPTION_LEAD, closes

    def accepts_orders(self, at: datetime) -> bool:
        """From order reception (30 minutes before the open) to the close, on a trading day."""
        window = self._reception(at.astimezone(KST).date())
        return window is not None and window[0] <= at < window[1]

    def order_hours(self, day: date) -> str:
        """``08:30–15:30 KST`` on most days, from the calendar (see the class).

        ``09:30–15:30 KST`` on the year's first trading day, ``09:30–16:30 KST`` on an exam day;
        ``none: not a KRX trading day``.
        """
        window = self._reception(day)
        if window is None:
            return "none: not a KRX trading day"
        opens, closes = (moment.astimezone(KST) for moment in window)
        return f"{opens:%H:%M}–{closes:%H:%M} KST"

    def next_order_window(self, after: datetime) -> datetime | None:
        """`after` inside a window, else the next reception's start (within `SEARCH_DAYS`)."""
        day = after.astimezone(KST).date()
        for offset in range(SEARCH_DAYS):
            window = self._reception(day + timedelta(days=offset))
            if window is None or after >= window[1]:
                continue
            return max(after, window[0])
        return None


@dataclass(frozen=True)
class AlwaysOpen:
    """The built-in demo market: today always trades, and approvals wait out their TTL."""

    def trades_on(self, day: date, *, today: date, is_trading_day: Callable[[date], bool]) -> bool:
        """A day of the calendar, or today whatever the calendar says."""
        return is_trading_day(day) or day == today

    def approval_deadline(self, session_date: date) -> datetime | None:
        """No deadline but the approval's own time-to-live."""
        return None

    def accepts_orders(self, at: datetime) -> bool:
        """Always."""
        return True

    def next_order_window(self, after: datetime) -> datetime | None:
        """Now."""
        return after

    def order_hours(self, day: date) -> str:
        """At any time."""
        return "at any time"
