"""The KRX trading calendar (exchange_calendars' XKRX), with the settlement date rule.

Building an exchange_calendars calendar costs about a second, so one instance is cached.

XKRX knows the holidays and the year's first trading day (opens 10:00), but not the day of the
national university entrance exam (수능): KRX then opens and closes one hour late, 10:00-16:30
KST, so that traffic clears for the candidates (KRX's announcement of each year, as reported
for 2021 to 2025). `EXAM_DAYS` lists the exam days the Ministry of Education has announced;
add the next one when it is announced (about two years ahead, each August).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

import exchange_calendars as xcals
import pandas as pd

from core.errors import ConfigurationError

SETTLEMENT_LAG_DAYS = 2
"""KRX settles on T+2 trading days."""

EXAM_DAYS = frozenset(
    {
        date(2021, 11, 18),
        date(2022, 11, 17),
        date(2023, 11, 16),
        date(2024, 11, 14),
        date(2025, 11, 13),
        date(2026, 11, 19),
    }
)
"""Exam days (수능): the regular session runs 10:00-16:30 KST instead of 09:00-15:30."""
EXAM_DAY_SHIFT = timedelta(hours=1)
"""How much later the session opens and closes on an exam day."""


@lru_cache(maxsize=1)
def krx_calendar() -> Any:
    """Return the cached XKRX calendar covering 1990 to two years ahead."""
    end = pd.Timestamp.today().normalize() + pd.DateOffset(years=2)
    return xcals.get_calendar("XKRX", start="1990-01-01", end=end.strftime("%Y-%m-%d"))


class OutsideCalendarError(ConfigurationError):
    """A date the KRX calendar does not cover: nobody can tell whether KRX trades on it."""

    def __init__(self, day: date, first: date, last: date) -> None:
        """Name the date and the range the calendar covers."""
        super().__init__(
            f"{day.isoformat()} is outside the KRX calendar "
            f"({first.isoformat()} to {last.isoformat()})"
        )
        self.day = day


@lru_cache(maxsize=1)
def calendar_bounds() -> tuple[date, date]:
    """Return the first and last session the cached XKRX calendar knows."""
    cal = krx_calendar()
    return cal.first_session.date(), cal.last_session.date()


def check_in_calendar(day: date) -> date:
    """Return `day` when the calendar covers it.

    Raises:
        OutsideCalendarError: the date is before the first or after the last session known.
    """
    first, last = calendar_bounds()
    if not first <= day <= last:
        raise OutsideCalendarError(day, first, last)
    return day


@lru_cache(maxsize=16_384)
def is_trading_day(day: date) -> bool:
    """Tell whether KRX trades on `day` (cached: sessions and backtests ask the same days).

    Raises:
        OutsideCalendarError: the calendar does not cover `day`.
    """
    check_in_calendar(day)
    return bool(krx_calendar().is_session(pd.Timestamp(day)))


@lru_cache(maxsize=1_024)
def session_hours(day: date) -> tuple[datetime, datetime] | None:
    """Return the regular session's open and close on `day` (UTC-aware), or None on a closed day.

    Most days run 09:00-15:30 KST; the year's first trading day opens at 10:00, and an exam day
    (`EXAM_DAYS`) runs 10:00-16:30.

    Raises:
        OutsideCalendarError: the calendar does not cover `day`.
    """
    if not is_trading_day(day):
        return None
    cal, ts = krx_calendar(), pd.Timestamp(day)
    opens, closes = cal.session_open(ts).to_pydatetime(), cal.session_close(ts).to_pydatetime()
    if day in EXAM_DAYS:
        return opens + EXAM_DAY_SHIFT, closes + EXAM_DAY_SHIFT
    return opens, closes


def next_trading_day(day: date) -> date:
    """Return the first trading day strictly after `day`."""
    cal = krx_calendar()
    ts = pd.Timestamp(day)
    if cal.is_session(ts):
        return cal.next_session(ts).date()  # type: ignore[no-any-return]
    return cal.date_to_session(ts, direction="next").date()  # type: ignore[no-any-return]


def settlement_date(trade_date: date) -> date:
    """Return T+2 in trading days for a trade on `trade_date`."""
    day = trade_date
    for _ in range(SETTLEMENT_LAG_DAYS):
        day = next_trading_day(day)
    return day
