"""The trading calendars the schedule plans on: XKRX, and XKRX cross-checked with KIS.

exchange_calendars' XKRX knows KRX's holidays and the year's first trading day's late opening
(10:00); `tools.krx.calendar.session_hours` adds the exam day's (10:00). With a real account,
KIS's own market calendar (chk-holiday, CTCA0903R; a real-server query, asked once a day) is
asked as well: a day runs only when both say KRX opens, and a disagreement is logged.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from datetime import date, datetime

from core.clock import KST
from tools.kis.models_quotes import HolidayDay
from tools.krx.calendar import is_trading_day, session_hours

log = logging.getLogger(__name__)

HolidayFetch = Callable[[date], Awaitable[list[HolidayDay]]]
"""Ask KIS for its market calendar from a day on (`KISClient.holidays`)."""


class XkrxCalendar:
    """KRX's trading days and opening times from exchange_calendars' XKRX."""

    def is_trading_day(self, day: date) -> bool:
        """Whether KRX trades on `day`."""
        return is_trading_day(day)

    def opens_at(self, day: date) -> datetime:
        """When KRX opens on the trading day `day` (KST): 09:00, or 10:00 on a late opening.

        Raises:
            ValueError: KRX does not trade on `day`.
        """
        hours = session_hours(day)
        if hours is None:
            raise ValueError(f"KRX does not trade on {day.isoformat()}")
        return hours[0].astimezone(KST)


class KisCheckedCalendar:
    """XKRX, with the days KIS says the market is closed taken out.

    `learn` records KIS's answer; days KIS has not answered for follow XKRX alone.
    """

    def __init__(self, base: XkrxCalendar | None = None) -> None:
        """Check `base` (XKRX by default) against what KIS says."""
        self.base = base or XkrxCalendar()
        self.kis_open: dict[date, bool] = {}

    def learn(self, days: Iterable[HolidayDay]) -> None:
        """Record KIS's open flags and log each day on which KIS and XKRX disagree."""
        for row in days:
            self.kis_open[row.day] = row.open_day
            xkrx = self.base.is_trading_day(row.day)
            if xkrx != row.open_day:
                log.warning(
                    "KRX calendars disagree on %s: XKRX says %s, KIS says %s; no run that day",
                    row.day.isoformat(),
                    "open" if xkrx else "closed",
                    "open" if row.open_day else "closed",
                )

    async def refresh(self, fetch: HolidayFetch, day: date) -> None:
        """Ask KIS for its calendar from `day` on; on failure keep XKRX alone (and log it)."""
        try:
            self.learn(await fetch(day))
        except Exception as exc:  # the schedule still runs on XKRX; KIS may answer tomorrow
            log.warning("KIS holiday query failed (%s); planning on XKRX alone", type(exc).__name__)

    def is_trading_day(self, day: date) -> bool:
        """Open on XKRX, and not closed according to KIS."""
        return self.base.is_trading_day(day) and self.kis_open.get(day, True)

    def opens_at(self, day: date) -> datetime:
        """XKRX's opening time (KIS's calendar has none)."""
        return self.base.opens_at(day)
