"""Importable test doubles for the backtester: a chart client, scripted and spying strategies."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np

from evals.backtest.orders import OrderIntent, PortfolioSnapshot
from evals.backtest.view import PointInTimeView


@dataclass(frozen=True)
class ChartBar:
    """A bar shaped like the KIS client's daily chart rows."""

    day: date
    open: int
    high: int
    low: int
    close: int
    volume: int


@dataclass(frozen=True)
class Chart:
    """A chart shaped like the KIS client's `DailyChart`."""

    bars: Sequence[ChartBar]


class FakeChartClient:
    """Answers `daily_bars` from a fixed list, newest first as KIS pages it, and logs calls."""

    def __init__(self, bars: Sequence[ChartBar]) -> None:
        self.bars = list(bars)
        self.calls: list[tuple[str, date, date]] = []

    async def daily_bars(self, ticker: str, start: date, end: date) -> Chart:
        self.calls.append((ticker, start, end))
        return Chart(sorted(self.bars, key=lambda b: b.day, reverse=True))


class ScriptedStrategy:
    """Places the given intents on the given decision days; nothing else."""

    name = "scripted"

    def __init__(self, script: Mapping[date, Sequence[OrderIntent]]) -> None:
        self.script = dict(script)

    def params(self) -> Mapping[str, Any]:
        return {"days": len(self.script)}

    def decide(self, view: PointInTimeView, portfolio: PortfolioSnapshot) -> Sequence[OrderIntent]:
        return list(self.script.get(view.date, ()))


class SpyStrategy:
    """Records, for every day, the latest bar date and fact date the view exposed."""

    name = "spy"

    def __init__(self) -> None:
        self.seen: list[tuple[date, date | None, date | None]] = []
        self.write_refused = True

    def params(self) -> Mapping[str, Any]:
        return {}

    def decide(self, view: PointInTimeView, portfolio: PortfolioSnapshot) -> Sequence[OrderIntent]:
        latest: date | None = None
        latest_fact: date | None = None
        for ticker in view.tickers:
            hist = view.history(ticker)
            if len(hist):
                last = hist.dates[-1].item()
                latest = last if latest is None or last > latest else latest
                try:
                    hist.close[-1] = np.nan
                    self.write_refused = False
                except ValueError:
                    pass
            for fact in view.facts(ticker):
                if latest_fact is None or fact.published_on > latest_fact:
                    latest_fact = fact.published_on
        self.seen.append((view.date, latest, latest_fact))
        return []
