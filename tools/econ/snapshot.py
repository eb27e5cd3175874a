"""As-of-date views over the economic-data clients, safe for backtests.

`MacroSnapshot` (ECOS + FRED) and `FundamentalsSnapshot` (OpenDART) say what was *public* at the
start of the as-of date: every value carries the period it describes and the date it became
usable, and nothing usable only later is returned. ECOS does not publish release times, so the
usable date is the period's end plus a conservative lag per series (`MacroSeries.lag_days`):
daily values from the next day, monthly CPI from the 7th of the following month (Statistics
Korea publishes it in the first days of the month). OpenDART filings carry their date in
`rcept_no`; a report filed on or after the as-of date is ignored.

The rules (`lookback_start`, `observed`, `is_usable`, `annual_report_years`, `is_filed_before`)
and the assembly of a snapshot (`assemble_macro`) are public so that a recorded source
(`evals.backtest.fundamentals.RecordedEcon`) builds the same models under the same rules.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from datetime import date, timedelta
from decimal import Decimal
from typing import TypeVar

from core.errors import RejectedError, TemporaryError
from tools.econ.dart import DartClient
from tools.econ.dart_models import CorpCodeDirectory, DartAccount, FsDiv, ReportCode
from tools.econ.ecos import EcosClient
from tools.econ.ecos_models import EcosObservation, period_bounds
from tools.econ.errors import EconResponseError
from tools.econ.fred import FredClient, SortOrder
from tools.econ.snapshot_models import (
    ACCOUNT_NAMES,
    ANNUAL_REPORT_YEARS_BACK,
    BASE_RATE,
    KR_CPI,
    KRW_USD,
    FundamentalsSnapshot,
    MacroSeries,
    MacroSnapshot,
    Observed,
    UpcomingRelease,
)

T = TypeVar("T")


def lookback_start(series: MacroSeries, as_of: date) -> date:
    """The first day whose period `series` reads on `as_of` (older values are not looked at)."""
    return as_of - timedelta(days=series.lookback_days)


def observed(
    series: MacroSeries,
    *,
    period: str,
    value: Decimal,
    unit: str | None,
    source: str | None = None,
    available_on: date | None = None,
) -> Observed:
    """A value of `series` for an ECOS `period`, usable from `available_on`.

    `available_on` defaults to the period's end plus the series' lag; a later date may be
    given (a known, later release), an earlier one may not: nothing is usable before the
    live rule allows.

    Raises:
        ValueError: `period` is not an ECOS period, or `available_on` is too early.
    """
    start, end = period_bounds(period)
    try:
        earliest = end + timedelta(days=series.lag_days)
    except OverflowError:
        raise ValueError(f"period {period} is too late for the calendar") from None
    if available_on is not None and available_on < earliest:
        raise ValueError(
            f"available_on {available_on} is before {earliest}, the first day a {series.name} "
            f"value for {period} is usable (period end + {series.lag_days} days)"
        )
    return Observed(
        name=series.name,
        source=source or series.source,
        value=value,
        unit=unit,
        period=period,
        period_start=start,
        period_end=end,
        available_on=available_on or earliest,
    )


def is_usable(value: Observed, series: MacroSeries, as_of: date) -> bool:
    """Whether `value` is public at the start of `as_of` and inside the series' lookback."""
    return value.available_on <= as_of and value.period_end >= lookback_start(series, as_of)


def _observed(series: MacroSeries, row: EcosObservation) -> Observed | None:
    if row.value is None:
        return None
    try:
        return observed(series, period=row.time, value=row.value, unit=row.unit_name)
    except ValueError as exc:
        raise EconResponseError("ECOS", "malformed", f"{series.name}: {exc}") from None


async def public_series(ecos: EcosClient, series: MacroSeries, as_of: date) -> list[Observed]:
    """Return the values of `series` usable on `as_of`, oldest first."""
    rows = await ecos.statistic_search(
        series.stat_code, series.cycle, lookback_start(series, as_of), as_of, [series.item_code]
    )
    values = [_observed(series, row) for row in rows]
    return [v for v in values if v is not None and is_usable(v, series, as_of)]


def year_on_year_pct(values: list[Observed]) -> Decimal | None:
    """Return the % change of the last value over the value 12 months before it."""
    if not values:
        return None
    last = values[-1]
    start = last.period_start
    target = start.replace(year=start.year - 1)
    base = next((v for v in values if v.period_start == target), None)
    if base is None or base.value == 0:
        return None
    return ((last.value / base.value - 1) * 100).quantize(Decimal("0.01"))


async def _guard(name: str, work: Awaitable[T], problems: dict[str, str]) -> T | None:
    """Run one piece; a temporary or rejected failure becomes a named gap, others propagate."""
    try:
        return await work
    except (TemporaryError, RejectedError) as exc:
        problems[name] = str(exc)
        return None


async def macro_snapshot(
    ecos: EcosClient, fred: FredClient, as_of: date, *, horizon_days: int = 7
) -> MacroSnapshot:
    """Build the macro snapshot for `as_of` (pieces are fetched concurrently)."""
    problems: dict[str, str] = {}
    base, fx, cpi, releases = await asyncio.gather(
        _guard("base_rate", public_series(ecos, BASE_RATE, as_of), problems),
        _guard("krw_usd", public_series(ecos, KRW_USD, as_of), problems),
        _guard("cpi", public_series(ecos, KR_CPI, as_of), problems),
        _guard(
            "upcoming_us_releases",
            fred.releases_dates(
                start=as_of,
                end=as_of + timedelta(days=horizon_days),
                include_no_data=True,
                sort_order=SortOrder.ASC,
            ),
            problems,
        ),
    )
    upcoming = [
        UpcomingRelease(release_id=r.release_id, name=r.release_name or "", date=r.date)
        for r in releases or []
    ]
    return assemble_macro(
        as_of,
        horizon_days=horizon_days,
        base_rate=base,
        krw_usd=fx,
        cpi=cpi,
        releases=upcoming,
        problems=problems,
    )


def assemble_macro(
    as_of: date,
    *,
    horizon_days: int,
    base_rate: list[Observed] | None,
    krw_usd: list[Observed] | None,
    cpi: list[Observed] | None,
    releases: list[UpcomingRelease] | None,
    problems: dict[str, str],
) -> MacroSnapshot:
    """Build the snapshot from each series' usable values (oldest first; None = failed).

    A series with no usable value and no recorded problem is named in `problems`; CPI's
    year-on-year change is computed here, once for every source.
    """
    problems = dict(problems)
    for name, values in (("base_rate", base_rate), ("krw_usd", krw_usd), ("cpi", cpi)):
        if values == [] and name not in problems:
            problems[name] = "no value public on this date"
    upcoming = sorted(set(releases or []), key=lambda r: (r.date, r.name))
    return MacroSnapshot(
        as_of=as_of,
        base_rate=base_rate[-1] if base_rate else None,
        krw_usd=krw_usd[-1] if krw_usd else None,
        cpi=cpi[-1] if cpi else None,
        cpi_yoy_pct=year_on_year_pct(cpi or []),
        upcoming_us_releases=upcoming,
        horizon_days=horizon_days,
        problems=problems,
    )


def _pick_basis(rows: list[DartAccount]) -> tuple[FsDiv, list[DartAccount]]:
    consolidated = [r for r in rows if r.fs_div is FsDiv.CONSOLIDATED]
    if consolidated:
        return FsDiv.CONSOLIDATED, consolidated
    return FsDiv.SEPARATE, [r for r in rows if r.fs_div is FsDiv.SEPARATE]


def annual_report_years(as_of: date, years_back: int = ANNUAL_REPORT_YEARS_BACK) -> range:
    """The fiscal years whose annual report may describe a company on `as_of`, newest first."""
    return range(as_of.year - 1, as_of.year - 1 - years_back, -1)


def is_filed_before(published_on: date, as_of: date) -> bool:
    """A filing is public at the start of `as_of` only when filed on an earlier day."""
    return published_on < as_of


async def fundamentals_snapshot(
    dart: DartClient, corp_code: str, as_of: date, *, years_back: int = ANNUAL_REPORT_YEARS_BACK
) -> FundamentalsSnapshot | None:
    """Return the key accounts of the latest annual report filed before `as_of`, or None.

    Looks at fiscal years ``as_of.year - 1`` back to ``as_of.year - years_back``. OpenDART
    serves the latest version of a report, so an amendment filed after `as_of` hides that year
    and an older report is used instead (conservative, never lookahead).
    """
    for year in annual_report_years(as_of, years_back):
        rows = await dart.single_accounts(corp_code, year, ReportCode.ANNUAL)
        if not rows or not is_filed_before(rows[0].receipt_date, as_of):
            continue
        fs_div, basis = _pick_basis(rows)
        amounts = {
            field: next((r.thstrm_amount for r in basis if r.account_nm in names), None)
            for field, names in ACCOUNT_NAMES.items()
        }
        return FundamentalsSnapshot(
            corp_code=corp_code,
            stock_code=basis[0].stock_code,
            as_of=as_of,
            fiscal_year=year,
            report_code=ReportCode.ANNUAL,
            fs_div=fs_div,
            receipt_no=basis[0].rcept_no,
            published_on=basis[0].receipt_date,
            currency=basis[0].currency,
            **amounts,
        )
    return None


class EconSnapshots:
    """The three clients behind one object, for the fundamental agent's runtime context."""

    def __init__(self, ecos: EcosClient, fred: FredClient, dart: DartClient) -> None:
        """Hold the clients (their owner closes them)."""
        self.ecos, self.fred, self.dart = ecos, fred, dart
        self._directory: CorpCodeDirectory | None = None

    async def macro(self, as_of: date, *, horizon_days: int = 7) -> MacroSnapshot:
        """See `macro_snapshot`."""
        return await macro_snapshot(self.ecos, self.fred, as_of, horizon_days=horizon_days)

    async def corp_code(self, ticker: str) -> str | None:
        """Map a 6-digit ticker to its corp_code (corpCode.xml is downloaded once)."""
        if self._directory is None:
            self._directory = await self.dart.corp_codes()
        return self._directory.corp_code_for(ticker)

    async def fundamentals(self, ticker: str, as_of: date) -> FundamentalsSnapshot | None:
        """See `fundamentals_snapshot`; None when the ticker or a filed report is unknown."""
        corp_code = await self.corp_code(ticker)
        if corp_code is None:
            return None
        return await fundamentals_snapshot(self.dart, corp_code, as_of)
