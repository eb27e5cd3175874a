"""The deterministic macro dataset served by the simulated ECOS and FRED.

Built from data, once, at import: the Bank of Korea base rate from its decision dates (real
decisions 2017-2025), a synthetic KRW/USD path, a Korean and a US CPI index whose year-on-year
rates follow the real annual averages approximately, the US fed funds rate by month (approximate),
and a US release calendar generated from each release's usual rule (e.g. Employment Situation on
the first Friday). Synthetic values are smooth deterministic functions, not market history: they
exist so that parsers, filters and snapshots can be exercised, not to be traded on.

Every point knows when it became public (`available_on`); the simulator serves only points
public on its `today`, so a backtest against it cannot see the future either.
"""

from __future__ import annotations

import calendar
import math
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

DATA_START = date(2018, 1, 1)
DATA_END = date(2026, 6, 30)
CALENDAR_END = date(2027, 12, 31)
"""Release schedules run further than data: future dates are 'scheduled, no data yet'."""


@dataclass(frozen=True)
class Point:
    """One value of a series for the period [start, end], public from `available_on`."""

    start: date
    end: date
    value: Decimal | None
    available_on: date


@dataclass(frozen=True)
class Series:
    """A series and its metadata (ECOS table/item or FRED series id)."""

    key: str
    name: str
    unit: str
    cycle: str
    points: tuple[Point, ...]
    item_name: str = ""


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _months(first: date, last: date) -> list[tuple[date, date]]:
    months = []
    year, month = first.year, first.month
    while date(year, month, 1) <= last:
        end = date(year, month, calendar.monthrange(year, month)[1])
        months.append((date(year, month, 1), end))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def _q(value: float, places: str) -> Decimal:
    return Decimal(repr(value)).quantize(Decimal(places), rounding=ROUND_HALF_UP)


BOK_BASE_RATE_DECISIONS: tuple[tuple[date, str], ...] = (
    (date(2017, 11, 30), "1.50"),
    (date(2018, 11, 30), "1.75"),
    (date(2019, 7, 18), "1.50"),
    (date(2019, 10, 16), "1.25"),
    (date(2020, 3, 17), "0.75"),
    (date(2020, 5, 28), "0.50"),
    (date(2021, 8, 26), "0.75"),
    (date(2021, 11, 25), "1.00"),
    (date(2022, 1, 14), "1.25"),
    (date(2022, 4, 14), "1.50"),
    (date(2022, 5, 26), "1.75"),
    (date(2022, 7, 13), "2.25"),
    (date(2022, 8, 25), "2.50"),
    (date(2022, 10, 12), "3.00"),
    (date(2022, 11, 24), "3.25"),
    (date(2023, 1, 13), "3.50"),
    (date(2024, 10, 11), "3.25"),
    (date(2024, 11, 28), "3.00"),
    (date(2025, 2, 25), "2.75"),
    (date(2025, 5, 29), "2.50"),
)
"""Bank of Korea Monetary Policy Board decisions (effective date, % per year)."""


def base_rate_on(day: date) -> Decimal:
    """The base rate in force on `day`."""
    rate = BOK_BASE_RATE_DECISIONS[0][1]
    for effective, value in BOK_BASE_RATE_DECISIONS:
        if effective <= day:
            rate = value
    return Decimal(rate)


def krw_per_usd(day: date) -> Decimal:
    """A synthetic KRW/USD close: a slow trend plus two deterministic waves, 0.1 won steps."""
    n = (day - DATA_START).days
    value = 1120 + 0.09 * n + 45 * math.sin(n / 97) + 6 * math.sin(n / 5.3)
    return _q(value, "0.1")


def _index(
    yoy_by_year: dict[int, str], base: float, places: str
) -> list[tuple[date, date, Decimal]]:
    points, level = [], base
    for start, end in _months(DATA_START, DATA_END):
        points.append((start, end, _q(level, places)))
        yearly = float(yoy_by_year[start.year]) / 100
        wobble = 0.0004 * math.sin(start.month * 1.7 + start.year)
        level *= (1 + yearly) ** (1 / 12) + wobble
    return points


KR_CPI_YOY = dict(enumerate(("1.5", "0.4", "0.5", "2.5", "5.1", "3.6", "2.3", "2.1", "2.0"), 2018))
"""Korean CPI inflation by year, % (approximately the real annual averages)."""
US_CPI_YOY = dict(enumerate(("2.4", "1.8", "1.2", "4.7", "8.0", "4.1", "2.9", "2.7", "2.6"), 2018))
"""US CPI-U inflation by year, % (approximately the real annual averages)."""
US_FED_FUNDS: tuple[tuple[date, str], ...] = tuple(
    (date(int(ym[:4]), int(ym[5:]), 1), rate)
    for ym, rate in (
        ("2018-01", "1.41"), ("2018-04", "1.69"), ("2018-07", "1.91"), ("2018-10", "2.19"),
        ("2019-01", "2.40"), ("2019-08", "2.13"), ("2019-10", "1.83"), ("2019-11", "1.55"),
        ("2020-04", "0.05"), ("2020-06", "0.08"), ("2022-04", "0.33"), ("2022-05", "0.77"),
        ("2022-07", "1.68"), ("2022-08", "2.33"), ("2022-10", "3.08"), ("2022-12", "4.10"),
        ("2023-02", "4.57"), ("2023-04", "4.83"), ("2023-06", "5.08"), ("2023-08", "5.33"),
        ("2024-10", "4.83"), ("2024-11", "4.64"), ("2025-01", "4.33"), ("2025-10", "4.09"),
        ("2025-11", "3.88"), ("2026-01", "3.64"),
    )
)  # fmt: skip
"""Effective federal funds rate by month (approximate monthly averages)."""


def _is_weekday(day: date) -> bool:
    return day.weekday() < 5


def _us_holiday(day: date) -> bool:
    thanksgiving = max(
        d for d in _days(date(day.year, 11, 22), date(day.year, 11, 28)) if d.weekday() == 3
    )
    return (day.month, day.day) in {(1, 1), (7, 4), (12, 25)} or day == thanksgiving


def _build_ecos() -> dict[tuple[str, str, str], Series]:
    days = _days(DATA_START, DATA_END)
    base_daily = tuple(Point(d, d, base_rate_on(d), d) for d in days)
    base_monthly = tuple(Point(s, e, base_rate_on(e), e) for s, e in _months(DATA_START, DATA_END))
    fx = tuple(
        Point(d, d, krw_per_usd(d), d)
        for d in days
        if _is_weekday(d) and (d.month, d.day) != (1, 1)
    )
    cpi = tuple(
        Point(s, e, v, e + timedelta(days=3)) for s, e, v in _index(KR_CPI_YOY, 97.6, "0.01")
    )
    rate_table = "1.3.1. 한국은행 기준금리 및 여수신금리"
    tables = [
        ("722Y001", "D", "0101000", rate_table, "한국은행 기준금리", "연%", base_daily),
        ("722Y001", "M", "0101000", rate_table, "한국은행 기준금리", "연%", base_monthly),
        (
            "731Y001",
            "D",
            "0000001",
            "3.1.1.1. 주요국 통화의 대원화환율",
            "원/미국달러(매매기준율)",
            "원",
            fx,
        ),
        ("901Y009", "M", "0", "4.2.1. 소비자물가지수", "총지수", "2020=100", cpi),
    ]
    return {
        (code, cycle, item): Series(code, name, unit, cycle, points, item_name)
        for code, cycle, item, name, item_name, unit, points in tables
    }


def _build_fred() -> dict[str, Series]:
    days = _days(DATA_START, DATA_END)
    dexkous = tuple(
        Point(
            d, d, None if _us_holiday(d) else krw_per_usd(d) + Decimal("0.4"), d + timedelta(days=1)
        )
        for d in days
        if _is_weekday(d)
    )
    cpi = tuple(
        Point(s, s, v, e + timedelta(days=13)) for s, e, v in _index(US_CPI_YOY, 247.867, "0.001")
    )
    funds = []
    for s, e in _months(DATA_START, DATA_END):
        rate = [r for m, r in US_FED_FUNDS if m <= s][-1]
        funds.append(Point(s, s, Decimal(rate), e + timedelta(days=1)))
    return {
        "DEXKOUS": Series("DEXKOUS", "Korean Won to U.S. Dollar", "Won per USD", "D", dexkous),
        "CPIAUCSL": Series("CPIAUCSL", "CPI, All Urban Consumers", "1982-1984=100", "M", cpi),
        "FEDFUNDS": Series(
            "FEDFUNDS", "Federal Funds Effective Rate", "Percent", "M", tuple(funds)
        ),
    }


@dataclass(frozen=True)
class Release:
    """A FRED release and the rule that dates it."""

    release_id: int
    name: str
    dates: tuple[date, ...]


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    days = [
        d
        for d in _days(date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1]))
        if d.weekday() == weekday
    ]
    return days[n]


def _weekday_on_or_after(day: date, weekday: int | None = None) -> date:
    while (weekday is None and day.weekday() >= 5) or (
        weekday is not None and day.weekday() != weekday
    ):
        day += timedelta(days=1)
    return day


def _build_releases() -> dict[int, Release]:
    months = [(s.year, s.month) for s, _ in _months(DATA_START, CALENDAR_END)]
    fomc = {1, 3, 4, 6, 7, 9, 10, 12}
    retail = "Advance Monthly Sales for Retail and Food Services"
    rules = [
        (9, retail, [_weekday_on_or_after(date(y, m, 15)) for y, m in months]),
        (10, "Consumer Price Index", [_weekday_on_or_after(date(y, m, 10), 2) for y, m in months]),
        (50, "Employment Situation", [_nth_weekday(y, m, 4, 0) for y, m in months]),
        (53, "Gross Domestic Product", [_nth_weekday(y, m, 3, -1) for y, m in months]),
        (54, "Personal Income and Outlays", [_nth_weekday(y, m, 4, -1) for y, m in months]),
        (101, "FOMC Press Release", [_nth_weekday(y, m, 2, -1) for y, m in months if m in fomc]),
    ]
    return {rid: Release(rid, name, tuple(dates)) for rid, name, dates in rules}


ECOS_SERIES = _build_ecos()
"""(STAT_CODE, CYCLE, ITEM_CODE1) -> series."""
FRED_SERIES = _build_fred()
"""FRED series id -> series."""
FRED_RELEASES = _build_releases()
"""FRED release id -> release with its dates."""
