"""The replay loop: day by day, fill yesterday's intents at today's open, mark, then decide.

For each trading day t of the calendar (the union of the tickers' dates):

1. intents decided after day t-1's close fill at day t's bar (sells before buys, so sale
   proceeds can fund buys the same morning, as KRX buying power allows);
2. the book is marked at day t's closes (equity = cash + shares × latest close);
3. the strategy decides with the point-in-time view of day t and a snapshot of the book.

Intents decided on the last day have no next bar; they are recorded as unfilled. Nothing is
force-closed at the end: open positions are marked at the last close (backtesting.py's
`finalize_trades=False`).
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import numpy as np

from core.orders import Side
from evals.backtest.book import Book, Fill, Rejection, Trade
from evals.backtest.broker import BarToday, SimulatedBroker
from evals.backtest.broker_config import BrokerConfig
from evals.backtest.data import FloatArray
from evals.backtest.orders import OrderIntent, PortfolioSnapshot, Strategy
from evals.backtest.view import MarketData

ProgressCallback = Callable[[int, int], None]
"""Called as (days done, days total) after each replayed day."""


@dataclass(frozen=True, slots=True)
class BacktestConfig:
    """What to replay and with which broker.

    Attributes:
        cash: starting cash, KRW.
        broker: costs and market rules.
        start: first day the strategy decides on; earlier bars in the data are history only.
        end: last day replayed.
    """

    cash: int = 10_000_000
    broker: BrokerConfig = field(default_factory=BrokerConfig)
    start: date | None = None
    end: date | None = None


@dataclass(frozen=True, slots=True)
class Decision:
    """What the strategy saw (its book) and said on one day; the point-in-time test replays it."""

    t: int
    day: date
    portfolio: PortfolioSnapshot
    intents: tuple[OrderIntent, ...]


@dataclass(slots=True)
class BacktestResult:
    """Everything a run produced; metrics and reports are computed from it."""

    strategy: str
    params: Mapping[str, Any]
    tickers: tuple[str, ...]
    config: BacktestConfig
    days: list[date]
    equity: FloatArray
    cash: FloatArray
    trades: list[Trade]
    open_trades: list[Trade]
    fills: list[Fill]
    rejections: list[Rejection]
    decisions: list[Decision]
    final_cash: Decimal
    final_equity: Decimal
    commission_paid: Decimal
    tax_paid: Decimal
    bought_value: int
    sold_value: int
    exposed: np.ndarray[Any, np.dtype[np.bool_]]
    """Per day: whether any shares were held at the close."""
    benchmark: FloatArray
    """Per day: equal-weight buy-and-hold of the tickers (see `buy_and_hold`)."""


def day_range(data: MarketData, start: date | None, end: date | None) -> range:
    """Return the calendar indices of days start..end (inclusive)."""
    lo = 0 if start is None else int(np.searchsorted(data.calendar, np.datetime64(start, "D")))
    hi = (
        len(data)
        if end is None
        else int(np.searchsorted(data.calendar, np.datetime64(end, "D"), side="right"))
    )
    if lo >= hi:
        raise ValueError(f"no trading days between {start} and {end}")
    return range(lo, hi)


@contextmanager
def heap_frozen() -> Iterator[None]:
    """Keep the garbage collector's full passes off what is alive before a long replay.

    Process-wide, so for entry points (`trader backtest`, the bench), not library code. What
    is alive when a replay starts (modules, the bars, the compiled graph) stays alive until it
    ends, yet every full collection walks all of it again: about 140 ms a pass, once every ~30
    replayed days of an agents replay of 100 tickers, ~4 ms of a ~25 ms day. Frozen, it is
    skipped; the replay's own garbage is collected as before.
    """
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def run_backtest(
    data: MarketData,
    strategy: Strategy,
    config: BacktestConfig | None = None,
    *,
    progress: ProgressCallback | None = None,
    record_decisions: bool = True,
) -> BacktestResult:
    """Replay `strategy` over `data` and return the book's history."""
    config = config or BacktestConfig()
    book = Book(config.broker, config.cash)
    broker = SimulatedBroker(config.broker, book)
    days = day_range(data, config.start, config.end)
    closes = {t: b.close.tolist() for t, b in data.bars.items()}
    counts = data.counts
    equity = np.empty(len(days), dtype=np.float64)
    cash = np.empty(len(days), dtype=np.float64)
    exposed = np.zeros(len(days), dtype=bool)
    decisions: list[Decision] = []
    pending: Sequence[OrderIntent] = ()
    decided_on: date | None = None
    peak = float(config.cash)
    for i, t in enumerate(days):
        day = data.days[t]
        if pending and decided_on is not None:
            _fill_pending(data, broker, pending, decided_on, t, day)
        marked = book.cash_float
        for ticker, qty in book.positions.items():
            marked += qty * closes[ticker][counts[ticker][t] - 1]
        equity[i] = marked
        cash[i] = book.cash_float
        exposed[i] = bool(book.positions)
        peak = max(peak, marked)
        snapshot = PortfolioSnapshot(
            day, book.cash, dict(book.positions), marked, book.cost_basis(), peak
        )
        pending = tuple(strategy.decide(data.view(t), snapshot))
        decided_on = day
        if record_decisions:
            decisions.append(Decision(t, day, snapshot, pending))
        if progress is not None:
            progress(i + 1, len(days))
    for intent in pending:
        book.rejections.append(Rejection.of(intent, data.days[days[-1]], None, "no next bar"))
    last = days[-1]
    final = book.cash
    for ticker, qty in book.positions.items():
        final += qty * _decimal_price(closes[ticker][counts[ticker][last] - 1])
    return BacktestResult(
        strategy=strategy.name,
        params=dict(strategy.params()),
        tickers=data.tickers,
        config=config,
        days=[data.days[t] for t in days],
        equity=equity,
        cash=cash,
        trades=list(book.trades),
        open_trades=book.open_trades(),
        fills=list(book.fills),
        rejections=list(book.rejections),
        decisions=decisions,
        final_cash=book.cash,
        final_equity=final,
        commission_paid=book.commission_paid,
        tax_paid=book.tax_paid,
        bought_value=book.bought_value,
        sold_value=book.sold_value,
        exposed=exposed,
        benchmark=buy_and_hold(data, days, config.cash),
    )


def buy_and_hold(data: MarketData, days: range, cash: int) -> FloatArray:
    """Return the equity of an equal-weight buy-and-hold benchmark over `days`.

    Each ticker gets cash / N, invested at its first close in the window (cash stays idle until
    then), fractional shares, no costs: a yardstick, not a tradable book.
    """
    share = cash / len(data.tickers)
    curve = np.zeros(len(days), dtype=np.float64)
    idx = np.arange(days.start, days.stop)
    for ticker, bars in data.bars.items():
        counts = np.asarray(data.counts[ticker])[idx]
        known = counts > 0
        if not known.any():
            curve += share
            continue
        marks = np.where(known, bars.close[np.maximum(counts - 1, 0)], np.nan)
        first = int(np.argmax(known))
        units = share / marks[first]
        curve[:first] += share
        curve[first:] += units * marks[first:]
    return curve


def _decimal_price(price: float) -> Decimal:
    return Decimal(int(price)) if price.is_integer() else Decimal(repr(price))


def _fill_pending(
    data: MarketData,
    broker: SimulatedBroker,
    intents: Sequence[OrderIntent],
    decided_on: date,
    t: int,
    day: date,
) -> None:
    ordered = [i for i in intents if i.side is Side.SELL] + [
        i for i in intents if i.side is Side.BUY
    ]
    for intent in ordered:
        bars = data.bars.get(intent.ticker)
        row = data.rows[intent.ticker][t] if bars is not None else -1
        if bars is None or row < 0:
            broker.book.rejections.append(
                Rejection.of(intent, decided_on, day, "no bar on the fill day")
            )
            continue
        bar = BarToday(
            open=float(bars.open[row]),
            high=float(bars.high[row]),
            low=float(bars.low[row]),
            close=float(bars.close[row]),
            volume=int(bars.volume[row]),
            prev_close=float(bars.close[row - 1]) if row > 0 else None,
        )
        broker.execute(intent, decided_on, day, bar)
