"""Point in time: a decision on day t depends only on what was known after day t's close."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from evals.backtest.broker import BrokerConfig
from evals.backtest.data import Bars, CsvBarSource
from evals.backtest.engine import BacktestConfig, BacktestResult, run_backtest
from evals.backtest.strategies import SmaCrossover
from evals.backtest.view import MarketData, PublishedFact
from tests.evals.backtest.fakes import SpyStrategy

START, END = date(2019, 1, 1), date(2023, 12, 31)
TICKERS = ("005930", "000660", "035420")


@pytest.fixture(scope="module")
def universe(shared_dir: Path) -> list[Bars]:
    source = CsvBarSource(shared_dir / "market-data")
    return [source.daily_bars(t, START, END) for t in TICKERS]


def _replay(bars: list[Bars]) -> BacktestResult:
    return run_backtest(MarketData(bars), SmaCrossover(10, 30), BacktestConfig())


def _fills_until(result: BacktestResult, day: date) -> list[tuple[object, ...]]:
    return [(f.ticker, f.side, f.qty, f.price, f.day) for f in result.fills if f.day <= day]


def test_every_decision_equals_the_decision_on_history_cut_at_that_day(
    universe: list[Bars],
) -> None:
    result = _replay(universe)
    assert sum(1 for d in result.decisions if d.intents) >= 30
    strategy = SmaCrossover(10, 30)
    for decision in result.decisions:
        cut = MarketData([b.between(end=decision.day) for b in universe])
        assert cut.days[-1] == decision.day
        again = strategy.decide(cut.view(len(cut) - 1), decision.portfolio)
        assert tuple(again) == decision.intents, decision.day


@pytest.mark.parametrize("k", [200, 611, 1000])
def test_a_shorter_history_replays_the_same_prefix(universe: list[Bars], k: int) -> None:
    full = _replay(universe)
    cut_day = full.days[k]
    short = _replay([b.between(end=cut_day) for b in universe])
    assert short.decisions == full.decisions[: k + 1]
    assert _fills_until(short, cut_day) == _fills_until(full, cut_day)
    assert list(short.equity) == list(full.equity[: k + 1])


@pytest.mark.parametrize("poison", [np.nan, 1e12, -5.0])
def test_a_poisoned_future_does_not_change_past_decisions(
    universe: list[Bars], poison: float
) -> None:
    full = _replay(universe)
    k = 700
    cut_day = full.days[k]
    poisoned = []
    for b in universe:
        later = b.dates > np.datetime64(cut_day, "D")
        arrays = {}
        for name in ("open", "high", "low", "close"):
            values = getattr(b, name).copy()
            values[later] = poison
            arrays[name] = values
        volume = b.volume.copy()
        volume[later] = 0 if poison < 0 else volume[later]
        poisoned.append(replace(b, dates=b.dates.copy(), volume=volume, **arrays))
    bad = _replay(poisoned)
    assert bad.decisions[: k + 1] == full.decisions[: k + 1]
    assert _fills_until(bad, cut_day) == _fills_until(full, cut_day)


def test_the_view_exposes_no_later_bar_or_fact_and_history_is_read_only(
    universe: list[Bars],
) -> None:
    facts = [
        PublishedFact("005930", "eps", Decimal(1000), date(2019, 3, 31), date(2019, 5, 15)),
        PublishedFact("005930", "eps", Decimal(1200), date(2019, 6, 30), date(2019, 8, 14)),
    ]
    spy = SpyStrategy()
    data = MarketData(universe, facts)
    run_backtest(data, spy, BacktestConfig(broker=BrokerConfig.parity()))
    assert len(spy.seen) == len(data)
    assert all(latest == day for day, latest, _ in spy.seen)
    assert spy.write_refused
    fact_days = {day: latest_fact for day, _, latest_fact in spy.seen}
    assert fact_days[date(2019, 5, 14)] is None
    assert fact_days[date(2019, 5, 15)] == date(2019, 5, 15)
    assert fact_days[date(2019, 8, 13)] == date(2019, 5, 15)
    assert fact_days[date(2019, 8, 14)] == date(2019, 8, 14)


def test_the_heap_is_frozen_only_during_a_replay_that_asks_for_it() -> None:
    import gc

    from evals.backtest.engine import heap_frozen

    before = gc.get_freeze_count()
    with heap_frozen():
        assert gc.get_freeze_count() > before
    assert gc.get_freeze_count() == 0
