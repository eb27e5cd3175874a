"""The point-in-time view: what a strategy may see on day t, and nothing later.

`MarketData` aligns every ticker's bars to one calendar (the union of their dates) once, at
load time. `PointInTimeView` for day t then only hands out slices `[:n]` of the read-only
arrays, where n counts the ticker's bars dated on or before t: no copies, no DataFrames, and no
way to reach a later bar. Published facts (fundamentals, economic releases) are visible from
their publication date on, not from the period they describe.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import numpy as np

from evals.backtest.data import Bars, DateArray, FloatArray, IntArray


@dataclass(frozen=True, slots=True)
class PublishedFact:
    """A number that became public on a date, e.g. a quarterly EPS or a CPI print."""

    ticker: str
    name: str
    value: Decimal
    period_end: date
    """The period the number describes (known only after `published_on`)."""
    published_on: date


class MarketData:
    """All tickers of a run on one calendar, with per-day bar counts precomputed."""

    def __init__(self, bars: Sequence[Bars], facts: Sequence[PublishedFact] = ()) -> None:
        """Align `bars` (one per ticker) and index `facts` by ticker and publication date."""
        if not bars:
            raise ValueError("a backtest needs at least one ticker")
        self.bars: dict[str, Bars] = {}
        for b in bars:
            if b.ticker in self.bars:
                raise ValueError(f"ticker {b.ticker} given twice")
            self.bars[b.ticker] = b
        self.tickers: tuple[str, ...] = tuple(self.bars)
        calendar: DateArray = np.unique(np.concatenate([b.dates for b in bars]))
        self.calendar = calendar
        self.days: list[date] = [d.item() for d in calendar]
        # counts[ticker][t]: bars of the ticker dated <= calendar[t] (the slice end for day t).
        self.counts: dict[str, list[int]] = {}
        # rows[ticker][t]: the row of the ticker's bar dated calendar[t], or -1 if it has none.
        self.rows: dict[str, list[int]] = {}
        for ticker, b in self.bars.items():
            counts = np.searchsorted(b.dates, calendar, side="right")
            self.counts[ticker] = counts.tolist()
            present = np.zeros(len(calendar), dtype=bool)
            present[np.searchsorted(calendar, b.dates)] = True
            self.rows[ticker] = np.where(present, counts - 1, -1).tolist()
        self._facts: dict[str, list[PublishedFact]] = {}
        for fact in sorted(facts, key=lambda f: f.published_on):
            self._facts.setdefault(fact.ticker, []).append(fact)
        self._fact_days = {t: [f.published_on for f in fs] for t, fs in self._facts.items()}

    def __len__(self) -> int:
        return len(self.days)

    def view(self, t: int) -> PointInTimeView:
        """Return what is known after day t's close."""
        return PointInTimeView(self, t)

    def facts_known(self, ticker: str, day: date) -> tuple[PublishedFact, ...]:
        """Return the facts about `ticker` published on or before `day`, oldest first."""
        days = self._fact_days.get(ticker)
        if not days:
            return ()
        return tuple(self._facts[ticker][: bisect.bisect_right(days, day)])


class History:
    """One ticker's bars up to and including day t; every attribute is a read-only slice."""

    __slots__ = ("_bars", "_n", "ticker")

    def __init__(self, bars: Bars, n: int) -> None:
        """Expose the first `n` bars of `bars`."""
        self._bars = bars
        self._n = n
        self.ticker = bars.ticker

    def __len__(self) -> int:
        return self._n

    @property
    def dates(self) -> DateArray:
        """Bar dates (`datetime64[D]`)."""
        return self._bars.dates[: self._n]

    @property
    def open(self) -> FloatArray:
        """Opens."""
        return self._bars.open[: self._n]

    @property
    def high(self) -> FloatArray:
        """Highs."""
        return self._bars.high[: self._n]

    @property
    def low(self) -> FloatArray:
        """Lows."""
        return self._bars.low[: self._n]

    @property
    def close(self) -> FloatArray:
        """Closes."""
        return self._bars.close[: self._n]

    @property
    def volume(self) -> IntArray:
        """Volumes."""
        return self._bars.volume[: self._n]


class PointInTimeView:
    """The market as known after day t's close: bars dated <= t and facts published <= t."""

    __slots__ = ("_data", "date", "t")

    def __init__(self, data: MarketData, t: int) -> None:
        """View `data` as of calendar index `t`."""
        self._data = data
        self.t = t
        self.date: date = data.days[t]

    @property
    def tickers(self) -> tuple[str, ...]:
        """Every ticker of the run (some may have no bars yet)."""
        return self._data.tickers

    def history(self, ticker: str) -> History:
        """Return the ticker's bars up to today (possibly empty before its first bar)."""
        return History(self._data.bars[ticker], self._data.counts[ticker][self.t])

    def traded_today(self, ticker: str) -> bool:
        """Tell whether the ticker has a bar dated today."""
        return self._data.rows[ticker][self.t] >= 0

    def last_close(self, ticker: str) -> float | None:
        """Return the latest close known today, or None before the first bar."""
        n = self._data.counts[ticker][self.t]
        return float(self._data.bars[ticker].close[n - 1]) if n else None

    def facts(self, ticker: str) -> tuple[PublishedFact, ...]:
        """Return the facts about `ticker` published on or before today."""
        return self._data.facts_known(ticker, self.date)
