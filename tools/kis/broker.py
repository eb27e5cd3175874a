"""`KISBroker`: the broker protocol on a KIS account, with order-timeout reconciliation.

KIS has no client order id, so the broker keeps the mapping client_order_id -> ODNO (and the
KRX_FWDG_ORD_ORGNO needed to cancel). The executor persists the ODNO it gets back in its orders
table and, after a restart, hands the known pairs back with `remember`.

How an order in doubt is settled (a timeout, a 5xx or an unreadable answer to order-cash):

1. Nothing is resent. The client waits `reconcile_delay_s`, then lists today's orders
   (inquire-daily-ccld, filtered by ticker and side) and looks for one with the same quantity,
   order type, limit price, placed no earlier than 5 s before we sent ours, whose ODNO is not
   already mapped to another client_order_id. It asks up to `reconcile_attempts` times.
2. Exactly one match: the order exists. Its ODNO is mapped and `place` answers ACCEPTED with
   `recovered=True`.
3. No match (or the broker could not be asked): `place` answers UNCONFIRMED and remembers the
   attempt. A later `place` with the same client_order_id only repeats step 1; it never sends
   the order again, because KIS says today's list may lag the order it just took (seen: six
   lookups), and an order absent from the list may still be at the exchange. Whether it is
   there is for the caller to settle (the executor looks for it over its follow window, then
   hands it to a person).
4. Several matches: UNCONFIRMED with reason "ambiguous"; a person decides.

The mapping lives in this process only; what keeps a second process from sending the same
order is the executor's claim on the order row (`approved` -> `submitting`, in the database).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from core.clock import KST, kst_now
from core.orders import PlacementStatus, Side
from tools.broker import (
    AccountSnapshot,
    CashBalance,
    Execution,
    OrderAck,
    OrderRequest,
    Position,
    UnknownOrderError,
)
from tools.kis.client import KISClient
from tools.kis.errors import KISOrderRejectedError
from tools.kis.models import DailyOrder, Holding
from tools.kis.orders import OrderSubmission, SentOrder, SubmissionStatus
from tools.krx.venue import check_qty

log = logging.getLogger(__name__)


@dataclass
class _Tracked:
    """What the broker knows about one client order."""

    order_no: str | None = None
    org_no: str = ""
    sent: SentOrder | None = None
    """Set while the order is in doubt (sent, answer lost, not found yet)."""


class KISBroker:
    """The `tools.broker.Broker` protocol over one KIS account."""

    def __init__(self, client: KISClient) -> None:
        """Wrap a client; the broker does not own it (close the client yourself)."""
        self.client = client
        self._orders: dict[str, _Tracked] = {}

    def remember(self, client_order_id: str, broker_order_id: str, org_no: str = "") -> None:
        """Restore a known mapping (e.g. from the orders table after a restart)."""
        self._orders[client_order_id] = _Tracked(order_no=broker_order_id, org_no=org_no)

    def broker_order_id(self, client_order_id: str) -> str | None:
        """Return the ODNO mapped to `client_order_id`, if any."""
        tracked = self._orders.get(client_order_id)
        return tracked.order_no if tracked else None

    # --- the protocol -----------------------------------------------------------------------

    async def account_snapshot(self) -> AccountSnapshot:
        """Return cash and positions; rows of one ticker (cash, margin loan) are merged."""
        balance = await self.client.balance()
        summary = balance.summary
        cash = CashBalance(
            deposit=summary.deposit, settled_d2=summary.d2_cash, total_eval=summary.total_eval
        )
        return AccountSnapshot(
            as_of=self.client.clock.now(),
            cash=cash,
            positions=_positions(balance.holdings),
        )

    async def place(self, order: OrderRequest) -> OrderAck:
        """Place `order` once per client_order_id; see the module docstring for lost answers."""
        refused = check_qty(order.qty)  # the client refuses to send it; answer as KIS would
        if refused is not None:
            return OrderAck(
                client_order_id=order.client_order_id,
                status=PlacementStatus.REJECTED,
                reason_code=refused.code.value,
                reason=refused.message,
            )
        tracked = self._orders.setdefault(order.client_order_id, _Tracked())
        if tracked.order_no is not None:
            return self._ack(
                order.client_order_id,
                PlacementStatus.ACCEPTED,
                tracked.order_no,
                org_no=tracked.org_no,
            )
        known = self._known_order_nos()
        if tracked.sent is not None:
            # Sent before and its answer lost: look again, never send again.
            outcome = await self.client.find_order(tracked.sent, known, cause="earlier attempt")
            return self._settle(order.client_order_id, tracked, outcome)
        tracked.sent = SentOrder(
            ticker=order.ticker,
            side=order.side,
            qty=order.qty,
            kind=order.order_type,
            price=order.limit_price or 0,
            sent_at=kst_now(self.client.clock),
        )
        try:
            outcome = await self.client.submit_order(
                order.side,
                order.ticker,
                order.qty,
                kind=order.order_type,
                price=order.limit_price or 0,
                known_order_nos=known,
            )
        except KISOrderRejectedError as exc:
            del self._orders[order.client_order_id]
            return OrderAck(
                client_order_id=order.client_order_id,
                status=PlacementStatus.REJECTED,
                reason_code=exc.msg_cd,
                reason=exc.msg1,
            )
        return self._settle(order.client_order_id, tracked, outcome)

    async def cancel(self, client_order_id: str) -> OrderAck:
        """Cancel the unfilled rest of an order. A refusal (already filled...) is REJECTED."""
        tracked = self._orders.get(client_order_id)
        if tracked is None or tracked.order_no is None:
            raise UnknownOrderError(f"no broker order is known for {client_order_id}")
        if not tracked.org_no:
            tracked.org_no = await self._branch_of(tracked.order_no)
        try:
            result = await self.client.cancel_order(tracked.org_no, tracked.order_no)
        except KISOrderRejectedError as exc:
            return OrderAck(
                client_order_id=client_order_id,
                status=PlacementStatus.REJECTED,
                broker_order_id=tracked.order_no,
                reason_code=exc.msg_cd,
                reason=exc.msg1,
            )
        return self._ack(client_order_id, PlacementStatus.ACCEPTED, result.order_no)

    async def executions(self, day: date) -> list[Execution]:
        """Return the orders of `day` with fills, tagged with our client_order_id when known."""
        by_order_no = {t.order_no: cid for cid, t in self._orders.items() if t.order_no}
        orders = await self.client.daily_orders(day, day)
        return [_execution(row, by_order_no.get(row.order_no)) for row in orders.orders]

    # --- helpers ----------------------------------------------------------------------------

    async def _branch_of(self, order_no: str) -> str:
        """Look up the branch (KRX_FWDG_ORD_ORGNO) of today's order `order_no`.

        KIS checks the branch echoed on a cancel; a mapping restored after a restart may lack
        it, and today's executions list it as `ord_gno_brno`.
        """
        today = kst_now(self.client.clock).date()
        orders = await self.client.daily_orders(today, today, order_no=order_no)
        return next((o.branch for o in orders.orders if o.order_no == order_no), "")

    def _known_order_nos(self) -> list[str]:
        return [t.order_no for t in self._orders.values() if t.order_no]

    def _settle(
        self, client_order_id: str, tracked: _Tracked, outcome: OrderSubmission
    ) -> OrderAck:
        if outcome.placed and outcome.order is not None:
            tracked.order_no = outcome.order.order_no
            tracked.org_no = outcome.order.org_no
            tracked.sent = None
            at = datetime.combine(kst_now(self.client.clock).date(), outcome.order.ordered_at, KST)
            return self._ack(
                client_order_id,
                PlacementStatus.ACCEPTED,
                tracked.order_no,
                org_no=tracked.org_no,
                accepted_at=at,
                recovered=outcome.status is SubmissionStatus.RECOVERED,
            )
        log.warning("order %s unconfirmed: %s", client_order_id, outcome.status.value)
        return OrderAck(
            client_order_id=client_order_id,
            status=PlacementStatus.UNCONFIRMED,
            reason_code=outcome.status.value,
            reason=outcome.cause,
        )

    @staticmethod
    def _ack(
        client_order_id: str,
        status: PlacementStatus,
        order_no: str,
        *,
        org_no: str = "",
        accepted_at: datetime | None = None,
        recovered: bool = False,
    ) -> OrderAck:
        return OrderAck(
            client_order_id=client_order_id,
            status=status,
            broker_order_id=order_no,
            broker_branch_no=org_no or None,
            accepted_at=accepted_at,
            recovered=recovered,
        )


def _positions(holdings: list[Holding]) -> list[Position]:
    merged: dict[str, list[Holding]] = {}
    for row in holdings:
        merged.setdefault(row.ticker, []).append(row)
    positions = []
    for ticker, rows in merged.items():
        qty = sum(r.qty for r in rows)
        cost = sum(r.purchase_amount for r in rows)
        positions.append(
            Position(
                ticker=ticker,
                name=rows[0].name,
                qty=qty,
                sellable_qty=sum(r.sellable_qty for r in rows),
                avg_price=(Decimal(cost) / qty).quantize(Decimal("0.0001")) if qty else Decimal(0),
                last_price=rows[0].price,
                market_value=sum(r.eval_amount for r in rows),
                unrealized_pnl=sum(r.eval_pnl for r in rows),
            )
        )
    return positions


def _execution(row: DailyOrder, client_order_id: str | None) -> Execution:
    return Execution(
        broker_order_id=row.order_no,
        client_order_id=client_order_id,
        ticker=row.ticker,
        side=Side.BUY if row.is_buy else Side.SELL,
        ordered_qty=row.qty,
        limit_price=row.price,
        filled_qty=row.filled_qty,
        avg_fill_price=row.avg_fill_price,
        remaining_qty=row.remaining_qty,
        rejected_qty=row.rejected_qty,
        ordered_at=datetime.combine(row.day, row.ordered_at, KST),
        original_broker_order_id=row.original_order_no or None,
        broker_branch_no=row.branch or None,
    )
