"""Writes a backtest into `backtest_runs`, `backtest_trades` and `backtest_equity`.

One run is one transaction: either every row of it is stored or none. Prices are whole KRW
(`BigInteger`); equity, commission and PnL are `Numeric` because the parity cost mode keeps
fractional won.
"""

from __future__ import annotations

from dataclasses import asdict
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from db.models import BacktestEquity, BacktestRun, BacktestTrade
from evals.backtest.engine import BacktestResult
from evals.backtest.metrics import benchmark_metrics, compute_metrics

_Q = Decimal("0.0001")


def _money(value: float | Decimal) -> Decimal:
    return Decimal(repr(value) if isinstance(value, float) else value).quantize(_Q)


def _json_ready(values: dict[str, Any]) -> dict[str, Any]:
    return {k: (None if isinstance(v, float) and v != v else v) for k, v in values.items()}


class BacktestStore:
    """Saves and reads backtests inside the caller's session (the caller owns the transaction)."""

    def __init__(self, session: Session) -> None:
        """Work inside `session`."""
        self.session = session

    def save(self, result: BacktestResult, data_source: str) -> int:
        """Store a run with its trades (closed and open) and daily equity; return its id."""
        cfg = result.config
        metrics = compute_metrics(result)
        bench = benchmark_metrics(result)
        run = BacktestRun(
            strategy=result.strategy,
            params=dict(result.params),
            tickers={"tickers": list(result.tickers)},
            start_date=result.days[0],
            end_date=result.days[-1],
            data_source=data_source[:200],
            cost_mode=cfg.broker.cost_mode.value,
            commission_rate=cfg.broker.commission_rate,
            charge_tax=cfg.broker.charge_tax,
            initial_cash_krw=cfg.cash,
            final_equity_krw=result.final_equity.quantize(_Q),
            metrics=_json_ready(metrics.as_dict()),
            benchmark_metrics=_json_ready(asdict(bench)),
        )
        self.session.add(run)
        self.session.flush()
        trades = [
            {
                "run_id": run.id,
                "ticker": t.ticker,
                "qty": t.qty,
                "entry_decided_on": t.entry_decided_on,
                "entry_fill_date": t.entry_day,
                "entry_price_krw": t.entry_price,
                "exit_decided_on": t.exit_decided_on,
                "exit_fill_date": t.exit_day,
                "exit_price_krw": t.exit_price,
                "commission_krw": t.commission.quantize(_Q),
                "tax_krw": t.tax.quantize(_Q),
                "pnl_krw": None if t.pnl is None else t.pnl.quantize(_Q),
            }
            for t in [*result.trades, *result.open_trades]
        ]
        if trades:
            self.session.execute(sa.insert(BacktestTrade), trades)
        equity = [
            {
                "run_id": run.id,
                "day": day,
                "equity_krw": _money(float(result.equity[i])),
                "cash_krw": _money(float(result.cash[i])),
                "benchmark_krw": _money(float(result.benchmark[i])),
            }
            for i, day in enumerate(result.days)
        ]
        self.session.execute(sa.insert(BacktestEquity), equity)
        return run.id

    def run(self, run_id: int) -> BacktestRun | None:
        """Return a stored run."""
        return self.session.get(BacktestRun, run_id)

    def trades(self, run_id: int) -> list[BacktestTrade]:
        """Return a run's trades by entry date."""
        stmt = (
            sa.select(BacktestTrade)
            .where(BacktestTrade.run_id == run_id)
            .order_by(BacktestTrade.entry_fill_date, BacktestTrade.id)
        )
        return list(self.session.scalars(stmt))

    def equity(self, run_id: int) -> list[BacktestEquity]:
        """Return a run's daily equity, oldest first."""
        stmt = (
            sa.select(BacktestEquity)
            .where(BacktestEquity.run_id == run_id)
            .order_by(BacktestEquity.day)
        )
        return list(self.session.scalars(stmt))
