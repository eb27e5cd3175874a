"""Reconciliation: the executor's rows against the broker's list of the day's orders.

An order in doubt (sent, answer lost; or found `submitting` after a restart) is looked for in
that list, by client order id where the broker knows it (paper), else by ticker, side,
quantity and price among orders placed after our row was written and not mapped to another of
our orders (KIS). The fills of the orders found are booked. Resumed after the session's day,
the rows are settled against that day's list: KRX orders are day orders, so an unfilled rest
lapsed at the close.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import date, timedelta

from agents.context import SessionContext
from agents.executor.books import Books
from agents.executor.models import OPEN_STATUSES, SENT_STATUSES, SUBMITTING, Ledger, NotFound
from core.errors import TemporaryError
from core.orders import OrderStatus
from db.models import Order
from tools.broker import Execution
from tools.krx.rules import Market

log = logging.getLogger(__name__)

RECONCILE_WINDOW = timedelta(seconds=5)
"""A broker order placed this long before our row was written can still be ours (clock skew)."""


def find_at_broker(
    row: Order, executions: list[Execution], mapped: set[str]
) -> Execution | NotFound:
    """Return the broker's order for a row in doubt, or why there is no single one."""
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
        return NotFound.AMBIGUOUS
    return candidates[0] if candidates else NotFound.ABSENT


class Reconciler:
    """Reads a day's executions at the broker and settles a pass's rows against them."""

    def __init__(
        self, ctx: SessionContext, books: Books, day: date, markets: Mapping[str, Market]
    ) -> None:
        """Bind the broker, the books, the session's KRX day and each ticker's market."""
        self.ctx = ctx
        self.books = books
        self.day = day
        self.markets = markets

    async def read(self) -> list[Execution] | None:
        """The session day's executions; None when the broker could not be asked this time."""
        try:
            return await self.ctx.broker.executions(self.day)
        except TemporaryError as exc:
            log.warning("could not read the executions of %s: %s", self.day, exc)
            return None

    async def poll(self, ledger: Ledger) -> bool:
        """Look for the rows in doubt and book what the broker reports; False if unreadable."""
        executions = await self.read()
        if executions is None:
            return False
        await self.settle(ledger, executions)
        return True

    async def settle(self, ledger: Ledger, executions: list[Execution]) -> None:
        """Match rows in doubt against `executions`, then book the fills of the sent ones."""
        rows = ledger.rows
        mapped = {r.broker_order_no for r in rows.values() if r.broker_order_no}
        for row in ledger.in_status(SUBMITTING):
            cid = row.client_order_id
            found = find_at_broker(row, executions, mapped)
            if found is NotFound.AMBIGUOUS:
                rows[cid] = await self.books.needs_review(
                    row,
                    "several broker orders match this one and none is known to be ours; "
                    "nothing was sent again: check the broker's orders",
                )
            elif isinstance(found, Execution):
                log.info("order %s is at the broker as %s", cid, found.broker_order_id)
                ledger.notes[cid] = (
                    "answer lost; found in the broker's list"
                    if cid in ledger.doubts
                    else "recovered after a restart"
                )
                mapped.add(found.broker_order_id)
                rows[cid] = await self.books.accepted(
                    cid, found.broker_order_id, found.broker_branch_no
                )
        by_order_no = {e.broker_order_id: e for e in executions}
        for row in ledger.in_status(SENT_STATUSES):
            execution = by_order_no.get(row.broker_order_no) if row.broker_order_no else None
            if execution is not None:
                market = self.markets.get(row.ticker, Market.KOSPI)
                rows[row.client_order_id] = await self.books.book_fill(
                    row, execution, self.day, market
                )

    async def settle_earlier_day(self, ledger: Ledger) -> None:
        """Resumed after the session's day: settle its open rows from that day's list.

        KRX orders are day orders, so whatever the list shows unfilled lapsed at that close; a
        row still in doubt, or whose order the list does not show, goes to a person.
        """
        if not ledger.any_in(OPEN_STATUSES):
            return
        rows = ledger.rows
        day = self.day.isoformat()
        executions = await self.read()
        if executions is None:
            for row in ledger.in_status(OPEN_STATUSES):
                rows[row.client_order_id] = await self.books.needs_review(
                    row, f"left {row.status.value} on {day}; its executions could not be read"
                )
            return
        await self.settle(ledger, executions)
        listed = {e.broker_order_id for e in executions}
        for cid, row in list(rows.items()):
            if row.status is OrderStatus.SUBMITTING:
                rows[cid] = await self.books.needs_review(
                    row,
                    f"left in doubt on {day} and not in the broker's list of that day; "
                    "never sent: check the broker's orders",
                )
            elif row.status in SENT_STATUSES and row.broker_order_no not in listed:
                rows[cid] = await self.books.needs_review(
                    row,
                    f"sent on {day} as {row.broker_order_no}, but the broker's list of that "
                    "day does not show it: check its fills at the broker",
                )
            elif row.status in SENT_STATUSES:
                rest = row.qty - row.filled_qty
                rows[cid] = await self.books.set(
                    cid,
                    OrderStatus.EXPIRED,
                    reason=f"the unfilled rest ({rest} shares) lapsed at the close of {day}",
                )
