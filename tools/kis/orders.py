"""Orders in doubt: the typed outcome of a submission and how we find an order at the broker.

KIS has no client order id. When an order call times out, fails with a 5xx or returns an
unreadable body, the broker may or may not hold the order. Sending it again could buy twice, so
the client first asks inquire-daily-ccld for today's orders and looks for one that matches what
was sent: same ticker, side, quantity, order type and (for limit orders) price, placed no earlier
than a few seconds before we sent it, and not one of the order numbers the caller already knows
(orders it placed before, which could look identical).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from enum import StrEnum
from types import MappingProxyType

from pydantic import BaseModel, ConfigDict

from core.clock import KST
from core.orders import OrderType, Side
from tools.kis.models import DailyOrder, OrderResult

CLOCK_SKEW = timedelta(seconds=5)
"""How much earlier than our send time the broker's order timestamp may be."""


SIDE_CODES: Mapping[Side, str] = MappingProxyType({Side.SELL: "01", Side.BUY: "02"})
"""KIS sll_buy_dvsn_cd codes of each side (01 sell, 02 buy)."""

ORDER_TYPE_CODES: Mapping[OrderType, str] = MappingProxyType(
    {OrderType.LIMIT: "00", OrderType.MARKET: "01"}
)
"""KIS ORD_DVSN codes of the order types we place: 00 limit (지정가), 01 market (시장가)."""


class SubmissionStatus(StrEnum):
    """What we know about an order after submitting it."""

    ACCEPTED = "accepted"
    """The broker answered with an order number."""
    RECOVERED = "recovered"
    """The answer was lost, but the broker's order list shows exactly one matching order."""
    ABSENT = "absent"
    """The answer was lost and the broker's list shows no matching order (it may lag)."""
    AMBIGUOUS = "ambiguous"
    """Several unknown orders match; a person must decide which is ours."""
    UNKNOWN = "unknown"
    """The answer was lost and the broker could not be asked either."""


class OrderSubmission(BaseModel):
    """The typed outcome of `submit_order`. Only ACCEPTED/RECOVERED carry an order."""

    model_config = ConfigDict(frozen=True)

    status: SubmissionStatus
    order: OrderResult | None = None
    record: DailyOrder | None = None
    cause: str | None = None
    """Why the direct answer was lost (the error class and message), when it was."""

    @property
    def placed(self) -> bool:
        """Whether the broker holds the order."""
        return self.status in {SubmissionStatus.ACCEPTED, SubmissionStatus.RECOVERED}


class SentOrder(BaseModel):
    """What was sent, kept to recognise the order in the broker's list."""

    model_config = ConfigDict(frozen=True)

    ticker: str
    side: Side
    qty: int
    kind: OrderType
    price: int
    sent_at: datetime
    """Time just before sending, timezone-aware in KST (its date is the KRX order day)."""


def matching_orders(
    sent: SentOrder, orders: Iterable[DailyOrder], known_order_nos: Iterable[str] = ()
) -> list[DailyOrder]:
    """Return today's broker orders that could be the one we sent."""
    known = {no.lstrip("0") for no in known_order_nos}
    earliest = sent.sent_at - CLOCK_SKEW
    found = []
    for order in orders:
        if order.order_no.lstrip("0") in known or order.original_order_no.strip("0"):
            continue  # ours already, or a revise/cancel of another order
        if order.day != sent.sent_at.date() or order.ticker != sent.ticker:
            continue
        if order.side_code != SIDE_CODES[sent.side] or order.qty != sent.qty:
            continue
        if order.order_type and order.order_type != ORDER_TYPE_CODES[sent.kind]:
            continue
        if sent.kind is OrderType.LIMIT and order.price != sent.price:
            continue
        if datetime.combine(order.day, order.ordered_at, tzinfo=KST) < earliest:
            continue
        found.append(order)
    return found


def recovered_result(order: DailyOrder) -> OrderResult:
    """Build the order answer we never received from the broker's record of the order."""
    return OrderResult(org_no=order.branch, order_no=order.order_no, ordered_at=order.ordered_at)
