"""What the executor is given (a mandate), what it tracks in one pass, and what it gives back."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel

from core.orders import OrderStatus, OrderType, Side
from db.models import Order

SENT_STATUSES = frozenset({OrderStatus.SUBMITTED, OrderStatus.PARTIALLY_FILLED})
"""Orders working at the broker."""
OPEN_STATUSES = SENT_STATUSES | {OrderStatus.SUBMITTING}
"""Orders the executor still follows: working at the broker, or in doubt."""
APPROVED = frozenset({OrderStatus.APPROVED})
SUBMITTING = frozenset({OrderStatus.SUBMITTING})
"""Orders in doubt: claimed for sending, whether the broker holds them is not known yet."""

OUTSIDE_ORDER_HOURS = "not sent: outside KIS order hours"
"""How the reason of an order held back for its time starts (the venue took no orders then);
the venue's hours of the day follow in parentheses (`VenueHours.order_hours`)."""

IN_DOUBT = "in doubt"
"""How a note about an order whose answer was lost starts (for the person reading it)."""


@dataclass(frozen=True)
class Mandate:
    """What the approval allows: whose orders, on which KRX day, until when."""

    run_id: int
    thread_id: str
    session_date: date
    """The KRX day the orders were approved for; nothing is sent on another day."""
    expires_at: datetime | None = None
    """The approval's expiry (the approval request's `expires_at`); None: no expiry."""


class Doubt(StrEnum):
    """Why this pass does not know whether the broker holds an order it sent."""

    PLACE_FAILED = "place_failed"
    """`place` raised: the request may or may not have reached the broker."""
    UNCONFIRMED = "unconfirmed"
    """The broker answered UNCONFIRMED: it lost the answer and could not find the order."""


class NotFound(StrEnum):
    """Why an order in doubt has no single order in the broker's list."""

    ABSENT = "absent"
    """No order matches (yet: the list can lag an order by seconds)."""
    AMBIGUOUS = "ambiguous"
    """Several unknown orders match; none is known to be ours."""


@dataclass
class Ledger:
    """One pass over a session's orders: each row as last written, and what to say about it."""

    rows: dict[str, Order]
    """The order rows by client order id, replaced by each write."""
    notes: dict[str, str] = field(default_factory=dict)
    """What to tell the approver about an order, beside its row's reason."""
    doubts: dict[str, Doubt] = field(default_factory=dict)
    """Orders this pass sent whose answer was lost, and how."""

    def any_in(self, statuses: frozenset[OrderStatus]) -> bool:
        """Whether any row is in one of `statuses`."""
        return any(r.status in statuses for r in self.rows.values())

    def in_status(self, statuses: frozenset[OrderStatus]) -> list[Order]:
        """The rows in one of `statuses`, a copy (the pass replaces rows as it goes)."""
        return [r for r in self.rows.values() if r.status in statuses]


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


def outcome_of(row: Order, ledger: Ledger) -> OrderOutcome:
    """The outcome of an order from its row and the pass's note about it."""
    note = ledger.notes.get(row.client_order_id)
    return OrderOutcome(
        client_order_id=row.client_order_id,
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
        note="; ".join(dict.fromkeys(p for p in (note, row.reason) if p))
        if row.status is not OrderStatus.FILLED
        else note or "",
    )


class FillProgress(BaseModel):
    """Where one executor pass stands, reported after each order sent and each poll."""

    orders: int
    """Orders the pass handles."""
    placed: int
    """Orders the broker holds or held (working, filled, cancelled after working)."""
    filled: int
    """Orders wholly filled."""
    filled_qty: int
    qty: int
    """Shares filled and asked, over every order."""
    open: int
    """Orders still followed: working at the broker, or in doubt."""
    waiting: int = 0
    """Orders approved and not yet sent (their turn, or KIS order reception, still to come)."""


PLACED_STATUSES = SENT_STATUSES | {OrderStatus.FILLED, OrderStatus.CANCELLED}


def progress_of(ledger: Ledger) -> FillProgress:
    """The pass's progress from its rows as last written."""
    rows = list(ledger.rows.values())
    return FillProgress(
        orders=len(rows),
        placed=sum(1 for r in rows if r.status in PLACED_STATUSES),
        filled=sum(1 for r in rows if r.status is OrderStatus.FILLED),
        filled_qty=sum(r.filled_qty for r in rows),
        qty=sum(r.qty for r in rows),
        open=sum(1 for r in rows if r.status in OPEN_STATUSES),
        waiting=sum(1 for r in rows if r.status is OrderStatus.APPROVED),
    )


FILLS_KEY = "fills"
"""The key of the executor's progress in the graph's `custom` stream."""

ProgressReport = Callable[[FillProgress], None]
"""Told the pass's progress after each order sent and each poll (a live progress line)."""


def average_price(outcome: OrderOutcome) -> Decimal | None:
    """The average fill price of an outcome, or None before any fill."""
    if outcome.filled_qty == 0:
        return None
    return Decimal(outcome.filled_value_krw) / outcome.filled_qty
