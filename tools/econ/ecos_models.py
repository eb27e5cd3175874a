"""Typed rows of the Bank of Korea ECOS Open API (StatisticSearch, KeyStatisticList).

ECOS sends every value as a string. `TIME` is the period in the cycle's own format (``2023``,
``2023S1``, ``2023Q1``, ``202301``, ``202301S1``, ``20230101``); we keep it as `time` and add the
calendar bounds of that period, so callers can compare periods with dates (and avoid lookahead).
"""

from __future__ import annotations

import calendar
import re
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from tools.econ.wire_values import parse_decimal


class EcosCycle(StrEnum):
    """ECOS cycles (주기): annual, semi-annual, quarterly, monthly, semi-monthly, daily."""

    ANNUAL = "A"
    SEMIANNUAL = "S"
    QUARTERLY = "Q"
    MONTHLY = "M"
    SEMIMONTHLY = "SM"
    DAILY = "D"


_TIME = re.compile(
    r"^(?P<y>\d{4})(?:(?P<half>S[12])|Q(?P<q>[1-4])|(?P<m>\d{2})(?:(?P<sm>S[12])|(?P<d>\d{2}))?)?$"
)


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def period_bounds(time: str) -> tuple[date, date]:
    """Return the first and last calendar day of an ECOS `TIME` value.

    Raises:
        ValueError: `time` is not one of the ECOS period formats.
    """
    match = _TIME.match(time.strip())
    if match is None:
        raise ValueError(f"not an ECOS period: {time!r}")
    year = int(match["y"])
    if match["half"]:
        first = 1 if match["half"] == "S1" else 7
        return date(year, first, 1), _month_end(year, first + 5)
    if match["q"]:
        first = 3 * int(match["q"]) - 2
        return date(year, first, 1), _month_end(year, first + 2)
    if match["m"]:
        month = int(match["m"])
        if match["d"]:
            day = date(year, month, int(match["d"]))
            return day, day
        if match["sm"] == "S1":
            return date(year, month, 1), date(year, month, 15)
        if match["sm"] == "S2":
            return date(year, month, 16), _month_end(year, month)
        return date(year, month, 1), _month_end(year, month)
    return date(year, 1, 1), date(year, 12, 31)


def format_period(cycle: EcosCycle, day: date) -> str:
    """Write the period of `cycle` that contains `day` in ECOS's format (search START/END)."""
    if cycle is EcosCycle.ANNUAL:
        return f"{day.year}"
    if cycle is EcosCycle.SEMIANNUAL:
        return f"{day.year}S{1 if day.month <= 6 else 2}"
    if cycle is EcosCycle.QUARTERLY:
        return f"{day.year}Q{(day.month - 1) // 3 + 1}"
    if cycle is EcosCycle.MONTHLY:
        return f"{day.year}{day.month:02d}"
    if cycle is EcosCycle.SEMIMONTHLY:
        return f"{day.year}{day.month:02d}S{1 if day.day <= 15 else 2}"
    return day.strftime("%Y%m%d")


class _EcosRow(BaseModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="ignore")

    @field_validator("value", "weight", mode="before", check_fields=False)
    @classmethod
    def _decimal(cls, raw: object) -> Decimal | None:
        return parse_decimal(raw)


class EcosObservation(_EcosRow):
    """One StatisticSearch row: a value of one item of one statistic table for one period."""

    stat_code: str = Field(alias="STAT_CODE")
    stat_name: str = Field(alias="STAT_NAME")
    item_code1: str | None = Field(default=None, alias="ITEM_CODE1")
    item_name1: str | None = Field(default=None, alias="ITEM_NAME1")
    item_code2: str | None = Field(default=None, alias="ITEM_CODE2")
    item_name2: str | None = Field(default=None, alias="ITEM_NAME2")
    item_code3: str | None = Field(default=None, alias="ITEM_CODE3")
    item_name3: str | None = Field(default=None, alias="ITEM_NAME3")
    item_code4: str | None = Field(default=None, alias="ITEM_CODE4")
    item_name4: str | None = Field(default=None, alias="ITEM_NAME4")
    unit_name: str | None = Field(default=None, alias="UNIT_NAME")
    weight: Decimal | None = Field(default=None, alias="WGT")
    time: str = Field(alias="TIME")
    """The period as ECOS writes it (``20230101``, ``202301``, ``2023Q1`` ...)."""
    period_start: date
    period_end: date
    value: Decimal | None = Field(alias="DATA_VALUE")
    """None when ECOS has no value for the period (blank or ``-``)."""

    @model_validator(mode="before")
    @classmethod
    def _period(cls, data: Any) -> Any:
        if isinstance(data, dict) and "period_start" not in data:
            time = data.get("TIME", data.get("time"))
            if isinstance(time, str):
                start, end = period_bounds(time)
                data = {**data, "period_start": start, "period_end": end}
        return data


class KeyStatistic(_EcosRow):
    """One KeyStatisticList row (100대 통계지표): latest value of a headline indicator."""

    class_name: str = Field(alias="CLASS_NAME")
    name: str = Field(alias="KEYSTAT_NAME")
    value: Decimal | None = Field(alias="DATA_VALUE")
    cycle: str = Field(alias="CYCLE")
    """The reference period of the value, e.g. ``20260528`` or ``202604`` (ECOS calls it CYCLE)."""
    unit_name: str | None = Field(default=None, alias="UNIT_NAME")

    @property
    def reference_period(self) -> tuple[date, date] | None:
        """Calendar bounds of `cycle`, or None when ECOS wrote it in an unknown format."""
        try:
            return period_bounds(self.cycle)
        except ValueError:
            return None
