"""The executor: the only code that sends orders, and it must never send one twice or lose one.

For every approved order, in order:

1. **Restore.** The orders table is the executor's memory. Broker order numbers (and KIS
   branch numbers) stored there are handed back to a broker that keeps its mapping in memory
   (`RemembersOrders`, i.e. KIS).
2. **Reconcile before sending.** An order whose row says `submitting` may or may not have
   reached the broker (the process died between the call and the answer). The day's executions
   are searched for it — by client order id where the broker knows it (paper), else by ticker,
   side, quantity and price among orders placed after ours was written and not mapped to
   another of our orders (KIS). One match: it exists, record it. Several: nothing is sent, the
   order is marked failed for a person to settle. None: the list is read again, up to
   `RECONCILE_LOOKS` times a poll interval apart (a broker's list may lag the order it just
   took); still none: it never arrived; send it.
3. **Write, then send.** The row moves to `submitting` (committed) *before* `place` is called,
   and to `submitted`/`rejected` after. `place` itself is idempotent per client order id, so
   an order whose answer was lost (`place` raised or answered UNCONFIRMED) stays `submitting`
   and `place` is asked again after each poll wait until the broker confirms or refuses it.
   One still in doubt when `fill_timeout` passes stays `submitting`, with a note to settle it.
4. **Follow fills** by polling the day's executions until every order is filled, cancelled or
   rejected, or `fill_timeout` passes; then the unfilled rest is cancelled, so nothing keeps
   working at the broker unobserved. A row becomes `cancelled` only when the broker accepted
   the cancel and its fills could be read afterwards; otherwise the row stays as it was, with
   a note. A poll that fails with a temporary error is skipped, not fatal. Fills are stored
   as increments keyed by the cumulative quantity, so polling twice (or running the node
   again) never books a fill twice.

The graph runs this node with `durability="sync"`, so the approval that led here is on disk
before the first order goes out.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Mapping
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from langgraph.runtime import Runtime
from pydantic import BaseModel

from agents.risk.models import ProposedOrder
from db.engine import transaction
from db.models import (
    TERMINAL_ORDER_STATUSES,
    Order,
    OrderSide,
    OrderStatus,
    OrderType,
)
from db.repositories import FillRepository, OrderRepository
from graphs.context import SessionContext, session_context
from graphs.state import SessionState, dump, read_approved_orders, read_context
from tools.broker import Execution, OrderAck, OrderRequest, RemembersOrders, Side
from tools.broker import OrderStatus as AckStatus
from tools.broker import OrderType as BrokerOrderType
from tools.krx.calendar import settlement_date
from tools.krx.rules import Market
from trader.clock import kst_today
from trader.errors import ConfigurationError, TemporaryError, TraderError

log = logging.getLogger(__name__)

RECONCILE_LOOKS = 3
"""How many times a `submitting` row is looked for in the broker's list before it is sent."""
IN_DOUBT_PREFIXES = ("placing failed", "unconfirmed")
RECONCILE_WINDOW = timedelta(seconds=5)
"""A broker order placed this long before our row was written can still be ours (clock skew)."""
SENT_STATUSES = frozenset({OrderStatus.SUBMITTED, OrderStatus.PARTIALLY_FILLED})
OPEN_STATUSES = SENT_STATUSES | {OrderStatus.SUBMITTING}
"""Orders the executor still follows: working at the broker, or in doubt."""


class OrderOutcome(BaseModel):
    """Where one approved order ended."""

    client_order_id: str
    ticker: str
    side: OrderSide
    qty: int
    order_type: OrderType
    limit_price_krw: int | None
    status: OrderStatus
    broker_order_id: str | None = None
    filled_qty: int = 0
    filled_value_krw: int = 0
    note: str = ""


def _request(order: ProposedOrder) -> OrderRequest:
    return OrderRequest(
        client_order_id=order.client_order_id,
        ticker=order.ticker,
        side=Side(order.side.value),
        qty=order.qty,
        order_type=BrokerOrderType(order.order_type.value),
        limit_price=order.limit_price_krw,
    )


class _Books:
    """The executor's reads and writes of the orders and fills tables, one transaction each.

    Synchronous (the database driver is); the executor calls them through `asyncio.to_thread`.
    """

    def __init__(self, ctx: SessionContext) -> None:
        self.ctx = ctx

    def get(self, client_order_id: str) -> Order:
        with transaction(self.ctx.sessions) as session:
            row = OrderRepository(session).get(client_order_id)
            if row is None:
                raise ConfigurationError(f"approved order {client_order_id} has no row")
            return row

    def set(self, client_order_id: str, status: OrderStatus, **fields: Any) -> Order:
        with transaction(self.ctx.sessions) as session:
            repo = OrderRepository(session)
            repo.set_status(client_order_id, status, **fields)
            return _must(repo.get(client_order_id), client_order_id)

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
                if row.side is OrderSide.SELL:
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
            return _must(repo.get(row.client_order_id), row.client_order_id)


def _must(row: Order | None, client_order_id: str) -> Order:
    if row is None:  # the row was written in this transaction; only a bug gets here
        raise RuntimeError(f"order {client_order_id} vanished from the orders table")
    return row


def _find_at_broker(
    row: Order, executions: list[Execution], mapped: set[str]
) -> Execution | str | None:
    """Return the broker's order for a row in doubt, None if absent, "ambiguous" if unclear."""
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
        and e.side.value == row.side.value
        and e.ordered_qty == row.qty
        and (row.limit_price_krw is None or e.limit_price == row.limit_price_krw)
        and e.ordered_at >= since
    ]
    if len(candidates) > 1:
        return "ambiguous"
    return candidates[0] if candidates else None


class Executor:
    """One pass of the executor over a session's approved orders."""

    def __init__(
        self, ctx: SessionContext, day: date, markets: Mapping[str, Market] | None = None
    ) -> None:
        self.ctx = ctx
        self.day = day
        self.markets = dict(markets or {})
        """Each ticker's market (for the sell tax: ETFs pay none); KOSPI when unknown."""
        self.books = _Books(ctx)

    async def run(self, orders: list[ProposedOrder]) -> list[OrderOutcome]:
        """Restore, reconcile, send what was never sent, follow fills; return the outcomes."""
        rows = {
            o.client_order_id: await asyncio.to_thread(self.books.get, o.client_order_id)
            for o in orders
        }
        self._restore(rows)
        notes: dict[str, str] = {}
        if any(r.status is OrderStatus.SUBMITTING for r in rows.values()):
            await self._reconcile(rows, notes)
        for order in orders:
            row = rows[order.client_order_id]
            if row.status in TERMINAL_ORDER_STATUSES or row.status in SENT_STATUSES:
                continue
            rows[order.client_order_id] = await self._send(order, row, notes)
        await self._follow(orders, rows, notes)
        return [self._outcome(order, rows[order.client_order_id], notes) for order in orders]

    def _restore(self, rows: dict[str, Order]) -> None:
        broker = self.ctx.broker
        if not isinstance(broker, RemembersOrders):
            return
        for row in rows.values():
            if row.broker_order_no:
                broker.remember(
                    row.client_order_id, row.broker_order_no, row.broker_branch_no or ""
                )

    async def _reconcile(self, rows: dict[str, Order], notes: dict[str, str]) -> None:
        """Settle every `submitting` row against the broker's list before anything is sent.

        A row not found is looked for again (`RECONCILE_LOOKS` times, `fill_poll_interval_s`
        apart), because a broker's list of the day may lag the order it just took (KIS says
        so); only then is it left for sending.
        """
        for look in range(RECONCILE_LOOKS):
            pending = [cid for cid, r in rows.items() if r.status is OrderStatus.SUBMITTING]
            if not pending:
                return
            if look:
                await self.ctx.sleep(self.ctx.fill_poll_interval_s)
            executions = await self.ctx.broker.executions(self.day)
            mapped = {r.broker_order_no for r in rows.values() if r.broker_order_no}
            for cid in pending:
                found = _find_at_broker(rows[cid], executions, mapped)
                if found == "ambiguous":
                    rows[cid] = await asyncio.to_thread(
                        self.books.set,
                        cid,
                        OrderStatus.FAILED,
                        reason="several broker orders match this one; settle it by hand",
                    )
                elif isinstance(found, Execution):
                    log.info("order %s was already at the broker as %s", cid, found.broker_order_id)
                    notes[cid] = "recovered after a restart"
                    mapped.add(found.broker_order_id)
                    rows[cid] = await self._accepted(
                        cid, found.broker_order_id, found.broker_branch_no
                    )

    async def _accepted(self, cid: str, order_no: str, branch_no: str | None) -> Order:
        """Record that the broker holds `cid` as `order_no` (and tell a forgetful broker)."""
        if isinstance(self.ctx.broker, RemembersOrders):
            self.ctx.broker.remember(cid, order_no, branch_no or "")
        return await asyncio.to_thread(
            self.books.set,
            cid,
            OrderStatus.SUBMITTED,
            broker_order_no=order_no,
            broker_branch_no=branch_no,
        )

    async def _send(self, order: ProposedOrder, row: Order, notes: dict[str, str]) -> Order:
        cid = order.client_order_id
        row = await asyncio.to_thread(
            self.books.set, cid, OrderStatus.SUBMITTING, submitted_at=self.ctx.clock.now()
        )
        return await self._place(order, row, notes)

    async def _place(self, order: ProposedOrder, row: Order, notes: dict[str, str]) -> Order:
        """Call `place` for a row already `submitting`; record what the broker answered."""
        cid = order.client_order_id
        try:
            ack: OrderAck = await self.ctx.broker.place(_request(order))
        except TraderError as exc:
            # Whether it reached the broker is unknown: the row stays `submitting`; `place`
            # is asked again while fills are followed (it is idempotent per client order id),
            # and a restart reconciles before anything is sent again.
            log.warning("placing %s failed: %s", cid, exc)
            notes[cid] = f"placing failed, in doubt: {exc}"
            return row
        if ack.status is AckStatus.ACCEPTED and ack.broker_order_id:
            if ack.recovered:
                notes[cid] = "answer lost; found at the broker"
            elif notes.get(cid, "").startswith(IN_DOUBT_PREFIXES):
                notes[cid] = "answer lost; confirmed by asking again"
            return await asyncio.to_thread(
                self.books.set,
                cid,
                OrderStatus.SUBMITTED,
                broker_order_no=ack.broker_order_id,
                broker_branch_no=ack.broker_branch_no,
            )
        if ack.status is AckStatus.REJECTED:
            notes.pop(cid, None)
            return await asyncio.to_thread(
                self.books.set,
                cid,
                OrderStatus.REJECTED,
                error_code=ack.reason_code,
                reason=ack.reason,
            )
        notes[cid] = f"unconfirmed, in doubt: {ack.reason or ack.reason_code}"
        return row

    async def _follow(
        self, orders: list[ProposedOrder], rows: dict[str, Order], notes: dict[str, str]
    ) -> None:
        """Poll fills until nothing is working; on timeout cancel what still works.

        Orders in doubt (`place` failed or answered UNCONFIRMED) are asked for again after each
        wait, so an order the broker did take is followed like the others.
        """
        polls = max(
            1, math.ceil(self.ctx.fill_timeout.total_seconds() / self.ctx.fill_poll_interval_s)
        )
        by_id = {o.client_order_id: o for o in orders}
        for poll in range(polls + 1):
            if poll:
                await self.ctx.sleep(self.ctx.fill_poll_interval_s)
                for cid, row in list(rows.items()):
                    if row.status is OrderStatus.SUBMITTING and cid in by_id:
                        rows[cid] = await self._place(by_id[cid], row, notes)
            if not any(r.status in OPEN_STATUSES for r in rows.values()):
                return
            await self._poll(rows)
            if not any(r.status in OPEN_STATUSES for r in rows.values()):
                return
        cancels: dict[str, AckStatus | None] = {}
        for row in [r for r in rows.values() if r.status in SENT_STATUSES]:
            cid = row.client_order_id
            try:
                ack = await self.ctx.broker.cancel(cid)
            except TraderError as exc:
                log.warning("cancelling %s failed: %s", cid, exc)
                cancels[cid] = None
                notes[cid] = f"unfilled after {self.ctx.fill_timeout}; cancel failed: {exc}"
                continue
            cancels[cid] = ack.status
            notes[cid] = f"unfilled after {self.ctx.fill_timeout}; cancel {ack.status.value}"
        seen = await self._poll(rows) if cancels else True
        for cid, row in list(rows.items()):
            if row.status in SENT_STATUSES and cancels.get(cid) is AckStatus.ACCEPTED and seen:
                rows[cid] = await asyncio.to_thread(
                    self.books.set, cid, OrderStatus.CANCELLED, reason=notes.get(cid)
                )
            elif row.status in SENT_STATUSES:
                notes[cid] = notes.get(cid, "") + "; may still be working at the broker"
            elif row.status is OrderStatus.SUBMITTING:
                notes[cid] = (
                    notes.get(cid, "in doubt")
                    + f"; not confirmed after {self.ctx.fill_timeout}: reconcile by hand"
                )

    async def _poll(self, rows: dict[str, Order]) -> bool:
        """Book what the broker reports; False when it could not be asked this time."""
        try:
            executions = await self.ctx.broker.executions(self.day)
        except TemporaryError as exc:
            log.warning("could not read the day's executions: %s", exc)
            return False
        by_order_no = {e.broker_order_id: e for e in executions}
        for cid, row in list(rows.items()):
            if row.status not in SENT_STATUSES or row.broker_order_no is None:
                continue
            execution = by_order_no.get(row.broker_order_no)
            if execution is not None:
                market = self.markets.get(row.ticker, Market.KOSPI)
                rows[cid] = await asyncio.to_thread(
                    self.books.book_fill, row, execution, self.day, market
                )
        return True

    @staticmethod
    def _outcome(order: ProposedOrder, row: Order, notes: dict[str, str]) -> OrderOutcome:
        return OrderOutcome(
            client_order_id=order.client_order_id,
            ticker=row.ticker,
            side=row.side,
            qty=row.qty,
            order_type=row.order_type,
            limit_price_krw=row.limit_price_krw,
            status=row.status,
            broker_order_id=row.broker_order_no,
            filled_qty=row.filled_qty,
            filled_value_krw=row.filled_value_krw,
            # The row's reason is often the note itself (a cancel on timeout): say it once.
            note="; ".join(
                dict.fromkeys(p for p in (notes.get(order.client_order_id), row.reason) if p)
            )
            if row.status is not OrderStatus.FILLED
            else notes.get(order.client_order_id, ""),
        )


async def executor(state: SessionState, runtime: Runtime[Any]) -> dict[str, Any]:
    """Send the approved orders (reconciling first) and follow their fills."""
    ctx = await session_context(runtime)
    if not ctx.persist:
        raise ConfigurationError("the executor needs the database (persist=True)")
    data = read_context(state)
    markets = {t: snapshot.market for t, snapshot in data.market.items()}
    # Orders reach the broker today, whatever date the session analysed: the broker's day
    # (its executions list, the tax's settlement date) is the clock's KRX date.
    today = kst_today(ctx.clock)
    outcomes = await Executor(ctx, today, markets).run(read_approved_orders(state))
    return {"executions": [dump(o) for o in outcomes], "status": "done"}


def average_price(outcome: OrderOutcome) -> Decimal | None:
    """The average fill price of an outcome, or None before any fill."""
    if outcome.filled_qty == 0:
        return None
    return Decimal(outcome.filled_value_krw) / outcome.filled_qty
