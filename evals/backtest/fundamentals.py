"""Recorded economic data for replays: the `EconSource` of a backtest, point in time.

A backtest cannot ask OpenDART or ECOS what was known on a past day (OpenDART serves the latest
version of a report; ECOS has no release times), so the replay reads recorded files
(`evals.backtest.econ_csv`) and answers through the same `EconSource` protocol as the live
`EconSnapshots`, building the same models under the same rules (`tools.econ.snapshot`):

- a filing is used from the day after `published_on` (filed strictly before the as-of date), and
  only for the fiscal years the live lookup searches (the three before the as-of year); of two
  filings of one fiscal year (an amendment), the later one already filed wins (live OpenDART
  shows only the latest version, so it is stricter still: an amendment hides its year);
- a macro value is used from its `available_on` and only inside the series' live lookback;
  CPI's year-on-year change is computed by the live helper. There is no recorded US release
  calendar: `upcoming_us_releases` is empty and named in `problems`.

Everything is indexed once: per ticker and fiscal year the filings are sorted by publication
date (one bisect per fiscal year tried), per series the values by period (a bisect to the
lookback), so 100 tickers x 1,250 replayed days cost little.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from datetime import date
from pathlib import Path

from evals.backtest.econ_csv import FilingRow, read_filings, read_macro
from tools.econ.snapshot import (
    annual_report_years,
    assemble_macro,
    is_filed_before,
    is_usable,
    lookback_start,
)
from tools.econ.snapshot_models import MACRO_SERIES, FundamentalsSnapshot, MacroSnapshot, Observed

NO_RELEASE_CALENDAR = "no US release calendar in recorded data"
NO_MACRO = "no macro values recorded"


class _ByPublication:
    """One company's reports of one fiscal year, by publication date."""

    __slots__ = ("published", "rows")

    def __init__(self, rows: list[FilingRow]) -> None:
        self.rows = sorted(rows, key=lambda r: r.published_on)
        self.published = [r.published_on for r in self.rows]


class _ByPeriod:
    """One series' values, oldest period first."""

    __slots__ = ("period_ends", "values")

    def __init__(self, values: list[Observed]) -> None:
        self.values = sorted(values, key=lambda v: v.period_start)
        self.period_ends = [v.period_end for v in self.values]


class RecordedEcon:
    """`EconSource` over recorded filings and macro values: what a live session could read."""

    def __init__(
        self,
        filings: Iterable[FilingRow] = (),
        macro: Iterable[Observed] | None = None,
        *,
        source: str = "recorded",
    ) -> None:
        """Index `filings` and `macro` (None: no macro recorded, every series a named gap).

        `source` says where the records came from; a run stores it with its parameters.
        """
        self.source = source
        self._rows = list(filings)
        self._values = list(macro) if macro is not None else None
        grouped: dict[str, dict[int, list[FilingRow]]] = {}
        for row in self._rows:
            grouped.setdefault(row.ticker, {}).setdefault(row.fiscal_year, []).append(row)
        self._filings = {
            ticker: {year: _ByPublication(rows) for year, rows in years.items()}
            for ticker, years in grouped.items()
        }
        self._macro: dict[str, _ByPeriod] | None = None
        if self._values is not None:
            self._macro = {
                name: _ByPeriod([v for v in self._values if v.name == name])
                for name in MACRO_SERIES
            }

    @classmethod
    def from_files(
        cls, filings: Path | str | None = None, macro: Path | str | None = None
    ) -> RecordedEcon:
        """Load the filings CSV and/or the macro CSV.

        Raises:
            EconFileError: a file is missing or malformed (file, line and column named).
        """
        named = [
            f"{kind}:{path}" for kind, path in (("filings", filings), ("macro", macro)) if path
        ]
        return cls(
            read_filings(filings) if filings is not None else (),
            read_macro(macro) if macro is not None else None,
            source=", ".join(named) or "recorded",
        )

    @property
    def tickers(self) -> frozenset[str]:
        """The tickers with at least one recorded filing."""
        return frozenset(self._filings)

    @property
    def has_macro(self) -> bool:
        """Whether macro values were recorded (ETFs are judged on macro alone)."""
        return self._values is not None

    def usable_on(self, day: date) -> RecordedEcon:
        """The records a session on `day` may read, and nothing else.

        That is the reports filed before `day` (`is_filed_before`) and the macro values usable
        on it. A replay's answers on `day` are the same from either; the point-in-time test
        checks it, so a lookup that let a later record through would make the two differ.
        """
        values = self._values
        return RecordedEcon(
            [r for r in self._rows if is_filed_before(r.published_on, day)],
            [v for v in values if v.available_on <= day] if values is not None else None,
            source=f"{self.source} as usable on {day.isoformat()}",
        )

    async def fundamentals(self, ticker: str, as_of: date) -> FundamentalsSnapshot | None:
        """The latest annual report filed before `as_of` (live rules), or None."""
        return self.fundamentals_on(ticker, as_of)

    def fundamentals_on(self, ticker: str, as_of: date) -> FundamentalsSnapshot | None:
        """Synchronous `fundamentals`."""
        years = self._filings.get(ticker)
        if not years:
            return None
        for year in annual_report_years(as_of):
            filings = years.get(year)
            if filings is None:
                continue
            # The reports before index n were filed before as_of (`is_filed_before`).
            n = bisect.bisect_left(filings.published, as_of)
            if n:
                return filings.rows[n - 1].snapshot(as_of)
        return None

    async def macro(self, as_of: date, *, horizon_days: int = 7) -> MacroSnapshot:
        """Base rate, KRW/USD and CPI usable on `as_of` (live rules); no US release calendar."""
        return self.macro_on(as_of, horizon_days=horizon_days)

    def macro_on(self, as_of: date, *, horizon_days: int = 7) -> MacroSnapshot:
        """Synchronous `macro`."""
        problems = {"upcoming_us_releases": NO_RELEASE_CALENDAR}
        usable: dict[str, list[Observed] | None] = {}
        for name, series in MACRO_SERIES.items():
            if self._macro is None:
                problems[name] = NO_MACRO
                usable[name] = None
                continue
            recorded = self._macro[name]
            lo = bisect.bisect_left(recorded.period_ends, lookback_start(series, as_of))
            hi = bisect.bisect_right(recorded.period_ends, as_of)
            usable[name] = [v for v in recorded.values[lo:hi] if is_usable(v, series, as_of)]
        return assemble_macro(
            as_of,
            horizon_days=horizon_days,
            base_rate=usable["base_rate"],
            krw_usd=usable["krw_usd"],
            cpi=usable["cpi"],
            releases=None,
            problems=problems,
        )
