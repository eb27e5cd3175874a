"""The as-of-date views' models: which macro series we read, and what a snapshot holds.

Kept apart from the rules that fill them (`tools.econ.snapshot`) so that readers of a snapshot
(the fundamental agent, the recorded backtest source) need only the shapes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from pydantic import BaseModel, ConfigDict

from tools.econ.dart_models import FsDiv, ReportCode
from tools.econ.ecos_models import EcosCycle


@dataclass(frozen=True)
class MacroSeries:
    """An ECOS series the snapshot reads, and how late its values become usable."""

    name: str
    stat_code: str
    cycle: EcosCycle
    item_code: str
    lag_days: int
    lookback_days: int

    @property
    def source(self) -> str:
        """Where the values come from, e.g. ``ECOS 722Y001/0101000``."""
        return f"ECOS {self.stat_code}/{self.item_code}"


BASE_RATE = MacroSeries("base_rate", "722Y001", EcosCycle.DAILY, "0101000", 1, 45)
KRW_USD = MacroSeries("krw_usd", "731Y001", EcosCycle.DAILY, "0000001", 1, 21)
KR_CPI = MacroSeries("cpi", "901Y009", EcosCycle.MONTHLY, "0", 7, 800)
MACRO_SERIES: dict[str, MacroSeries] = {s.name: s for s in (BASE_RATE, KRW_USD, KR_CPI)}
"""The series of a `MacroSnapshot`, by name."""

ANNUAL_REPORT_YEARS_BACK = 3
"""Fiscal years (before the as-of year) searched for the latest annual report."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class Observed(_Frozen):
    """A value, the period it describes, and the first date it could be used."""

    name: str
    source: str
    """Where it comes from, e.g. ``ECOS 722Y001/0101000``."""
    value: Decimal
    unit: str | None
    period: str
    """The period as the source writes it (``20250529``, ``202504``)."""
    period_start: date
    period_end: date
    available_on: date


class UpcomingRelease(_Frozen):
    """A scheduled US data release (FRED calendar; the sources' dates, not FRED's)."""

    release_id: int
    name: str
    date: date


class MacroSnapshot(_Frozen):
    """Korean macro state and the US release calendar, as known at the start of `as_of`.

    A piece that could not be read is None and named in `problems` with the reason (an
    explicit gap, never a made-up value).
    """

    as_of: date
    base_rate: Observed | None
    krw_usd: Observed | None
    cpi: Observed | None
    cpi_yoy_pct: Decimal | None
    """CPI change over 12 months, % (None when the year-earlier value is missing)."""
    upcoming_us_releases: list[UpcomingRelease]
    """Releases dated from `as_of` to `as_of + horizon_days`, inclusive."""
    horizon_days: int
    problems: dict[str, str]


class FundamentalsSnapshot(_Frozen):
    """Key accounts of the latest annual report filed before `as_of` (whole KRW)."""

    corp_code: str
    stock_code: str | None
    as_of: date
    fiscal_year: int
    report_code: ReportCode
    fs_div: FsDiv
    """CFS when the company files consolidated statements, else OFS."""
    receipt_no: str
    published_on: date
    currency: str
    revenue: int | None
    operating_income: int | None
    net_income: int | None
    total_assets: int | None
    total_liabilities: int | None
    total_equity: int | None


ACCOUNT_NAMES: dict[str, tuple[str, ...]] = {
    "revenue": ("매출액", "수익(매출액)", "영업수익"),
    "operating_income": ("영업이익", "영업이익(손실)"),
    "net_income": ("당기순이익", "당기순이익(손실)"),
    "total_assets": ("자산총계",),
    "total_liabilities": ("부채총계",),
    "total_equity": ("자본총계",),
}
"""fnlttSinglAcnt `account_nm` spellings of each key account."""
