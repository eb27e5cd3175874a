"""The backtest's broker and book behind the `tools.broker.Broker` protocol, for the suite.

The engine fills the strategy's intents at the next bar and needs no client order ids (a day's
intents are decided once); this thin adapter gives it the protocol so the conformance cases
run against the very `SimulatedBroker` and `Book` a backtest uses. What it adds is only what the
protocol asks and the engine has no use for: the client_order_id -> order map (so the
place-once case pins this adapter, not the engine) and the translation of an order into an
`OrderIntent` filled on the one known bar.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal

from core.clock import KST
from core.orders import OrderType, PlacementStatus
from evals.backtest.broker import BarToday, Book, BrokerConfig, Fill, SimulatedBroker
from evals.backtest.orders import OrderIntent
from tools.broker import (
    AccountSnapshot,
    CashBalance,
    Execution,
    OrderAck,
    OrderRequest,
    Position,
    UnknownOrderError,
)
from tools.krx import venue
from tools.krx.venue import NoFill

_LAPSES = frozenset(NoFill)
"""Why a backtest order may not fill although the venue took it: it lapses with the day."""


@dataclass(slots=True)
class _Placed:
    order: OrderRequest
    broker_order_id: str
    fill: Fill | None


class BacktestBroker:
    """Fills each placed order at once on `bar` (the bar of KRX date `day`)."""

    def __init__(
        self, bar: BarToday, day: date, *, cash: int, config: BrokerConfig | None = None
    ) -> None:
        """Open a backtest book with `cash` KRW."""
        self.bar = bar
        self.day = day
        self.config = config or BrokerConfig()
        self.book = Book(self.config, cash)
        self.broker = SimulatedBroker(self.config, self.book)
        self.at = datetime.combine(day, time(10, 0), tzinfo=KST)
        self._placed: dict[str, _Placed] = {}

    async def account_snapshot(self) -> AccountSnapshot:
        """The book's cash and positions, marked at the bar's close."""
        close = round(self.bar.close)
        basis = self.book.cost_basis()
        positions = [
            Position(
                ticker=ticker,
                name=ticker,
                qty=qty,
                sellable_qty=qty,
                avg_price=basis[ticker] / qty,
                last_price=close,
                market_value=qty * close,
                unrealized_pnl=int(qty * close - basis[ticker]),
            )
            for ticker, qty in sorted(self.book.positions.items())
        ]
        cash = int(self.book.cash)
        total = cash + sum(p.market_value for p in positions)
        return AccountSnapshot(
            as_of=self.at,
            cash=CashBalance(deposit=cash, settled_d2=cash, total_eval=total),
            positions=positions,
        )

    async def place(self, order: OrderRequest) -> OrderAck:
        """Fill `order` on the bar once per client_order_id, or answer why not."""
        known = self._placed.get(order.client_order_id)
        if known is not None:
            return self._accepted(known)
        # An OrderIntent cannot hold a quantity the venue refuses; ask the venue model first.
        refused = venue.check_qty(order.qty)
        if refused is not None:
            return self._rejected(order, refused.code.value, refused.message)
        limit = order.limit_price if order.order_type is OrderType.LIMIT else None
        side = order.side
        intent = OrderIntent(order.ticker, side, qty=order.qty, limit_price=limit)
        fills, rejections = len(self.book.fills), len(self.book.rejections)
        self.broker.execute(intent, self.day, self.day, self.bar)
        if len(self.book.rejections) > rejections:
            reason = self.book.rejections[-1].reason
            if reason not in _LAPSES:
                return self._rejected(order, "backtest", reason)
        fill = self.book.fills[-1] if len(self.book.fills) > fills else None
        placed = _Placed(order, f"BT{len(self._placed) + 1:08d}", fill)
        self._placed[order.client_order_id] = placed
        return self._accepted(placed)

    async def cancel(self, client_order_id: str) -> OrderAck:
        """Nothing rests in a backtest: an order filled or lapsed when it was placed."""
        placed = self._placed.get(client_order_id)
        if placed is None:
            raise UnknownOrderError(f"no backtest order is known for {client_order_id}")
        return OrderAck(
            client_order_id=client_order_id,
            status=PlacementStatus.REJECTED,
            broker_order_id=placed.broker_order_id,
            reason_code="backtest",
            reason="the order already filled or lapsed",
        )

    async def executions(self, day: date) -> list[Execution]:
        """The orders placed, with their fills (all on the one day)."""
        if day != self.day:
            return []
        return [self._execution(p) for p in self._placed.values()]

    def _execution(self, placed: _Placed) -> Execution:
        order, fill = placed.order, placed.fill
        filled = fill.qty if fill is not None else 0
        return Execution(
            broker_order_id=placed.broker_order_id,
            client_order_id=order.client_order_id,
            ticker=order.ticker,
            side=order.side,
            ordered_qty=order.qty,
            limit_price=order.limit_price or 0,
            filled_qty=filled,
            avg_fill_price=Decimal(fill.price) if fill is not None else Decimal(0),
            remaining_qty=order.qty - filled,
            ordered_at=self.at,
        )

    def _accepted(self, placed: _Placed) -> OrderAck:
        return OrderAck(
            client_order_id=placed.order.client_order_id,
            status=PlacementStatus.ACCEPTED,
            broker_order_id=placed.broker_order_id,
            accepted_at=self.at,
        )

    @staticmethod
    def _rejected(order: OrderRequest, code: str, reason: str) -> OrderAck:
        return OrderAck(
            client_order_id=order.client_order_id,
            status=PlacementStatus.REJECTED,
            reason_code=code,
            reason=reason,
        )
