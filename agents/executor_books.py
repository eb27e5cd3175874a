"""The executor's books: its reads and writes of the orders and fills tables.

Also the lookup of an order in doubt in a broker's list (`find_at_broker`).

Every method is one transaction and synchronous (the database driver is); the executor calls
them through `asyncio.to_thread`.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from agents.context import SessionContext
from core.errors import ConfigurationError
from core.orders import OrderStatus, Side
from db.engine import transaction
from db.models import Order
from db.repositories import FillRepository, OrderRepository
from tools.broker import Execution
from tools.krx.calendar import settlement_date
from tools.krx.rules import Market

RECONCILE_WINDOW = timedelta(seconds=5)
"""A broker order placed this long before our row was written can still be ours (clock skew)."""
AMBIGUOUS = "ambiguous"


class Books:
    """The executor's reads and writes of the orders and fills tables, one transaction each.

    Synchronous (the database driver is); the executor calls them through `asyncio.to_thread`.
    """

    def __init__(self, ctx: SessionContext) -> None:
        self.ctx = ctx

    def get(self, client_order_id: str) -> Order:
        """Return the row of an approved order (every approved order has one)."""
        with transaction(self.ctx.sessions) as session:
            row = OrderRepository(session).get(client_order_id)
            if row is None:
                raise ConfigurationError(f"approved order {client_order_id} has no row")
            return row

    def set(self, client_order_id: str, status: OrderStatus, **fields: Any) -> Order:
        """Move a row to `status` unconditionally (the executor holds the run's lease)."""
        with transaction(self.ctx.sessions) as session:
            repo = OrderRepository(session)
            repo.set_status(client_order_id, status, **fields)
            return must(repo.get(client_order_id), client_order_id)

    def move(
        self,
        client_order_id: str,
        from_statuses: frozenset[OrderStatus],
        status: OrderStatus,
        **fields: Any,
    ) -> tuple[bool, Order]:
        """Move a row to `status` only from `from_statuses`; return (moved, the row now)."""
        with transaction(self.ctx.sessions) as session:
            repo = OrderRepository(session)
            moved = repo.transition(client_order_id, from_statuses, status, **fields)
            return moved, must(repo.get(client_order_id), client_order_id)

    def claim(self, client_order_id: str) -> tuple[bool, Order]:
        """Move an `approved` row to `submitting`; return (claimed, the row now)."""
        with transaction(self.ctx.sessions) as session:
            repo = OrderRepository(session)
            claimed = repo.claim_for_submission(client_order_id, self.ctx.clock.now())
            return claimed, must(repo.get(client_order_id), client_order_id)

    def book_fill(
        self, row: Order, execution: Execution, day: date, market: Market = Market.KOSPI
    ) -> Order:
        """Store the fill increment since the last poll and the order's new totals.

        Commission and the sell tax (by settlement date and market; ETFs pay none) are our
        estimate of the broker's charges: KIS's daily executions do not itemise them.
        """
        filled = min(execution.filled_qty, row.qty)
        value = int((execution.avg_fill_price * filled).to_integral_value())
        status = row.status
        if filled >= row.qty:
            status = OrderStatus.FILLED
        elif execution.remaining_qty == 0 and (filled or execution.rejected_qty):
            status = OrderStatus.CANCELLED if filled < row.qty else OrderStatus.FILLED
        elif filled > 0:
            status = OrderStatus.PARTIALLY_FILLED
        increment = filled - row.filled_qty
        with transaction(self.ctx.sessions) as session:
            if increment > 0:
                step_value = value - row.filled_value_krw
                price = max(round(step_value / increment), 1)
                tax = 0
                if row.side is Side.SELL:
                    tax = self.ctx.cost_model.tax(step_value, settlement_date(day), market)
                FillRepository(session).add(
                    [
                        {
                            "fill_key": f"{row.client_order_id}:{filled}",
                            "order_id": row.id,
                            "ticker": row.ticker,
                            "side": row.side,
                            "qty": increment,
                            "price_krw": price,
                            "commission_krw": self.ctx.cost_model.commission(step_value),
                            "tax_krw": tax,
                            "filled_at": self.ctx.clock.now(),
                        }
                    ]
                )
            repo = OrderRepository(session)
            repo.set_status(row.client_order_id, status, filled_qty=filled, filled_value_krw=value)
            return must(repo.get(row.client_order_id), row.client_order_id)


def must(row: Order | None, client_order_id: str) -> Order:
    """Return `row`, which this transaction just wrote or read; only a bug makes it None."""
    if row is None:  # the row was written in this transaction; only a bug gets here
        raise RuntimeError(f"order {client_order_id} vanished from the orders table")
    return row


def find_at_broker(
    row: Order, executions: list[Execution], mapped: set[str]
) -> Execution | str | None:
    """Return the broker's order for a row in doubt, None if absent, AMBIGUOUS if unclear."""
    for execution in executions:
        if execution.client_order_id == row.client_order_id:
            return execution
    since = (row.submitted_at or row.updated_at) - RECONCILE_WINDOW
    candidates = [
        e
        for e in executions
        if e.client_order_id is None
        and e.broker_order_id not in mapped
        and e.original_broker_order_id is None
        and e.ticker == row.ticker
        and e.side is row.side
        and e.ordered_qty == row.qty
        and (row.limit_price_krw is None or e.limit_price == row.limit_price_krw)
        and e.ordered_at >= since
    ]
    if len(candidates) > 1:
        return AMBIGUOUS
    return candidates[0] if candidates else None
