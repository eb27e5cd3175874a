"""Metrics by hand and against the anchors, the CSV/HTML outputs, and database storage."""

from __future__ import annotations

import csv
import math
import statistics
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from core.orders import Side
from db import migrate
from db.engine import create_db_engine, session_factory, transaction
from evals.backtest.broker import BrokerConfig
from evals.backtest.data import Bars, CsvBarSource
from evals.backtest.engine import BacktestConfig, BacktestResult, run_backtest
from evals.backtest.metrics import benchmark_metrics, compute_metrics, curve_metrics
from evals.backtest.orders import OrderIntent
from evals.backtest.report import (
    ORDER_COLUMNS,
    render_html,
    write_equity_csv,
    write_orders_csv,
    write_trades_csv,
)
from evals.backtest.store import BacktestStore
from evals.backtest.strategies import SmaCrossover
from evals.backtest.view import MarketData
from tests.evals.backtest.fakes import ScriptedStrategy


def test_curve_metrics_by_hand() -> None:
    days = [date(2024, 1, 1), date(2024, 7, 1), date(2024, 12, 31), date(2025, 12, 31)]
    equity = np.array([100.0, 110.0, 99.0, 121.0])
    m = curve_metrics(equity, days, 100.0)
    returns = [0.0, 0.1, -0.1, 121 / 99 - 1]
    assert m.total_return == pytest.approx(0.21)
    assert m.cagr == pytest.approx(1.21 ** (365.25 / 730) - 1)
    sd = statistics.stdev(returns)
    assert m.volatility == pytest.approx(sd * math.sqrt(252))
    assert m.sharpe == pytest.approx(statistics.mean(returns) / sd * math.sqrt(252))
    assert m.max_drawdown == pytest.approx(0.1)  # 110 -> 99
    flat = curve_metrics(np.array([100.0, 100.0]), days[:2], 100.0)
    assert (flat.sharpe, flat.max_drawdown, flat.total_return) == (None, 0.0, 0.0)


@pytest.fixture(scope="module")
def samsung_parity(shared_dir: Path) -> BacktestResult:
    bars = CsvBarSource(shared_dir / "market-data").daily_bars(
        "005930", date(2019, 1, 1), date(2023, 12, 31)
    )
    config = BacktestConfig(broker=BrokerConfig.parity())
    return run_backtest(MarketData([bars]), SmaCrossover(10, 30), config)


def test_metrics_match_the_anchor_libraries_where_conventions_agree(
    samsung_parity: BacktestResult,
) -> None:
    # backtest-anchors.md §3/§4.1: the numbers vectorbt reports for the same trades, with
    # year_freq 252 days (its Sharpe is ours), and its benchmark from the first close.
    m = compute_metrics(samsung_parity)
    assert m.curve.total_return == pytest.approx(0.243337, abs=1e-6)
    assert m.curve.max_drawdown == pytest.approx(0.28658, abs=1e-5)
    assert m.curve.sharpe == pytest.approx(0.3459, abs=5e-5)
    assert (m.closed_trades, m.open_trades) == (21, 1)
    assert m.win_rate == pytest.approx(7 / 21)
    assert m.costs_paid == pytest.approx(69_980.75, abs=0.01)
    assert m.tax_paid == 0
    assert benchmark_metrics(samsung_parity).total_return == pytest.approx(0.9587, abs=1e-4)
    # Exposure: share of days holding shares at the close (backtesting.py counts entry bars).
    assert m.exposure == pytest.approx(np.mean(samsung_parity.exposed))
    assert 0.5 < m.exposure < 0.53


def test_trades_csv_equity_csv_and_html(samsung_parity: BacktestResult, tmp_path: Path) -> None:
    write_trades_csv(samsung_parity, tmp_path / "t.csv")
    write_equity_csv(samsung_parity, tmp_path / "e.csv")
    with (tmp_path / "t.csv").open() as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == [
        "ticker",
        "entry_fill_date",
        "qty",
        "entry_price",
        "exit_fill_date",
        "exit_price",
    ]
    assert rows[1] == ["005930", "2019-04-03", "213", "46750", "2019-04-30", "46000"]
    assert len(rows) == 22
    with (tmp_path / "e.csv").open() as fh:
        equity = list(csv.DictReader(fh))
    assert len(equity) == 1230
    assert float(equity[-1]["equity"]) == pytest.approx(12_433_369.2475, abs=1e-3)

    m = compute_metrics(samsung_parity)
    page = render_html(samsung_parity, m, benchmark_metrics(samsung_parity))
    assert page.count("<svg") == 2 and "<script" not in page and "src=" not in page
    assert "12,433,369.2475" in page and "2019-04-03" in page and "sqrt(252)" in page


def _small_run() -> BacktestResult:
    days = [date(2024, 3, 4) + timedelta(days=i) for i in range(5)]
    prices = [10_010, 10_020, 10_030, 10_050, 10_070]
    bars = Bars.from_columns("A", days, prices, prices, prices, prices, [5] * 5)
    script = {
        days[0]: [OrderIntent("A", Side.BUY, qty=100)],
        days[1]: [OrderIntent("A", Side.BUY, qty=50)],
        days[2]: [OrderIntent("A", Side.SELL, qty=120)],
    }
    config = BacktestConfig(cash=5_000_000, broker=BrokerConfig.parity())
    return run_backtest(MarketData([bars]), ScriptedStrategy(script), config)


def test_the_orders_csv_says_what_became_of_every_order_and_why(tmp_path: Path) -> None:
    days = [date(2024, 3, 4) + timedelta(days=i) for i in range(5)]
    prices = [10_010, 10_020, 10_030, 10_050, 10_070]
    # 1,000 shares a day: the 10 % volume cap (100 shares) lets the 100-share orders fill whole.
    bars = Bars.from_columns("A", days, prices, prices, prices, prices, [1_000] * 5)
    script = {
        days[0]: [OrderIntent("A", Side.BUY, qty=100, limit_price=10_030, reason="first")],
        days[1]: [OrderIntent("A", Side.BUY, qty=100, limit_price=9_000, reason="too low")],
        days[2]: [OrderIntent("A", Side.SELL, reason="all out")],
        days[4]: [OrderIntent("A", Side.BUY, qty=1, reason="too late")],
    }
    result = run_backtest(
        MarketData([bars]), ScriptedStrategy(script), BacktestConfig(cash=5_000_000)
    )
    path = tmp_path / "orders.csv"
    write_orders_csv(result, path)
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        assert tuple(reader.fieldnames or ()) == ORDER_COLUMNS
        rows = list(reader)
    summary = [
        (r["decided_on"], r["side"], r["qty_asked"], r["limit_price"], r["status"],
         r["fill_date"], r["qty"], r["price"], r["why_not_filled"], r["reason"])
        for r in rows
    ]  # fmt: skip
    assert summary == [
        ("2024-03-04", "buy", "100", "10030", "filled", "2024-03-05", "100", "10020", "", "first"),
        ("2024-03-05", "buy", "100", "9000", "rejected", "2024-03-06", "", "", "limit not reached",
         "too low"),
        ("2024-03-06", "sell", "", "", "filled", "2024-03-07", "100", "10050", "", "all out"),
        ("2024-03-08", "buy", "1", "", "rejected", "", "", "", "no next bar", "too late"),
    ]  # fmt: skip
    # 100 x 10,050 = 1,005,000 sold, settling 2024-03-11: tax 0.18 % = 1,809 KRW
    assert rows[2]["tax"] == "1809.0000"
    assert rows[2]["commission"] == f"{result.fills[1].commission:.4f}"
    page = render_html(result, compute_metrics(result), benchmark_metrics(result))
    assert "2 of 4 orders did not fill" in page
    assert "<td>buy</td><td>limit not reached</td><td class=n>1</td>" in page
    assert "<td>buy</td><td>no next bar</td><td class=n>1</td>" in page
    idle = run_backtest(MarketData([bars]), ScriptedStrategy({}), BacktestConfig(cash=5_000_000))
    idle_page = render_html(idle, compute_metrics(idle), benchmark_metrics(idle))
    assert "The strategy placed no order." in idle_page


def test_a_run_is_stored_with_its_trades_and_equity(db_url: str) -> None:
    migrate.upgrade(db_url)
    result = _small_run()
    engine = create_db_engine(db_url)
    factory = session_factory(engine)
    try:
        with transaction(factory) as session:
            run_id = BacktestStore(session).save(result, "test")
        with factory() as session:
            store = BacktestStore(session)
            run = store.run(run_id)
            assert run is not None
            assert run.final_equity_krw == result.final_equity.quantize(Decimal("0.0001"))
            assert run.final_equity_krw != run.final_equity_krw.to_integral_value()
            assert (run.cost_mode, run.initial_cash_krw, run.charge_tax) == (
                "parity",
                5_000_000,
                False,
            )
            assert run.tickers == {"tickers": ["A"]}
            assert run.metrics["closed_trades"] == 2
            trades = store.trades(run_id)
            assert [(t.qty, t.entry_price_krw, t.exit_price_krw) for t in trades] == [
                (100, 10_020, 10_050),
                (20, 10_030, 10_050),
                (30, 10_030, None),
            ]
            # 100 x 10,020 x 0.00015 = 150.3 entry; 120 x 10,050 x 0.00015 = 180.9 exit (100/120)
            assert trades[0].commission_krw == Decimal("150.3") + Decimal("180.9") * 100 / 120
            assert trades[2].pnl_krw is None
            equity = store.equity(run_id)
            assert [e.day for e in equity] == result.days
            assert float(equity[-1].equity_krw) == pytest.approx(float(result.final_equity))
    finally:
        engine.dispose()
