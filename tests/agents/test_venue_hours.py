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


def _kst(day: date, hour: int, minute: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=KST)


def test_kis_takes_orders_from_the_opening_auction_s_reception_to_the_close() -> None:
    hours = KrxHours()  # the XKRX calendar's session hours
    assert not hours.accepts_orders(_kst(MONDAY, 8, 29))
    assert hours.accepts_orders(_kst(MONDAY, 8, 30))
    assert hours.accepts_orders(_kst(MONDAY, 15, 29))
    assert not hours.accepts_orders(_kst(MONDAY, 15, 30))
    assert not hours.accepts_orders(_kst(SATURDAY, 10, 0))
    assert hours.next_order_window(_kst(MONDAY, 8, 10)) == _kst(MONDAY, 8, 30)
    assert hours.next_order_window(_kst(MONDAY, 11, 0)) == _kst(MONDAY, 11, 0)
    # After the close, and over a weekend: the next trading day's reception.
    assert hours.next_order_window(_kst(MONDAY, 15, 30)) == _kst(date(2025, 6, 17), 8, 30)
    assert hours.next_order_window(_kst(SATURDAY, 9, 0)) == _kst(MONDAY, 8, 30)


def test_the_year_s_first_session_opens_at_ten_so_reception_starts_at_half_past_nine() -> None:
    first = date(2025, 1, 2)
    hours = KrxHours()
    assert not hours.accepts_orders(_kst(first, 9, 0))
    assert hours.accepts_orders(_kst(first, 9, 30))
    assert hours.next_order_window(_kst(first, 8, 30)) == _kst(first, 9, 30)


def test_pinned_session_hours_decide_the_window() -> None:
    hours = KrxHours(sessions=lambda d: (_kst(d, 10, 0), _kst(d, 16, 30)))  # a late-open day
    assert not hours.accepts_orders(_kst(MONDAY, 9, 0))
    assert hours.accepts_orders(_kst(MONDAY, 16, 0))
    assert hours.next_order_window(_kst(MONDAY, 8, 0)) == _kst(MONDAY, 9, 30)


def test_the_always_open_market_always_takes_orders() -> None:
    at = _kst(SATURDAY, 3, 0)
    assert AlwaysOpen().accepts_orders(at)
    assert AlwaysOpen().next_order_window(at) == at


def test_the_order_hours_are_said_from_the_day_s_calendar() -> None:
    hours = KrxHours()
    assert hours.order_hours(MONDAY) == "08:30–15:30 KST"
    assert hours.order_hours(date(2025, 1, 2)) == "09:30–15:30 KST"  # the late first opening
    assert hours.order_hours(SATURDAY) == "none: not a KRX trading day"
    pinned = KrxHours(sessions=lambda d: (_kst(d, 10, 0), _kst(d, 16, 30)))
    assert pinned.order_hours(MONDAY) == "09:30–16:30 KST"
    assert AlwaysOpen().order_hours(SATURDAY) == "at any time"


def test_an_exam_day_opens_and_closes_an_hour_late() -> None:
    exam = date(2025, 11, 13)  # 수능: KRX trades 10:00-16:30 KST
    hours = KrxHours()  # the calendar's own hours, not pinned ones
    assert hours.order_hours(exam) == "09:30–16:30 KST"
    assert not hours.accepts_orders(_kst(exam, 9, 0))
    assert hours.accepts_orders(_kst(exam, 16, 0))
    assert not hours.accepts_orders(_kst(exam, 16, 30))
    assert hours.next_order_window(_kst(exam, 8, 40)) == _kst(exam, 9, 30)
    assert hours.approval_deadline(exam) == _kst(exam, 16, 30)
    # The next day is an ordinary one again.
    assert hours.order_hours(date(2025, 11, 14)) == "08:30–15:30 KST"
    assert hours.approval_deadline(date(2025, 11, 14)) == _kst(date(2025, 11, 14), 15, 30)
