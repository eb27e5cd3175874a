"""The plan on the real XKRX calendar: weekends, KRX holidays, the late openings."""

from __future__ import annotations

import asyncio
import logging
from datetime import date, datetime, time, timedelta

import pytest

from core.clock import KST
from tools.kis.models_quotes import HolidayDay
from trader.schedule.days import KisCheckedCalendar, XkrxCalendar
from trader.schedule.plan import (
    DEFAULT_SCHEDULE_RUNS,
    ScheduledRun,
    next_run,
    parse_runs,
    plan_day,
    plan_days,
)
from trader.schedule.runner import PlanTrigger

RUNS = parse_runs(["08:40 pre_open", "14:30 regular"])
XKRX = XkrxCalendar()


def kst(y: int, m: int, d: int, hh: int, mm: int) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=KST)


def times(day: date) -> list[tuple[str, str]]:
    return [(p.at.strftime("%H:%M"), p.phase) for p in plan_day(day, RUNS, XKRX).runs]


def test_default_runs_are_a_pre_open_analysis_and_an_afternoon_session() -> None:
    assert [str(r) for r in DEFAULT_SCHEDULE_RUNS] == ["08:40 pre_open", "14:30 regular"]


def test_an_ordinary_trading_day_runs_at_the_configured_times() -> None:
    assert times(date(2025, 1, 3)) == [("08:40", "pre_open"), ("14:30", "regular")]
    assert all(not p.shifted for p in plan_day(date(2025, 1, 3), RUNS, XKRX).runs)


def test_a_weekend_has_no_runs_and_the_next_run_is_monday() -> None:
    saturday = plan_day(date(2025, 1, 4), RUNS, XKRX)
    assert saturday.runs == () and saturday.closed_because == "weekend"
    assert plan_day(date(2025, 1, 5), RUNS, XKRX).runs == ()
    after_friday_close = kst(2025, 1, 3, 15, 0)
    upcoming = next_run(after_friday_close, RUNS, XKRX)
    assert upcoming is not None
    assert (upcoming.day, upcoming.phase, upcoming.at) == (
        date(2025, 1, 6),
        "pre_open",
        kst(2025, 1, 6, 8, 40),
    )


@pytest.mark.parametrize(
    "holiday", [date(2024, 12, 25), date(2025, 1, 28), date(2025, 1, 29), date(2025, 1, 30)]
)
def test_a_krx_holiday_on_a_weekday_has_no_runs(holiday: date) -> None:
    assert holiday.weekday() < 5
    plan = plan_day(holiday, RUNS, XKRX)
    assert plan.runs == () and plan.closed_because == "KRX holiday"


def test_seollal_is_skipped_whole_by_the_next_run() -> None:
    # Friday 2025-01-24 after the afternoon run: the market reopens on Friday 2025-01-31.
    upcoming = next_run(kst(2025, 1, 24, 14, 30), RUNS, XKRX)
    assert upcoming is not None and upcoming.at == kst(2025, 1, 31, 8, 40)
    week = plan_days(date(2025, 1, 25), 7, RUNS, XKRX)
    assert [p.day.day for p in week if p.runs] == [31]


def test_the_years_first_trading_day_shifts_a_run_before_the_late_opening() -> None:
    # 2025-01-02 opens at 10:00: the pre-open run keeps its 20 minutes before the open;
    # the afternoon run is after the open and keeps its time.
    assert XKRX.opens_at(date(2025, 1, 2)) == kst(2025, 1, 2, 10, 0)
    plan = plan_day(date(2025, 1, 2), RUNS, XKRX)
    pre_open, regular = plan.runs
    assert pre_open.at == kst(2025, 1, 2, 9, 40) and pre_open.shifted == timedelta(hours=1)
    assert "08:40 shifted by 1:00:00: late opening" in pre_open.describe()
    assert regular.at == kst(2025, 1, 2, 14, 30) and not regular.shifted
    # A run between 09:00 and the late open shifts too; one at the open does not.
    other = parse_runs(["09:30 pre_open", "10:00 regular"])
    assert [(p.at, p.phase) for p in plan_day(date(2025, 1, 2), other, XKRX).runs] == [
        (kst(2025, 1, 2, 10, 0), "regular"),
        (kst(2025, 1, 2, 10, 30), "pre_open"),
    ]
    # The year's last day is a KRX holiday, so the first run of 2025 is the shifted one.
    upcoming = next_run(kst(2024, 12, 30, 15, 0), RUNS, XKRX)
    assert upcoming is not None and upcoming.at == kst(2025, 1, 2, 9, 40)


def test_an_exam_day_shifts_the_pre_open_run_like_the_year_s_first_day() -> None:
    # 2025-11-13, the university entrance exam: KRX trades 10:00-16:30.
    exam = date(2025, 11, 13)
    assert XKRX.opens_at(exam) == kst(2025, 11, 13, 10, 0)
    pre_open, regular = plan_day(exam, RUNS, XKRX).runs
    assert pre_open.at == kst(2025, 11, 13, 9, 40) and pre_open.shifted == timedelta(hours=1)
    assert regular.at == kst(2025, 11, 13, 14, 30) and not regular.shifted
    assert XKRX.opens_at(date(2025, 11, 14)) == kst(2025, 11, 14, 9, 0)


def test_parse_runs_refuses_what_cannot_be_scheduled() -> None:
    assert parse_runs([" 14:30   regular", "8:05 pre_open"]) == (
        ScheduledRun(time(8, 5), "pre_open"),
        ScheduledRun(time(14, 30), "regular"),
    )
    for bad, message in (
        (["0840 pre_open"], "HH:MM phase"),
        (["25:00 regular"], "not a time of day"),
        (["08:40 lunch"], "phase must be one of pre_open, regular"),
        (["08:40 regular", "14:30 regular"], "regular is scheduled twice"),
    ):
        with pytest.raises(ValueError, match=message):
            parse_runs(bad)


def test_the_apscheduler_trigger_follows_the_plan() -> None:
    trigger = PlanTrigger(RUNS[0], XKRX)
    # First computed on a Saturday: Monday's run.
    first = trigger.get_next_fire_time(None, kst(2025, 1, 4, 12, 0))
    assert first == kst(2025, 1, 6, 8, 40)
    # Started exactly at a run's time: that run is still due.
    assert trigger.get_next_fire_time(None, first) == first
    # After firing on Friday 2025-01-24, the next is after Seollal.
    fired = kst(2025, 1, 24, 8, 40)
    assert trigger.get_next_fire_time(fired, fired) == kst(2025, 1, 31, 8, 40)
    # After the last run of 2024, the late-opening day's shifted time.
    assert trigger.get_next_fire_time(kst(2024, 12, 30, 8, 40), kst(2024, 12, 30, 8, 40)) == kst(
        2025, 1, 2, 9, 40
    )


def holiday_row(day: date, *, open_day: bool) -> HolidayDay:
    flag = "Y" if open_day else "N"
    return HolidayDay.model_validate(
        {
            "bass_dt": day.strftime("%Y%m%d"),
            "wday_dvsn_cd": "",
            "bzdy_yn": flag,
            "tr_day_yn": flag,
            "opnd_yn": flag,
            "sttl_day_yn": flag,
        }
    )


def test_kis_can_close_a_day_xkrx_thinks_open_and_the_disagreement_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    calendar = KisCheckedCalendar()
    closed_by_kis = date(2025, 1, 3)  # a trading day on XKRX

    async def fetch(day: date) -> list[HolidayDay]:
        assert day == date(2025, 1, 2)
        return [
            holiday_row(date(2025, 1, 2), open_day=True),
            holiday_row(closed_by_kis, open_day=False),
        ]

    with caplog.at_level(logging.WARNING, logger="trader.schedule.days"):
        asyncio.run(calendar.refresh(fetch, date(2025, 1, 2)))
    assert "KRX calendars disagree on 2025-01-03: XKRX says open, KIS says closed" in caplog.text
    assert plan_day(closed_by_kis, RUNS, calendar).runs == ()
    assert len(plan_day(date(2025, 1, 2), RUNS, calendar).runs) == 2
    assert len(plan_day(date(2025, 1, 6), RUNS, calendar).runs) == 2  # KIS did not say: XKRX


def test_a_failing_kis_holiday_query_leaves_xkrx_alone(
    caplog: pytest.LogCaptureFixture,
) -> None:
    calendar = KisCheckedCalendar()

    async def fetch(day: date) -> list[HolidayDay]:
        raise ConnectionError("down")

    asyncio.run(calendar.refresh(fetch, date(2025, 1, 2)))
    assert "planning on XKRX alone" in caplog.text
    assert calendar.is_trading_day(date(2025, 1, 3))
