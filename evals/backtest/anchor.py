"""backtesting.py as an independent oracle: the same SMA crossover, run by that library.

Used by the parity tests and `bench/backtest.py`. `backtesting` is a development dependency, so
it is imported only when called. Settings follow ../shared/reference/backtest-anchors.md §6:
fill at the next open, all-in whole shares, commission on both legs, no forced close.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from datetime import date
from typing import Any

import pandas as pd

from evals.backtest.data import Bars


@dataclass(frozen=True, slots=True)
class AnchorTrade:
    """A closed trade as backtesting.py reports it."""

    entry_day: date
    qty: int
    entry_price: float
    exit_day: date
    exit_price: float
    pnl: float


@dataclass(frozen=True, slots=True)
class AnchorRun:
    """backtesting.py's closed trades, final equity and daily equity."""

    trades: list[AnchorTrade]
    final_equity: float
    equity: list[float]


def bars_frame(bars: Bars) -> pd.DataFrame:
    """Return bars as backtesting.py wants them: Open..Volume floats on a DatetimeIndex."""
    return pd.DataFrame(
        {
            "Open": bars.open,
            "High": bars.high,
            "Low": bars.low,
            "Close": bars.close,
            "Volume": bars.volume.astype(float),
        },
        index=pd.DatetimeIndex(bars.dates.astype("datetime64[ns]")),
    )


def _sma(values: Any, n: int) -> Any:
    return pd.Series(values).rolling(n).mean()


def run_sma_anchor(
    bars: Bars, fast: int = 10, slow: int = 30, cash: int = 10_000_000, commission: float = 0.00015
) -> AnchorRun:
    """Run backtesting.py's long-only SMA crossover over `bars`."""
    from backtesting import Backtest
    from backtesting import Strategy as BtStrategy
    from backtesting.lib import crossover

    class SmaCrossLong(BtStrategy):  # type: ignore[misc]
        def init(self) -> None:
            self.f = self.I(_sma, self.data.Close, fast)
            self.s = self.I(_sma, self.data.Close, slow)

        def next(self) -> None:
            if crossover(self.f, self.s) and not self.position:
                self.buy()
            elif crossover(self.s, self.f) and self.position:
                self.position.close()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stats = Backtest(
            bars_frame(bars),
            SmaCrossLong,
            cash=cash,
            commission=commission,
            trade_on_close=False,
            exclusive_orders=False,
            finalize_trades=False,
        ).run()
    frame = stats["_trades"]
    trades = [
        AnchorTrade(
            entry_day=row.EntryTime.date(),
            qty=int(row.Size),
            entry_price=float(row.EntryPrice),
            exit_day=row.ExitTime.date(),
            exit_price=float(row.ExitPrice),
            pnl=float(row.PnL),
        )
        for row in frame.itertuples()
    ]
    return AnchorRun(
        trades=trades,
        final_equity=float(stats["Equity Final [$]"]),
        equity=[float(v) for v in stats["_equity_curve"]["Equity"]],
    )
