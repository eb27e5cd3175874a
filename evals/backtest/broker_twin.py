"""The broker a replayed day's session sees: the engine's book, read-only.

In a backtest the engine (`evals.backtest.engine`) fills the risk manager's orders at the next
open, in place of approval and the executor; the session graph only reads the account. So this
broker shows the engine's book as an account snapshot and refuses to place or cancel anything.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from decimal import Decimal

from core.errors import ConfigurationError, RejectedError
from evals.backtest.orders import PortfolioSnapshot
from evals.backtest.view import PointInTimeView
from tools.broker import (
    AccountSnapshot,
    CashBalance,
    Execution,
    OrderAck,
    OrderRequest,
    Position,
)


class ReadOnlyBrokerError(RejectedError):
    """The backtest broker places nothing: the engine fills the risk manager's orders."""


class BookBroker:
    """The engine's book as a `Broker` that can only be read."""

    def __init__(self) -> None:
        """Start empty; `show` gives it the day's book."""
        self._snapshot: AccountSnapshot | None = None

    def show(self, portfolio: PortfolioSnapshot, view: PointInTimeView, at: datetime) -> None:
        """Hold the account as the engine's book stands after the view's close."""
        positions = []
        for ticker, qty in sorted(portfolio.positions.items()):
            if qty <= 0:
                continue
            last = view.last_close(ticker)
            price = round(last) if last is not None and math.isfinite(last) else 0
            cost = portfolio.cost_basis.get(ticker, Decimal(0))
            positions.append(
                Position(
                    ticker=ticker,
                    name=ticker,
                    qty=qty,
                    sellable_qty=qty,
                    avg_price=cost / qty,
                    last_price=price,
                    market_value=price * qty,
                    unrealized_pnl=int(price * qty - cost),
                )
            )
        cash = int(portfolio.cash)
        equity = int(portfolio.equity) if math.isfinite(portfolio.equity) else cash
        self._snapshot = AccountSnapshot(
            as_of=at,
            cash=CashBalance(deposit=cash, settled_d2=cash, total_eval=equity),
            positions=positions,
        )

    async def account_snapshot(self) -> AccountSnapshot:
        """Cash and positions after the replayed day's close."""
        if self._snapshot is None:
            raise ConfigurationError("the backtest broker has no book yet")
        return self._snapshot

    async def place(self, order: OrderRequest) -> OrderAck:
        """Refuse: in a backtest the engine fills the proposed orders at the next open."""
        raise ReadOnlyBrokerError("the backtest broker places no order; the engine fills them")

    async def cancel(self, client_order_id: str) -> OrderAck:
        """Refuse, as `place`."""
        raise ReadOnlyBrokerError("the backtest broker cancels no order")

    async def executions(self, day: date) -> list[Execution]:
        """Nothing was placed through this broker."""
        return []
