"""Scenarios from real history: the KRX daily bars of `../shared/market-data`.

Each scenario is one date on which the session judges every ticker of `HISTORY_TICKERS` with
the `LOOKBACK_BARS` bars known that day; the outcome is each ticker's close-to-close return
over the next `HORIZON` trading days, read from the bars after the date (which the target
never sees). The dates are the first trading day of every quarter from 2019 to 2023 — after
the files' early holes and Samsung's 2018 split, and before their end (2023-12-22).
No filings or macro values are recorded for these dates, so the fundamental analyst reports
`data_failed` for the companies and judges the ETF on no macro at all: the market analyst's
vote decides, as in a backtest without `--fundamentals`.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np

from evals.agents_eval.scenarios import Dataset, Expect, Scenario
from evals.backtest.data import Bars, CsvBarSource
from evals.backtest.files import BarDataError
from tools.krx.rules import Market

VERSION = "history-1"
HISTORY_TICKERS: dict[str, Market] = {
    "005930": Market.KOSPI,
    "000660": Market.KOSPI,
    "035420": Market.KOSPI,
    "069500": Market.ETF,
}
HORIZON = 5
"""Trading days over which a decision's outcome is measured."""
LOOKBACK_BARS = 130
"""Bars of history a scenario gives (the indicators need 60 and their warm-up)."""


def quarter_starts(first_year: int = 2019, last_year: int = 2023) -> list[date]:
    """The first calendar day of every quarter (the scenario is the next trading day)."""
    return [date(y, m, 1) for y in range(first_year, last_year + 1) for m in (1, 4, 7, 10)]


def history_dataset(folder: Path, days: list[date] | None = None) -> Dataset:
    """Build the real-history dataset from the market-data folder.

    Raises:
        BarDataError: the folder or a ticker's file is missing or unreadable.
    """
    source = CsvBarSource(folder)
    wanted = days or quarter_starts()
    first = min(wanted) - timedelta(days=LOOKBACK_BARS * 2)
    last = max(wanted) + timedelta(days=HORIZON * 3 + 14)
    full = {t: source.daily_bars(t, first, last) for t in HISTORY_TICKERS}
    scenarios = []
    for day in wanted:
        scenario = _scenario(full, day)
        if scenario is not None:
            scenarios.append(scenario)
    if not scenarios:
        raise BarDataError(f"no scenario date has {HORIZON} later bars in {folder}")
    return Dataset(
        name="history",
        version=VERSION,
        description=(
            f"{len(scenarios)} quarter-start dates 2019-2023, {len(HISTORY_TICKERS)} tickers, "
            f"outcome over {HORIZON} trading days"
        ),
        scenarios=tuple(scenarios),
    )


def _scenario(full: dict[str, Bars], day: date) -> Scenario | None:
    """The scenario of the first trading day on or after `day` (None past the data's end)."""
    reference = full["005930"]
    at = int(np.searchsorted(reference.dates, np.datetime64(day, "D")))
    if at + HORIZON >= len(reference):
        return None
    as_of: date = reference.dates[at].item()
    bars: list[Bars] = []
    returns: dict[str, float | None] = {}
    for ticker, series in full.items():
        known = series.between(None, as_of)
        cut = len(known)
        if cut:
            start: date = known.dates[max(cut - LOOKBACK_BARS, 0)].item()
            known = series.between(start, as_of)
        bars.append(known)
        later = series.close[cut : cut + HORIZON]
        if cut == 0 or len(later) < HORIZON:
            returns[ticker] = None
        else:
            returns[ticker] = float(later[-1] / known.close[-1] - 1)
    return Scenario(
        id=f"history-{as_of.isoformat()}",
        kind="history",
        description=f"the first trading day of {as_of:%Y}Q{(as_of.month - 1) // 3 + 1}",
        as_of=as_of,
        bars=tuple(bars),
        returns=returns,
        horizon=HORIZON,
        markets=HISTORY_TICKERS,
        expect={t: Expect.JUDGED for t in HISTORY_TICKERS},
    )
