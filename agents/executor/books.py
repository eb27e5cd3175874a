"""The executor's books: its order rows, written through `db.order_books`, and their fills.

Every call is one transaction, run in a thread (the database driver is synchronous), and
returns the row as it is after the write. Handing a row to a person (`needs_review`) also
tells the session's hook.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import date
from typing import Any

from agents.context import NeedsReview, SessionContext
from agents.executor.models import APPROVED
from core.errors import ConfigurationError
from core.orders import OrderStatus, Side
from db.models import Order
from db.order_books import OrderBooks
from tools.broker import Execution, RemembersOrders
from tools.krx.calendar import settlement_date
from tools.krx.rules import Market

log = logging.getLogger(__name__)


def fill_progress(row: Order, execution: Execution) -> tuple[OrderStatus, int, int]:
    """Where the broker's report moves an order: (status, filled shares, filled value KRW)."""
    filled = min(execution.filled_qty, row.qty)
    value = int((execution.avg_fill_price * filled).to_integral_value())
    status = row.status
    if filled >= row.qty:
        status = OrderStatus.FILLED
    elif execution.remaining_qty == 0 and (filled or execution.rejected_qty):
        status = OrderStatus.CANCELLED if filled < row.qty else OrderStatus.FILLED
    elif filled > 0:
        status = OrderStatus.PARTIALLY_FILLED
    return status, filled, value


class Books:
    """The order rows of one session's executor."""

    def __init__(self, ctx: SessionContext, thread_id: str) -> None:
        """Bind the session's database, clock, costs and needs-review hook."""
        self.ctx = ctx
        self.thread_id = thread_id
        self.store = OrderBooks(ctx.sessions)

    async def get(self, client_order_id: str) -> Order:
        """Return the row of an approved order (every approved order has one)."""
        row = await asyncio.to_thread(self.store.get, client_order_id)
        if row is None:
            raise ConfigurationError(f"approved order {client_order_id} has no row")
        return row

    async def set(self, client_order_id: str, status: OrderStatus, **fields: Any) -> Order:
        """Move a row to `status` unconditionally (the executor holds the run's lease)."""
        return await asyncio.to_thread(self.store.set, client_order_id, status, **fields)

    async def claim(self, client_order_id: str) -> tuple[bool, Order]:
        """Move an `approved` row to `submitting`; return (claimed, the row now)."""
        return await asyncio.to_thread(self.store.claim, client_order_id, self.ctx.clock.now())

    async def expire(self, client_order_id: str, reason: str) -> Order:
        """Move a row still `approved` to `expired` (it was never sent)."""
        _, row = await asyncio.to_thread(
            self.store.move, client_order_id, APPROVED, OrderStatus.EXPIRED, reason=reason
        )
        return row

    async def refuse(self, client_order_id: str, reason: str) -> Order:
        """Move a row still `approved` to `rejected` (refused before sending: never sent)."""
        _, row = await asyncio.to_thread(
            self.store.move, client_order_id, APPROVED, OrderStatus.REJECTED, reason=reason
        )
        return row

    async def accepted(self, client_order_id: str, order_no: str, branch_no: str | None) -> Order:
        """Record that the broker holds the order as `order_no` (and tell a forgetful broker)."""
        if isinstance(self.ctx.broker, RemembersOrders):
            self.ctx.broker.remember(client_order_id, order_no, branch_no or "")
        return await self.set(
            client_order_id,
            OrderStatus.SUBMITTED,
            broker_order_no=order_no,
            broker_branch_no=branch_no,
        )

    async def needs_review(self, row: Order, reason: str) -> Order:
        """Hand a row to a person: write the status and reason, then call the hook."""
        row = await self.set(row.client_order_id, OrderStatus.NEEDS_REVIEW, reason=reason)
        item = NeedsReview(
            thread_id=self.thread_id,
            client_order_id=row.client_order_id,
            ticker=row.ticker,
            reason=reason,
        )
        try:
            self.ctx.on_needs_review(item)
        except Exception:
            log.exception("the needs-review hook failed for %s", row.client_order_id)
        return row

    async def book_fill(
        self, row: Order, execution: Execution, day: date, market: Market = Market.KOSPI
    ) -> Order:
        """Store the fill increment since the last poll and the order's new totals.

        Commission and the sell tax (by settlement date and market; ETFs pay none) are our
        estimate of the broker's charges: KIS's daily executions do not itemise them. The fill
        is keyed by the cumulative quantity, so booking a report twice stores it once.
        """
        status, filled, value = fill_progress(row, execution)
        increment = filled - row.filled_qty
        fill = None
        if increment > 0:
            step_value = value - row.filled_value_krw
            tax = 0
            if row.side is Side.SELL:
                tax = self.ctx.cost_model.tax(step_value, settlement_date(day), market)
            fill = {
                "fill_key": f"{row.client_order_id}:{filled}",
                "order_id": row.id,
                "ticker": row.ticker,
                "side": row.side,
                "qty": increment,
                "price_krw": max(round(step_value / increment), 1),
                "commission_krw": self.ctx.cost_model.commission(step_value),
                "tax_krw": tax,
                "filled_at": self.ctx.clock.now(),
            }
        return await asyncio.to_thread(
            self.store.record_fill,
            row.client_order_id,
            status,
            filled_qty=filled,
            filled_value_krw=value,
            fill=fill,
        )
