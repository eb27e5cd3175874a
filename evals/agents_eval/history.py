"""Scenarios from real history: the KRX daily bars of `../shared/market-data`, or the database.

Each scenario is one date on which the session judges every ticker of `HISTORY_TICKERS` with
the `LOOKBACK_BARS` bars known that day; the outcome is each ticker's close-to-close return
over the next `HORIZON` trading days, read from the bars after the date (which the target
never sees). The dates are the first trading day of every quarter from 2019 to 2023 — after
the files' early holes and Samsung's 2018 split, and before their end (2023-12-22).
No filings or macro values are recorded for these dates, so the fundamental analyst reports
`data_failed` for the companies and judges the ETF on no macro at all: the market analyst's
vote decides, as in a backtest without `--fundamentals`.

The same scenarios can be built from the `market_data` table (`trader data collect`, read by
`evals.backtest.data.DatabaseBarSource`, the prices live sessions read): then the dates are the
quarter starts the stored bars cover with `LOOKBACK_BARS` before and `HORIZON` after, and the
version says so (`history-1+db`), since the dates follow what is stored.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np

from evals.agents_eval.scenarios import Dataset, Expect, Scenario
from evals.backtest.data import Bars, CsvBarSource, DailyBarSource
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
STORED = (date(2000, 1, 1), date(2999, 12, 31))
"""The window of a read of everything stored."""


def quarter_starts(first_year: int = 2019, last_year: int = 2023) -> list[date]:
    """The first calendar day of every quarter (the scenario is the next trading day)."""
    return [date(y, m, 1) for y in range(first_year, last_year + 1) for m in (1, 4, 7, 10)]


def history_dataset(bars: Path | DailyBarSource, days: list[date] | None = None) -> Dataset:
    """Build the real-history dataset from the market-data folder, or from the database.

    `bars`: the folder, or the database's bars (`evals.backtest.data.DatabaseBarSource`).

    Raises:
        BarDataError: the folder or a ticker's file is missing or unreadable; the source holds
            no bars of a ticker, or too few for one scenario.
    """
    from_folder = isinstance(bars, Path)
    source: DailyBarSource = CsvBarSource(bars) if isinstance(bars, Path) else bars
    if days is not None or from_folder:
        wanted = days or quarter_starts()
        first = min(wanted) - timedelta(days=LOOKBACK_BARS * 2)
        last = max(wanted) + timedelta(days=HORIZON * 3 + 14)
        full = {t: source.daily_bars(t, first, last) for t in HISTORY_TICKERS}
    else:
        full = _stored(source)
        wanted = _covered_quarter_starts(full)
    scenarios = []
    for day in wanted:
        scenario = _scenario(full, day)
        if scenario is not None:
            scenarios.append(scenario)
    where = bars if from_folder else "the database"
    if not scenarios:
        raise BarDataError(
            f"no scenario date has {LOOKBACK_BARS} earlier and {HORIZON} later bars in {where}"
        )
    span = f"{scenarios[0].as_of:%Y}-{scenarios[-1].as_of:%Y}"
    return Dataset(
        name="history",
        version=VERSION if from_folder else f"{VERSION}+db",
        description=(
            f"{len(scenarios)} quarter-start dates {span}, {len(HISTORY_TICKERS)} tickers, "
            f"outcome over {HORIZON} trading days"
            + ("" if from_folder else ", from the database's market_data")
        ),
        scenarios=tuple(scenarios),
    )


def _stored(source: DailyBarSource) -> dict[str, Bars]:
    """Every stored bar of the tickers, or an error saying what to collect."""
    full: dict[str, Bars] = {}
    for ticker in HISTORY_TICKERS:
        try:
            full[ticker] = source.daily_bars(ticker, *STORED)
        except BarDataError as exc:
            names = ",".join(HISTORY_TICKERS)
            raise BarDataError(
                f"the database has no daily bars of {ticker}; the history scenarios need "
                f"{names} ({LOOKBACK_BARS + HORIZON} sessions or more each): run "
                f"`trader data collect --tickers {names} --since` a date a year back or earlier"
            ) from exc
    return full


def _covered_quarter_starts(full: dict[str, Bars]) -> list[date]:
    """The quarter starts whose scenario has every ticker's lookback and outcome stored."""
    first = max(
        series.dates[min(LOOKBACK_BARS, len(series) - 1)].item() for series in full.values()
    )
    last = min(series.dates[max(len(series) - 1 - HORIZON, 0)].item() for series in full.values())
    return [d for d in quarter_starts(first.year, last.year) if first <= d <= last]


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
