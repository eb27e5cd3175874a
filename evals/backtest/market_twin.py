"""The market a replayed day's session sees: quotes, bars and indicators up to that day's close.

`PointInTimeMarket` is the `MarketData` (and `PrecomputedIndicators`) of the decision graph in a
backtest: quotes at t's close (last = close of t, prev_close = close of t-1), daily bars ending
at t, no news, and the indicators of day t read from rows computed once per ticker
(`evals.backtest.indicator_rows`; indicators are causal, see
`tools.market_data.PrecomputedIndicators`). Nothing after the replayed day is reachable.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import numpy as np

from core.errors import ConfigurationError, OperationalError
from evals.backtest.indicator_rows import indicator_rows
from evals.backtest.view import MarketData as BarData
from evals.backtest.view import PointInTimeView
from tools.indicators import COLUMNS, MIN_BARS, IndicatorSnapshot
from tools.krx.rules import Market
from tools.market_data import Bar, MarketQuote, QuoteAnswer, quote_each


class NoPriceError(OperationalError):
    """A bar has no usable price (missing, zero or not a number); the ticker is not quoted."""


def _krw(value: float, what: str) -> int:
    if not math.isfinite(value) or value < 1:
        raise NoPriceError(f"{what} is {value!r}, not a price")
    return round(value)


class PointInTimeMarket:
    """`MarketData` (and `PrecomputedIndicators`) over the backtest's view of one day.

    `at(view)` moves it to a day; nothing after that day is reachable through it: bars and
    quotes come from the view's slices, and indicator rows are read at the view's bar count.
    """

    def __init__(self, data: BarData, markets: Mapping[str, Market] | None = None) -> None:
        """Serve `data`; `markets` gives each ticker's listing market (default KOSPI)."""
        self._data = data
        self._markets = dict(markets or {})
        self._view: PointInTimeView | None = None
        self._frames: dict[str, np.ndarray[Any, np.dtype[np.float64]]] = {}
        self._days: set[date] = set(data.days)

    @property
    def view(self) -> PointInTimeView:
        """The day being replayed."""
        if self._view is None:
            raise ConfigurationError("the point-in-time market has not been moved to a day")
        return self._view

    def at(self, view: PointInTimeView) -> None:
        """Move to the day of `view` (which must come from the same data)."""
        if view.t >= len(self._data) or self._data.days[view.t] != view.date:
            raise ConfigurationError("the view does not belong to this backtest's data")
        self._view = view

    def is_trading_day(self, day: date) -> bool:
        """A day is a trading day when the replayed data has bars on it (up to today)."""
        return day <= self.view.date and day in self._days

    async def quote(self, ticker: str) -> MarketQuote:
        """Today's close as the last price, yesterday's close as the limit base."""
        view = self.view
        if ticker not in self._data.bars:
            raise NoPriceError(f"{ticker} is not in the backtest's data")
        history = view.history(ticker)
        n = len(history)
        if n == 0:
            raise NoPriceError(f"{ticker} has no bar yet")
        closes = history.close
        last = _krw(float(closes[n - 1]), f"{ticker} close")
        prev = _krw(float(closes[n - 2]), f"{ticker} previous close") if n > 1 else last
        halted = not view.traded_today(ticker) or int(history.volume[n - 1]) <= 0
        return MarketQuote(
            ticker=ticker,
            last_price_krw=last,
            prev_close_krw=prev,
            market=self._markets.get(ticker, Market.KOSPI),
            halted=halted,
        )

    async def quotes(self, tickers: Sequence[str]) -> dict[str, QuoteAnswer]:
        """Each ticker's `quote` (history costs no call, so there is nothing to batch)."""
        return await quote_each(self, tickers)

    async def daily_bars(self, ticker: str, end: date, count: int) -> list[Bar]:
        """Up to `count` bars ending at `end`, never past today."""
        history = self.view.history(ticker)
        n = int(np.searchsorted(history.dates, np.datetime64(end, "D"), side="right"))
        lo = max(n - count, 0)
        return [
            Bar(
                day=history.dates[i].item(),
                open=round(float(history.open[i])),
                high=round(float(history.high[i])),
                low=round(float(history.low[i])),
                close=round(float(history.close[i])),
                volume=int(history.volume[i]),
            )
            for i in range(lo, n)
        ]

    async def news_titles(self, ticker: str, day: date) -> list[str]:
        """No headlines in backtests (no point-in-time news archive)."""
        return []

    def indicator_snapshot(self, ticker: str, day: date) -> tuple[int, IndicatorSnapshot | None]:
        """Day `day`'s indicators (never past today), from the rows computed once per ticker."""
        history = self.view.history(ticker)
        n = len(history)
        if n and history.dates[n - 1].item() > day:
            n = int(np.searchsorted(history.dates, np.datetime64(day, "D"), side="right"))
        if n < MIN_BARS:
            return n, None
        row = self._frame(ticker)[n - 1].tolist()
        values = dict(zip(COLUMNS, row, strict=True))
        close = values.pop("close")
        return n, IndicatorSnapshot(
            close=close, **{k: None if math.isnan(v) else v for k, v in values.items()}
        )

    def _frame(self, ticker: str) -> np.ndarray[Any, np.dtype[np.float64]]:
        frame = self._frames.get(ticker)
        if frame is None:
            frame = indicator_rows(self._data.bars[ticker])
            self._frames[ticker] = frame
        return frame
