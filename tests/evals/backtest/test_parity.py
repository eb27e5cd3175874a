"""Parity: our engine in parity cost mode reproduces backtesting.py trade for trade."""

from __future__ import annotations

import csv
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from evals.backtest.anchor import run_sma_anchor
from evals.backtest.broker import BrokerConfig
from evals.backtest.data import CsvBarSource
from evals.backtest.engine import BacktestConfig, BacktestResult, run_backtest
from evals.backtest.strategies import SmaCrossover
from evals.backtest.view import MarketData

START, END = date(2019, 1, 1), date(2023, 12, 31)
REFERENCE = "reference/sma10_30_005930_2019-2023_backtesting-0.6.6_{}.csv"


def _run(shared_dir: Path, ticker: str, fast: int = 10, slow: int = 30) -> BacktestResult:
    bars = CsvBarSource(shared_dir / "market-data").daily_bars(ticker, START, END)
    config = BacktestConfig(cash=10_000_000, broker=BrokerConfig.parity())
    return run_backtest(MarketData([bars]), SmaCrossover(fast, slow), config)


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))


def test_samsung_sma_10_30_matches_the_reference_trades_and_equity(shared_dir: Path) -> None:
    result = _run(shared_dir, "005930")
    ref = _rows(shared_dir / "market-data" / REFERENCE.format("trades"))

    assert len(ref) == 21
    ours = [
        (t.entry_day.isoformat(), t.qty, float(t.entry_price),
         t.exit_day.isoformat() if t.exit_day else "", float(t.exit_price or 0))
        for t in result.trades
    ]  # fmt: skip
    theirs = [
        (r["entry_fill_date"], int(r["qty"]), float(r["entry_price"]), r["exit_fill_date"],
         float(r["exit_price"]))
        for r in ref
    ]  # fmt: skip
    assert ours == theirs
    for trade, row in zip(result.trades, ref, strict=True):
        assert trade.pnl is not None
        assert abs(float(trade.pnl) - float(row["pnl_net"])) < 0.01
        assert trade.entry_decided_on.isoformat() == row["entry_signal_date"]
        assert trade.exit_decided_on is not None
        assert trade.exit_decided_on.isoformat() == row["exit_signal_date"]

    [still_open] = result.open_trades
    assert (still_open.entry_day, still_open.qty, still_open.entry_price) == (
        date(2023, 11, 8),
        163,
        71_300,
    )
    assert result.final_equity == Decimal("12433369.2475")

    equity_ref = _rows(shared_dir / "market-data" / REFERENCE.format("equity"))
    assert [d.isoformat() for d in result.days] == [r["date"] for r in equity_ref]
    for ours_eq, row in zip(result.equity, equity_ref, strict=True):
        assert ours_eq == pytest.approx(float(row["equity"]), rel=1e-6)


@pytest.mark.parametrize(("ticker", "fast", "slow"), [("000660", 10, 30), ("035420", 5, 20)])
def test_sma_matches_backtesting_py_run_live(
    shared_dir: Path, ticker: str, fast: int, slow: int
) -> None:
    result = _run(shared_dir, ticker, fast, slow)
    bars = CsvBarSource(shared_dir / "market-data").daily_bars(ticker, START, END)
    anchor = run_sma_anchor(bars, fast, slow)

    assert len(anchor.trades) >= 10
    ours = [(t.entry_day, t.qty, float(t.entry_price), t.exit_day, float(t.exit_price or 0))
            for t in result.trades]  # fmt: skip
    theirs = [(t.entry_day, t.qty, t.entry_price, t.exit_day, t.exit_price) for t in anchor.trades]
    assert ours == theirs
    for trade, ref in zip(result.trades, anchor.trades, strict=True):
        assert trade.pnl is not None
        assert float(trade.pnl) == pytest.approx(ref.pnl, abs=0.01)
    assert float(result.final_equity) == pytest.approx(anchor.final_equity, abs=0.01)
    assert list(result.equity) == pytest.approx(anchor.equity, rel=1e-9)
