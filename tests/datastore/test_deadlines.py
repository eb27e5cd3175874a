"""The dates that decide when a KIS report counts as known and when a session refetches."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from datastore.collector.fundamentals import (
    deadline_known_on,
    deadlines_between,
    needs_refresh,
    period_end,
)


def test_period_end_is_the_last_day_of_the_month() -> None:
    assert period_end("202412") == date(2024, 12, 31)
    assert period_end("202402") == date(2024, 2, 29)
    with pytest.raises(ValueError):
        period_end("2024")


def test_known_from_the_deadline_unless_fetched_earlier() -> None:
    # FY2024 is due 90 days after 2024-12-31, i.e. 2025-03-31.
    assert deadline_known_on("202412", annual=True, fetched_on=date(2026, 1, 5)) == (
        date(2025, 3, 31),
        "deadline",
    )
    assert deadline_known_on("202412", annual=True, fetched_on=date(2025, 3, 2)) == (
        date(2025, 3, 2),
        "fetched",
    )
    # A quarter is due 45 days after its end.
    assert deadline_known_on("202409", annual=False, fetched_on=date(2025, 6, 1)) == (
        date(2024, 11, 14),
        "deadline",
    )


def test_deadlines_between_counts_each_quarter_and_the_year() -> None:
    found = deadlines_between(date(2025, 1, 1), date(2025, 12, 31))
    assert found == [date(2025, 3, 31), date(2025, 5, 15), date(2025, 8, 14), date(2025, 11, 14)]
    assert deadlines_between(date(2025, 3, 31), date(2025, 5, 14)) == []


def test_a_session_refetches_when_a_report_can_be_new_or_the_fetch_is_old() -> None:
    month = timedelta(days=30)
    assert needs_refresh(None, date(2025, 4, 1), month)
    assert not needs_refresh(date(2025, 4, 1), date(2025, 4, 20), month)
    assert needs_refresh(date(2025, 4, 1), date(2025, 5, 15), month)  # Q1 due on May 15
    assert needs_refresh(date(2025, 6, 1), date(2025, 7, 1), month)  # 30 days old
    assert not needs_refresh(date(2025, 6, 1), date(2025, 6, 30), month)
