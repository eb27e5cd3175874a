"""The executor: the only code that sends orders, and it must never send one twice or lose one.

Its rules, in the order a pass applies them:

1. **One executor per session.** Before it reads or sends anything it takes the run's executor
   lease by compare-and-set in the database (`agents.executor_lease`), renews it before each
   order and each poll, and frees it at the end. A second executor on the same session (two
   approvals at once, a re-triggered run while this one follows fills) raises
   `ExecutorBusyError` and sends nothing. On top of that an order row moves to `submitting`
   only from `approved` (compare-and-set), and `place` is called only for a row this executor
   moved: whatever runs, an approved order is handed to the broker at most once.
2. **Restore.** The orders table is the executor's memory. Broker order numbers (and KIS
   branch numbers) stored there are handed back to a broker that keeps its mapping in memory
   (`RemembersOrders`, i.e. KIS).
3. **Only on the session's day, only before the approval expires.** An approval is for one KRX
   day and until `expires_at` (the approval request in state). Resumed later (a crash, a
   `trader session resume` the next morning), the executor sends nothing: approved orders not
   yet sent become `expired` with the reason. Orders left working on an earlier day are
   settled against *that* day's executions (`broker.executions(session_date)`): their fills are
   booked; an unfilled rest lapsed at that day's close (`expired`, fills kept); a row still in
   doubt, or whose order the list does not show, goes to a person (`needs_review`).
4. **Write, then send, never resend.** A row moves to `submitting` (committed) *before* `place`
   is called, and to `submitted`/`rejected` after. An order whose answer was lost (`place`
   raised or answered UNCONFIRMED), and any row found `submitting` after a restart (did `place`
   run? nobody knows), may be at the broker: it is never sent again, by this executor or
   by the broker client. It stays in doubt and is looked for in the broker's list of the day
   at every poll for the whole follow window (`fill_timeout`), because that list can lag the
   order by seconds: by client order id where the broker knows it (paper), else by ticker,
   side, quantity and price among orders placed after our row was written and not mapped to
   another of our orders (KIS). Found: it is followed like the others. Several candidates, or
   still not found when the window ends: `needs_review`, with the reason on the row, and
   `SessionContext.on_needs_review` is told.
5. **Follow fills** by polling the day's executions until every order is filled, cancelled or
   rejected, or `fill_timeout` passes; then the unfilled rest is cancelled, so nothing keeps
   working at the broker unobserved. A row becomes `cancelled` only when the broker accepted
   the cancel and its fills could be read afterwards; otherwise it may still be working and
   nobody follows it any more, so it goes to a person (`needs_review`, the reason on the row).
   A poll that fails with a temporary error is skipped, not fatal. Fills are stored
   as increments keyed by the cumulative quantity, so polling twice (or running the node
   again) never books a fill twice.

The approval that led here is on disk before the first order goes out, whatever durability
the caller resumed with: `review` commits the decisions to our database first, and a re-run
after a crash carries out what is recorded (`graphs.nodes.approval`).
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from langgraph.runtime import Runtime
from pydantic import BaseModel

from agents.context import NeedsReview, SessionContext, session_context
from agents.executor_books import AMBIGUOUS, Books, find_at_broker
from agents.executor_lease import ExecutorLease
from agents.risk.models import ProposedOrder
from agents.state import (
    ApprovalRequest,
    SessionState,
    SessionStatus,
    dump,
    read_approved_orders,
    read_context,
)
from core.clock import kst_today
from core.errors import ConfigurationError, TemporaryError, TraderError
from core.orders import OrderStatus, OrderType, PlacementStatus, Side
from db.models import Order
from tools.broker import Execution, OrderAck, OrderRequest, RemembersOrders
from tools.krx.rules import Market

log = logging.getLogger(__name__)

IN_DOUBT = "in doubt"
"""How a note about an order whose answer was lost starts."""
SENT_STATUSES = frozenset({OrderStatus.SUBMITTED, OrderStatus.PARTIALLY_FILLED})
OPEN_STATUSES = SENT_STATUSES | {OrderStatus.SUBMITTING}
"""Orders the executor still follows: working at the broker, or in doubt."""
APPROVED = frozenset({OrderStatus.APPROVED})


@dataclass(frozen=True)
class Mandate:
    """What the approval allows: whose orders, on which KRX day, until when."""

    run_id: int
    thread_id: str
    session_date: date
    """The KRX day the orders were approved for; nothing is sent on another day."""
    expires_at: datetime | None = None
    """The approval's expiry (the approval request's `expires_at`); None: no expiry."""


class OrderOutcome(BaseModel):
    """Where one approved order ended."""

    client_order_id: str
    ticker: str
    side: Side
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
        side=order.side,
        qty=order.qty,
        order_type=order.order_type,
        limit_price=order.limit_price_krw,
    )


class Executor:
    """One pass of the executor over a session's approved orders."""

    def __init__(
        self,
        ctx: SessionContext,
        mandate: Mandate,
        markets: Mapping[str, Market] | None = None,
        *,
        holder: str | None = None,
    ) -> None:
        """Bind the context and the approval's mandate.

        Args:
            ctx: the session's dependencies (broker, database, clock, follow window, hooks).
            mandate: the run, its KRX day and the approval's expiry.
            markets: each ticker's market (for the sell tax: ETFs pay none); KOSPI when unknown.
            holder: the lease holder name (default: host, pid and a nonce).
        """
        self.ctx = ctx
        self.mandate = mandate
        self.day = mandate.session_date
        """The broker's day for this session: its executions list and the tax's settlement."""
        self.markets = dict(markets or {})
        self.books = Books(ctx)
        self.lease = ExecutorLease(ctx, mandate.run_id, mandate.thread_id, holder)

    async def run(self, orders: list[ProposedOrder]) -> list[OrderOutcome]:
        """Take the lease; restore, settle, send what may be sent, follow fills; the outcomes.

        Raises:
            ExecutorBusyError: another executor holds (or took over) this session's lease.
        """
        async with self.lease:
            rows = {
                o.client_order_id: await asyncio.to_thread(self.books.get, o.client_order_id)
                for o in orders
            }
            self._restore(rows)
            notes: dict[str, str] = {}
            if kst_today(self.ctx.clock) != self.day:
                await self._settle_earlier_day(rows, notes)
            else:
                await self._trade(orders, rows, notes)
            return [self._outcome(order, rows[order.client_order_id], notes) for order in orders]

    async def _trade(
        self, orders: list[ProposedOrder], rows: dict[str, Order], notes: dict[str, str]
    ) -> None:
        """The session's own day: settle what is in doubt, send the rest, follow fills."""
        to_send = [o for o in orders if rows[o.client_order_id].status is OrderStatus.APPROVED]
        if to_send and any(r.status is OrderStatus.SUBMITTING for r in rows.values()):
            # Match the rows in doubt before new orders join the list (they could look alike).
            await self._poll(rows, notes)
        for order in to_send:
            cid = order.client_order_id
            stop = self._why_not_send()
            if stop is not None:
                rows[cid] = await self._expire(cid, stop)
                continue
            await self.lease.renew()
            rows[cid] = await self._send(order, notes)
        await self._follow(rows, notes)

    def _why_not_send(self) -> str | None:
        """Why nothing more may be sent now (another day, the approval expired), or None."""
        today = kst_today(self.ctx.clock)
        if today != self.day:
            return (
                f"not sent: approved for the KRX session of {self.day.isoformat()}, "
                f"resumed on {today.isoformat()}"
            )
        expires = self.mandate.expires_at
        if expires is not None and self.ctx.clock.now() > expires:
            return f"not sent: the approval expired at {expires.isoformat(timespec='seconds')}"
        return None

    async def _expire(self, cid: str, reason: str) -> Order:
        _, row = await asyncio.to_thread(
            self.books.move, cid, APPROVED, OrderStatus.EXPIRED, reason=reason
        )
        return row

    def _restore(self, rows: dict[str, Order]) -> None:
        broker = self.ctx.broker
        if not isinstance(broker, RemembersOrders):
            return
        for row in rows.values():
            if row.broker_order_no:
                broker.remember(
                    row.client_order_id, row.broker_order_no, row.broker_branch_no or ""
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

    async def _needs_review(self, row: Order, reason: str) -> Order:
        """Hand a row to a person: write the status and reason, then call the hook."""
        row = await asyncio.to_thread(
            self.books.set, row.client_order_id, OrderStatus.NEEDS_REVIEW, reason=reason
        )
        item = NeedsReview(
            thread_id=self.mandate.thread_id,
            client_order_id=row.client_order_id,
            ticker=row.ticker,
            reason=reason,
        )
        try:
            self.ctx.on_needs_review(item)
        except Exception:
            log.exception("the needs-review hook failed for %s", row.client_order_id)
        return row

    async def _send(self, order: ProposedOrder, notes: dict[str, str]) -> Order:
        """Claim the row (`approved` -> `submitting`), then call `place` once."""
        cid = order.client_order_id
        claimed, row = await asyncio.to_thread(self.books.claim, cid)
        if not claimed:
            # Another executor, or another decision, moved the row first: not ours to send.
            notes[cid] = f"not sent: its row was already {row.status.value}"
            return row
        try:
            ack: OrderAck = await self.ctx.broker.place(_request(order))
        except TraderError as exc:
            # Whether it reached the broker is unknown: it stays `submitting`, is never sent
            # again, and is looked for in the broker's list while fills are followed.
            log.warning("placing %s failed: %s", cid, exc)
            notes[cid] = f"{IN_DOUBT}: placing failed ({exc})"
            return row
        if ack.status is PlacementStatus.ACCEPTED and ack.broker_order_id:
            if ack.recovered:
                notes[cid] = "answer lost; found at the broker"
            return await asyncio.to_thread(
                self.books.set,
                cid,
                OrderStatus.SUBMITTED,
                broker_order_no=ack.broker_order_id,
                broker_branch_no=ack.broker_branch_no,
            )
        if ack.status is PlacementStatus.REJECTED:
            return await asyncio.to_thread(
                self.books.set,
                cid,
                OrderStatus.REJECTED,
                error_code=ack.reason_code,
                reason=ack.reason,
            )
        notes[cid] = f"{IN_DOUBT}: unconfirmed ({ack.reason or ack.reason_code})"
        return row

    async def _follow(self, rows: dict[str, Order], notes: dict[str, str]) -> None:
        """Poll until nothing is open; at the timeout cancel what works, hand doubts over."""
        polls = max(
            1, math.ceil(self.ctx.fill_timeout.total_seconds() / self.ctx.fill_poll_interval_s)
        )
        for poll in range(polls + 1):
            if poll:
                await self.ctx.sleep(self.ctx.fill_poll_interval_s)
            if not any(r.status in OPEN_STATUSES for r in rows.values()):
                return
            await self.lease.renew()
            await self._poll(rows, notes)
            if not any(r.status in OPEN_STATUSES for r in rows.values()):
                return
        await self._cancel_the_rest(rows, notes)
        for cid, row in list(rows.items()):
            if row.status is OrderStatus.SUBMITTING:
                why = notes.get(cid, f"{IN_DOUBT}: its row was left submitting")
                rows[cid] = await self._needs_review(
                    row,
                    f"{why}; not found in the broker's list of {self.day.isoformat()} within "
                    f"{self.ctx.fill_timeout}; never sent again: check the broker's orders",
                )

    async def _cancel_the_rest(self, rows: dict[str, Order], notes: dict[str, str]) -> None:
        """Cancel the unfilled rest of every working order (the follow window is over)."""
        cancels: dict[str, PlacementStatus | None] = {}
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
        seen = await self._poll(rows, notes) if cancels else True
        for cid, row in list(rows.items()):
            if (
                row.status in SENT_STATUSES
                and cancels.get(cid) is PlacementStatus.ACCEPTED
                and seen
            ):
                rows[cid] = await asyncio.to_thread(
                    self.books.set, cid, OrderStatus.CANCELLED, reason=notes.get(cid)
                )
            elif row.status in SENT_STATUSES:
                # The cancel was refused, failed or not seen through: whether the rest still
                # works at the broker is unknown, and nobody follows it after this pass.
                rows[cid] = await self._needs_review(
                    row,
                    notes.get(cid, "")
                    + "; may still be working at the broker: check it and cancel it there",
                )

    async def _read(self) -> list[Execution] | None:
        """The session day's executions; None when the broker could not be asked this time."""
        try:
            return await self.ctx.broker.executions(self.day)
        except TemporaryError as exc:
            log.warning("could not read the executions of %s: %s", self.day, exc)
            return None

    async def _poll(self, rows: dict[str, Order], notes: dict[str, str]) -> bool:
        """Look for the rows in doubt and book what the broker reports; False if unreadable."""
        executions = await self._read()
        if executions is None:
            return False
        await self._settle(rows, notes, executions)
        return True

    async def _settle(
        self, rows: dict[str, Order], notes: dict[str, str], executions: list[Execution]
    ) -> None:
        """Match rows in doubt against `executions`, then book the fills of the sent ones."""
        mapped = {r.broker_order_no for r in rows.values() if r.broker_order_no}
        for cid, row in list(rows.items()):
            if row.status is not OrderStatus.SUBMITTING:
                continue
            found = find_at_broker(row, executions, mapped)
            if found == AMBIGUOUS:
                rows[cid] = await self._needs_review(
                    row,
                    "several broker orders match this one and none is known to be ours; "
                    "nothing was sent again: check the broker's orders",
                )
            elif isinstance(found, Execution):
                log.info("order %s is at the broker as %s", cid, found.broker_order_id)
                lost = notes.get(cid, "").startswith(IN_DOUBT)
                notes[cid] = (
                    "answer lost; found in the broker's list"
                    if lost
                    else "recovered after a restart"
                )
                mapped.add(found.broker_order_id)
                rows[cid] = await self._accepted(cid, found.broker_order_id, found.broker_branch_no)
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

    async def _settle_earlier_day(self, rows: dict[str, Order], notes: dict[str, str]) -> None:
        """Resumed after the session's day: send nothing; settle that day's orders from its list.

        KRX orders are day orders, so whatever the list shows unfilled lapsed at that close.
        """
        day = self.day.isoformat()
        for cid, row in list(rows.items()):
            if row.status is OrderStatus.APPROVED:
                rows[cid] = await self._expire(cid, self._why_not_send() or "not sent")
        if not any(r.status in OPEN_STATUSES for r in rows.values()):
            return
        executions = await self._read()
        if executions is None:
            for cid, row in list(rows.items()):
                if row.status in OPEN_STATUSES:
                    rows[cid] = await self._needs_review(
                        row, f"left {row.status.value} on {day}; its executions could not be read"
                    )
            return
        await self._settle(rows, notes, executions)
        listed = {e.broker_order_id for e in executions}
        for cid, row in list(rows.items()):
            if row.status is OrderStatus.SUBMITTING:
                rows[cid] = await self._needs_review(
                    row,
                    f"left in doubt on {day} and not in the broker's list of that day; "
                    "never sent: check the broker's orders",
                )
            elif row.status in SENT_STATUSES and row.broker_order_no not in listed:
                rows[cid] = await self._needs_review(
                    row,
                    f"sent on {day} as {row.broker_order_no}, but the broker's list of that "
                    "day does not show it: check its fills at the broker",
                )
            elif row.status in SENT_STATUSES:
                rest = row.qty - row.filled_qty
                rows[cid] = await asyncio.to_thread(
                    self.books.set,
                    cid,
                    OrderStatus.EXPIRED,
                    reason=f"the unfilled rest ({rest} shares) lapsed at the close of {day}",
                )

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


def mandate_for(state: SessionState) -> Mandate:
    """The executor's mandate from state: the run, the session's day, the approval's expiry."""
    data = read_context(state)
    raw = state.get("approval_request")
    expires = (
        datetime.fromisoformat(ApprovalRequest.model_validate(raw).expires_at) if raw else None
    )
    return Mandate(
        run_id=data.run_id,
        thread_id=data.thread_id,
        session_date=data.session_date,
        expires_at=expires,
    )


async def executor(state: SessionState, runtime: Runtime[Any]) -> dict[str, Any]:
    """Send the approved orders (on the session's day, before the expiry) and follow fills."""
    ctx = await session_context(runtime)
    if not ctx.persist:
        raise ConfigurationError("the executor needs the database (persist=True)")
    data = read_context(state)
    markets = {t: snapshot.market for t, snapshot in data.market.items()}
    executor = Executor(ctx, mandate_for(state), markets, holder=ctx.lease_holder)
    outcomes = await executor.run(read_approved_orders(state))
    return {"executions": [dump(o) for o in outcomes], "status": SessionStatus.DONE.value}


def average_price(outcome: OrderOutcome) -> Decimal | None:
    """The average fill price of an outcome, or None before any fill."""
    if outcome.filled_qty == 0:
        return None
    return Decimal(outcome.filled_value_krw) / outcome.filled_qty
