"""One executor pass: restore, send what may be sent (once), follow fills, close the rest.

The order state machine (see the package docstring for its rules): `approved` ->
`submitting` (claimed by compare-and-set, then `place` is called once) -> `submitted` or
`rejected` or in doubt; followed by polling until filled, cancelled or rejected; at the end of
the follow window the unfilled rest is cancelled, and whatever cannot be settled goes to a
person (`needs_review`).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from datetime import datetime

from agents.context import SessionContext
from agents.executor.books import Books
from agents.executor.lease import ExecutorLease
from agents.executor.models import (
    APPROVED,
    IN_DOUBT,
    OPEN_STATUSES,
    OUTSIDE_ORDER_HOURS,
    SENT_STATUSES,
    SUBMITTING,
    Doubt,
    Ledger,
    Mandate,
    OrderOutcome,
    ProgressReport,
    outcome_of,
    progress_of,
)
from agents.executor.reconcile import Reconciler
from agents.risk.models import ProposedOrder
from core.clock import KST, kst_today
from core.errors import TraderError
from core.orders import OrderStatus, PlacementStatus
from db.models import Order
from tools.broker import OrderAck, OrderRequest, RemembersOrders
from tools.krx.rules import Market

log = logging.getLogger(__name__)


def _kst(moment: datetime) -> str:
    return moment.astimezone(KST).strftime("%Y-%m-%d %H:%M KST")


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
        report: ProgressReport | None = None,
    ) -> None:
        """Bind the context and the approval's mandate.

        Args:
            ctx: the session's dependencies (broker, database, clock, follow window, hooks).
            mandate: the run, its KRX day and the approval's expiry.
            markets: each ticker's market (for the sell tax: ETFs pay none); KOSPI when unknown.
            holder: the lease holder name (default: host, pid and a nonce).
            report: told the pass's progress after each order sent and each poll; a report
                that fails is logged and ignored.
        """
        self.ctx = ctx
        self.mandate = mandate
        self.day = mandate.session_date
        """The broker's day for this session: its executions list and the tax's settlement."""
        self.books = Books(ctx, mandate.thread_id)
        self.reconciler = Reconciler(ctx, self.books, self.day, dict(markets or {}))
        self.lease = ExecutorLease(ctx, mandate.run_id, mandate.thread_id, holder)
        self.report = report

    def _report(self, ledger: Ledger) -> None:
        if self.report is None:
            return
        try:
            self.report(progress_of(ledger))
        except Exception:  # a progress line never stops trading
            log.warning("the progress report failed", exc_info=True)

    async def run(self, orders: list[ProposedOrder]) -> list[OrderOutcome]:
        """Take the lease; restore, settle, send what may be sent, follow fills; the outcomes.

        Raises:
            ExecutorBusyError: another executor holds (or took over) this session's lease.
        """
        async with self.lease:
            ledger = Ledger(
                {o.client_order_id: await self.books.get(o.client_order_id) for o in orders}
            )
            self._restore(ledger.rows)
            if kst_today(self.ctx.clock) != self.day:
                await self._settle_earlier_day(ledger)
            else:
                await self._trade(orders, ledger)
            return [outcome_of(ledger.rows[o.client_order_id], ledger) for o in orders]

    async def _trade(self, orders: list[ProposedOrder], ledger: Ledger) -> None:
        """The session's own day: settle what is in doubt, send the rest, follow fills."""
        rows = ledger.rows
        to_send = [o for o in orders if rows[o.client_order_id].status is OrderStatus.APPROVED]
        if to_send and ledger.any_in(SUBMITTING):
            # Match the rows in doubt before new orders join the list (they could look alike).
            await self.reconciler.poll(ledger)
        for order in to_send:
            cid = order.client_order_id
            stop = self._why_not_send()
            if stop is not None:
                rows[cid] = await self.books.expire(cid, stop)
                continue
            refused = await self._await_order_window()
            if refused is not None:
                rows[cid] = await self.books.refuse(cid, refused)
                continue
            await self.lease.renew()
            rows[cid] = await self._send(order, ledger)
            self._report(ledger)
        await self._follow(ledger)

    async def _settle_earlier_day(self, ledger: Ledger) -> None:
        """Resumed after the session's day: send nothing; settle that day's orders from its list."""
        for row in ledger.in_status(APPROVED):
            cid = row.client_order_id
            ledger.rows[cid] = await self.books.expire(cid, self._why_not_send() or "not sent")
        await self.reconciler.settle_earlier_day(ledger)

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

    async def _await_order_window(self) -> str | None:
        """Wait for the venue to take orders if it soon will; why the order is refused, or None.

        The wait (holding the lease on) happens only when the venue's next window opens on the
        session's day, before the approval expires and within `SessionContext.order_window_wait`:
        a pre-open run approved at 08:10 is sent when KIS starts receiving orders at 08:30.
        Otherwise the order is refused for its time and never sent.
        """
        hours, clock = self.ctx.venue_hours, self.ctx.clock
        now = clock.now()
        if hours.accepts_orders(now):
            return None
        opens = hours.next_order_window(now)
        expires = self.mandate.expires_at
        at = (
            f"{OUTSIDE_ORDER_HOURS} ({hours.order_hours(self.day)}): "
            f"the venue took no orders at {_kst(now)}"
        )
        if opens is None:
            return at
        if opens.astimezone(KST).date() != self.day:
            return f"{at}, and takes none again on {self.day.isoformat()}"
        if expires is not None and opens >= expires:
            return f"{at}; it opens at {_kst(opens)}, after the approval expires ({_kst(expires)})"
        if opens - now > self.ctx.order_window_wait:
            return f"{at}; it opens at {_kst(opens)}, past the wait of {self.ctx.order_window_wait}"
        step = max(1.0, self.ctx.executor_lease_ttl.total_seconds() / 3)
        while (left := (opens - clock.now()).total_seconds()) > 0:
            await self.ctx.sleep(min(left, step))
            await self.lease.renew()
        return None if hours.accepts_orders(clock.now()) else at

    def _restore(self, rows: dict[str, Order]) -> None:
        broker = self.ctx.broker
        if not isinstance(broker, RemembersOrders):
            return
        for row in rows.values():
            if row.broker_order_no:
                broker.remember(
                    row.client_order_id, row.broker_order_no, row.broker_branch_no or ""
                )

    async def _send(self, order: ProposedOrder, ledger: Ledger) -> Order:
        """Claim the row (`approved` -> `submitting`), then call `place` once."""
        cid = order.client_order_id
        claimed, row = await self.books.claim(cid)
        if not claimed:
            # Another executor, or another decision, moved the row first: not ours to send.
            ledger.notes[cid] = f"not sent: its row was already {row.status.value}"
            return row
        try:
            ack: OrderAck = await self.ctx.broker.place(_request(order))
        except TraderError as exc:
            # Whether it reached the broker is unknown: it stays `submitting`, is never sent
            # again, and is looked for in the broker's list while fills are followed.
            log.warning("placing %s failed: %s", cid, exc)
            ledger.doubts[cid] = Doubt.PLACE_FAILED
            ledger.notes[cid] = f"{IN_DOUBT}: placing failed ({exc})"
            return row
        if ack.status is PlacementStatus.ACCEPTED and ack.broker_order_id:
            if ack.recovered:
                ledger.notes[cid] = "answer lost; found at the broker"
            return await self.books.set(
                cid,
                OrderStatus.SUBMITTED,
                broker_order_no=ack.broker_order_id,
                broker_branch_no=ack.broker_branch_no,
            )
        if ack.status is PlacementStatus.REJECTED:
            return await self.books.set(
                cid, OrderStatus.REJECTED, error_code=ack.reason_code, reason=ack.reason
            )
        ledger.doubts[cid] = Doubt.UNCONFIRMED
        ledger.notes[cid] = f"{IN_DOUBT}: unconfirmed ({ack.reason or ack.reason_code})"
        return row

    async def _follow(self, ledger: Ledger) -> None:
        """Poll until nothing is open; at the timeout cancel what works, hand doubts over."""
        polls = max(
            1, math.ceil(self.ctx.fill_timeout.total_seconds() / self.ctx.fill_poll_interval_s)
        )
        for poll in range(polls + 1):
            if poll:
                await self.ctx.sleep(self.ctx.fill_poll_interval_s)
            if not ledger.any_in(OPEN_STATUSES):
                return
            await self.lease.renew()
            await self.reconciler.poll(ledger)
            self._report(ledger)
            if not ledger.any_in(OPEN_STATUSES):
                return
        await self._cancel_the_rest(ledger)
        for row in ledger.in_status(SUBMITTING):
            cid = row.client_order_id
            why = ledger.notes.get(cid, f"{IN_DOUBT}: its row was left submitting")
            ledger.rows[cid] = await self.books.needs_review(
                row,
                f"{why}; not found in the broker's list of {self.day.isoformat()} within "
                f"{self.ctx.fill_timeout}; never sent again: check the broker's orders",
            )

    async def _cancel_the_rest(self, ledger: Ledger) -> None:
        """Cancel the unfilled rest of every working order (the follow window is over)."""
        notes = ledger.notes
        cancels: dict[str, PlacementStatus | None] = {}
        for row in ledger.in_status(SENT_STATUSES):
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
        seen = await self.reconciler.poll(ledger) if cancels else True
        for row in ledger.in_status(SENT_STATUSES):
            cid = row.client_order_id
            if cancels.get(cid) is PlacementStatus.ACCEPTED and seen:
                ledger.rows[cid] = await self.books.set(
                    cid, OrderStatus.CANCELLED, reason=notes.get(cid)
                )
            else:
                # The cancel was refused, failed or not seen through: whether the rest still
                # works at the broker is unknown, and nobody follows it after this pass.
                ledger.rows[cid] = await self.books.needs_review(
                    row,
                    notes.get(cid, "")
                    + "; may still be working at the broker: check it and cancel it there",
                )
