"""Performance metrics of a run and of its buy-and-hold benchmark, with stated conventions.

Conventions (see ../shared/reference/backtest-anchors.md §3 for how other libraries differ):

- daily returns are day-to-day changes of the closing equity, the first from the starting cash;
- annualised volatility = std(daily returns, ddof=1) × √252;
- Sharpe = mean(daily returns) / std(daily returns, ddof=1) × √252, risk-free rate 0;
- CAGR = (final / initial) ^ (365.25 / calendar days from first to last day) − 1;
- max drawdown = max over days of 1 − equity / running peak (a positive fraction);
- win rate = closed trades with net PnL > 0 / closed trades (open positions excluded);
- exposure = share of days with any position held at the close;
- turnover = (value bought + value sold) / 2 / mean equity, over the whole run;
- costs paid = commission + transaction tax, all fills (the open position's entry included).

252 is the convention even though KRX trades ~245-250 days a year.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

import numpy as np

from evals.backtest.data import FloatArray
from evals.backtest.engine import BacktestResult

TRADING_DAYS_PER_YEAR = 252
SHARPE_CONVENTION = "mean/std(ddof=1) of daily returns x sqrt(252), rf=0"


@dataclass(frozen=True, slots=True)
class CurveMetrics:
    """What an equity curve alone says."""

    initial_equity: float
    final_equity: float
    total_return: float
    cagr: float | None
    volatility: float | None
    sharpe: float | None
    max_drawdown: float


@dataclass(frozen=True, slots=True)
class Metrics:
    """A run's metrics; fractions, not percent. `None` where the number is undefined."""

    curve: CurveMetrics
    closed_trades: int
    open_trades: int
    win_rate: float | None
    exposure: float
    turnover: float
    commission_paid: float
    tax_paid: float
    costs_paid: float

    def as_dict(self) -> dict[str, Any]:
        """Return a flat JSON-ready dict (stored with the run)."""
        flat = asdict(self.curve)
        flat.update({k: v for k, v in asdict(self).items() if k != "curve"})
        flat["sharpe_convention"] = SHARPE_CONVENTION
        return flat


def drawdown(equity: FloatArray) -> FloatArray:
    """Return 1 − equity / running peak per day (0 at a new high)."""
    if len(equity) == 0:
        return np.zeros(0)
    peak = np.maximum.accumulate(equity)
    return np.asarray(1.0 - equity / peak, dtype=np.float64)


def curve_metrics(equity: FloatArray, days: list[date], initial: float) -> CurveMetrics:
    """Compute the curve metrics of `equity` (one value per day in `days`) from `initial`."""
    final = float(equity[-1])
    total = final / initial - 1
    span = (days[-1] - days[0]).days
    cagr = (final / initial) ** (365.25 / span) - 1 if span > 0 and final > 0 else None
    series = np.concatenate([[initial], equity])
    returns = series[1:] / series[:-1] - 1
    vol = sharpe = None
    if len(returns) >= 2:
        std = float(np.std(returns, ddof=1))
        vol = std * math.sqrt(TRADING_DAYS_PER_YEAR)
        if std > 0:
            sharpe = float(np.mean(returns)) / std * math.sqrt(TRADING_DAYS_PER_YEAR)
    dd = drawdown(series)
    return CurveMetrics(
        initial_equity=initial,
        final_equity=final,
        total_return=total,
        cagr=cagr,
        volatility=vol,
        sharpe=sharpe,
        max_drawdown=float(dd.max()),
    )


def compute_metrics(result: BacktestResult) -> Metrics:
    """Compute the metrics of a run from its equity curve, trades and fills."""
    cash = float(result.config.cash)
    closed = result.trades
    wins = sum(1 for t in closed if t.pnl is not None and t.pnl > 0)
    mean_equity = float(np.mean(result.equity))
    commission, tax = float(result.commission_paid), float(result.tax_paid)
    return Metrics(
        curve=curve_metrics(result.equity, result.days, cash),
        closed_trades=len(closed),
        open_trades=len(result.open_trades),
        win_rate=wins / len(closed) if closed else None,
        exposure=float(np.mean(result.exposed)),
        turnover=(result.bought_value + result.sold_value) / 2 / mean_equity
        if mean_equity > 0
        else 0.0,
        commission_paid=commission,
        tax_paid=tax,
        costs_paid=commission + tax,
    )


def benchmark_metrics(result: BacktestResult) -> CurveMetrics:
    """Compute the curve metrics of the run's buy-and-hold benchmark."""
    return curve_metrics(result.benchmark, result.days, float(result.config.cash))
