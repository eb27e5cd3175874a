"""Venue hours: which days a session trades, and when an approval must be answered by."""

from __future__ import annotations

from datetime import date, datetime

from agents.venue_hours import AlwaysOpen, KrxHours
from core.clock import KST

SATURDAY, MONDAY = date(2025, 6, 14), date(2025, 6, 16)


def _calendar(day: date) -> bool:
    return day.weekday() < 5


def test_krx_trades_on_calendar_days_only_even_today() -> None:
    hours = KrxHours()
    assert hours.trades_on(MONDAY, today=MONDAY, is_trading_day=_calendar)
    assert not hours.trades_on(SATURDAY, today=SATURDAY, is_trading_day=_calendar)


def test_the_always_open_market_trades_today_whatever_the_calendar_says() -> None:
    hours = AlwaysOpen()
    assert hours.trades_on(SATURDAY, today=SATURDAY, is_trading_day=_calendar)
    # Another closed day is still closed: only today's session is always open.
    assert not hours.trades_on(SATURDAY, today=MONDAY, is_trading_day=_calendar)
    assert hours.trades_on(MONDAY, today=SATURDAY, is_trading_day=_calendar)


def test_krx_approvals_lapse_at_the_close_and_the_demo_s_only_by_their_ttl() -> None:
    assert KrxHours().approval_deadline(MONDAY) == datetime(2025, 6, 16, 15, 30, tzinfo=KST)
    assert AlwaysOpen().approval_deadline(MONDAY) is None
