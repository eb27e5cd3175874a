"""The simulator's market day follows the KRX calendar's hours, special days included.

KIS refuses an order before the day's open and after its close; on the year's first session
(10:00-15:30 KST) and on an exam day (10:00-16:30) those are not the usual 09:00-15:30.
"""

from __future__ import annotations

from datetime import date, datetime

import pytest

from core.clock import KST
from tools.kis.simulator.market import session_point


def _kst(day: date, hour: int, minute: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=KST)


ORDINARY, FIRST, EXAM = date(2025, 6, 10), date(2025, 1, 2), date(2025, 11, 13)


@pytest.mark.parametrize(
    ("at", "phase", "index"),
    [
        (_kst(ORDINARY, 8, 59), "pre", None),
        (_kst(ORDINARY, 9, 0), "open", 0),
        (_kst(ORDINARY, 15, 29), "open", 389),
        (_kst(ORDINARY, 15, 30), "post", None),
        (_kst(FIRST, 9, 30), "pre", None),
        (_kst(FIRST, 10, 0), "open", 0),
        (_kst(FIRST, 15, 30), "post", None),
        (_kst(EXAM, 9, 30), "pre", None),
        (_kst(EXAM, 10, 1), "open", 1),
        (_kst(EXAM, 16, 29), "open", 389),
        (_kst(EXAM, 16, 30), "post", None),
    ],
)
def test_the_phase_of_an_instant_follows_the_day_s_hours(
    at: datetime, phase: str, index: int | None
) -> None:
    point = session_point(at, always_open=False)
    assert (point.day, point.phase, point.index) == (at.date(), phase, index)


def test_a_closed_day_belongs_to_the_last_session() -> None:
    point = session_point(_kst(date(2025, 6, 14), 10, 0), always_open=False)  # a Saturday
    assert (point.day, point.phase) == (date(2025, 6, 13), "post")
