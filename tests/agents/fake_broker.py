"""A scriptable broker for the executor's tests: it misbehaves in the ways real brokers do.

It keeps an order book in memory and follows the `Broker` protocol, including the promise that
`place` with a known client_order_id returns the order it holds instead of placing another.
A test scripts, per client order id, what goes wrong:

- `reject`: the broker refuses the order (nothing is placed).
- `lose_answer`: the order is placed, then the answer is lost: `place` raises a
  TemporaryError ("raise") or answers UNCONFIRMED ("unconfirmed"). Only the first call.
  "timeout" is KIS's case: the order is placed but this process never learns its number, so
  a second `place` would place it again. "dropped": the request never reached the broker
  (nothing is placed) and `place` raises a TemporaryError.
- `lag`: how many looks at the executions list miss an order after it was placed (KIS says
  its list of the day may lag the order it just took).
- `fills`: the cumulative filled quantity the broker reports at each successive look at the
  day's executions (the last value holds); without a plan an order fills at the first look.
- `never_fill`: the order stays unfilled until it is cancelled.

`executions(day)` lists the orders placed on that KRX day only, as KIS and the paper broker do.

With `tags_client_ids=False` it behaves like KIS: the broker knows an order's client id only
while this instance remembers it (`remember`, or having placed it), and `restart()` forgets
every mapping, as a fresh process would. `add_foreign` puts an order placed elsewhere (by hand
in the HTS) in the book.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from core.clock import KST, Clock, FixedClock
from core.errors import TemporaryError
from core.orders import PlacementStatus, Side
from tools.broker import (
    AccountSnapshot,
    CashBalance,
    Execution,
    OrderAck,
    OrderRequest,
    UnknownOrderError,
)

BRANCH = "06010"


@dataclass
class BookedOrder:
    """One order in the fake broker's book."""

    broker_order_id: str
    client_order_id: str | None
    ticker: str
    side: Side
    qty: int
    price: int
    ordered_at: datetime
    filled_qty: int = 0
    cancelled: bool = False
    looks: int = 0
    """How many times the executions list was read since the order was placed."""
    hidden_looks: int = 0
    """How many more reads of the executions list miss this order (a lagging list)."""


@dataclass
class FakeBroker:
    """An in-memory broker with scripted faults (see the module docstring)."""

    clock: Clock
    tags_client_ids: bool = True
    reject: set[str] = field(default_factory=set)
    lose_answer: dict[str, str] = field(default_factory=dict)
    fills: dict[str, list[int]] = field(default_factory=dict)
    never_fill: set[str] = field(default_factory=set)
    lag: dict[str, int] = field(default_factory=dict)
    cancel_fails: bool = False
    executions_fail: int = 0
    """How many of the next `executions` calls raise a TemporaryError."""
    blind_after_cancel: bool = False
    """Once a cancel was asked for, every `executions` call raises a TemporaryError."""
    fill_price: int | None = None
    """Price fills happen at; None: the order's limit price."""
    book: list[BookedOrder] = field(default_factory=list)
    place_calls: list[str] = field(default_factory=list)
    cancel_calls: list[str] = field(default_factory=list)
    remembered: list[tuple[str, str, str]] = field(default_factory=list)
    _mapping: dict[str, str] = field(default_factory=dict)

    # --- test helpers ------------------------------------------------------------------------

    def restart(self) -> None:
        """Forget every client id mapping (a fresh process on the same account)."""
        self._mapping.clear()

    def add_foreign(self, ticker: str, side: Side, qty: int, price: int) -> BookedOrder:
        """Put an order placed outside this process in the book (no client id)."""
        return self._book(None, ticker, side, qty, price)

    def sent(self, client_order_id: str) -> list[BookedOrder]:
        """Return the orders in the book that were placed for `client_order_id`."""
        return [o for o in self.book if o.client_order_id == client_order_id]

    # --- the protocol ------------------------------------------------------------------------

    def remember(self, client_order_id: str, broker_order_id: str, org_no: str = "") -> None:
        """Restore a mapping, as KISBroker does."""
        self.remembered.append((client_order_id, broker_order_id, org_no))
        self._mapping[client_order_id] = broker_order_id

    async def account_snapshot(self) -> AccountSnapshot:
        """An empty account (the executor does not read it)."""
        return AccountSnapshot(
            as_of=self.clock.now(),
            cash=CashBalance(deposit=0, settled_d2=0, total_eval=0),
            positions=[],
        )

    async def place(self, order: OrderRequest) -> OrderAck:
        """Place once per client id; misbehave as scripted."""
        cid = order.client_order_id
        self.place_calls.append(cid)
        known = self._known(cid)
        if known is not None:
            return self._ack(cid, known)
        if cid in self.reject:
            return OrderAck(
                client_order_id=cid,
                status=PlacementStatus.REJECTED,
                reason_code="APBK0919",
                reason="insufficient cash",
            )
        lost = self.lose_answer.pop(cid, None)
        if lost == "dropped":
            raise TemporaryError("connect timeout: the order request never reached the broker")
        booked = self._book(cid, order.ticker, order.side, order.qty, order.limit_price or 0)
        booked.hidden_looks = self.lag.get(cid, 0)
        if lost == "timeout":
            raise TemporaryError("read timeout while waiting for the order answer")
        self._mapping[cid] = booked.broker_order_id
        if lost == "raise":
            raise TemporaryError("connection reset while waiting for the order answer")
        if lost == "unconfirmed":
            return OrderAck(
                client_order_id=cid, status=PlacementStatus.UNCONFIRMED, reason_code="absent"
            )
        return self._ack(cid, booked)

    async def cancel(self, client_order_id: str) -> OrderAck:
        """Cancel the unfilled rest (or fail with a TemporaryError when scripted)."""
        self.cancel_calls.append(client_order_id)
        if self.cancel_fails:
            raise TemporaryError("gateway timeout")
        booked = self._known(client_order_id)
        if booked is None:
            raise UnknownOrderError(f"no order for {client_order_id}")
        if booked.filled_qty >= booked.qty:
            return OrderAck(
                client_order_id=client_order_id,
                status=PlacementStatus.REJECTED,
                broker_order_id=booked.broker_order_id,
                reason_code="40330000",
                reason="nothing left to cancel",
            )
        booked.cancelled = True
        return OrderAck(
            client_order_id=client_order_id,
            status=PlacementStatus.ACCEPTED,
            broker_order_id=booked.broker_order_id,
        )

    async def executions(self, day: date) -> list[Execution]:
        """Report the orders of KRX date `day`, moving fills along their plan first."""
        if self.executions_fail or (self.blind_after_cancel and self.cancel_calls):
            self.executions_fail = max(self.executions_fail - 1, 0)
            raise TemporaryError("inquire-daily-ccld timed out")
        tags = {v: k for k, v in self._mapping.items()}
        out = []
        for booked in self.book:
            if booked.ordered_at.astimezone(KST).date() != day:
                continue
            if booked.hidden_looks > 0:
                booked.hidden_looks -= 1
                continue
            self._advance(booked)
            cid = booked.client_order_id if self.tags_client_ids else None
            cid = cid or tags.get(booked.broker_order_id)
            price = self.fill_price or booked.price
            out.append(
                Execution(
                    broker_order_id=booked.broker_order_id,
                    client_order_id=cid,
                    ticker=booked.ticker,
                    side=booked.side,
                    ordered_qty=booked.qty,
                    limit_price=booked.price,
                    filled_qty=booked.filled_qty,
                    avg_fill_price=Decimal(price if booked.filled_qty else 0),
                    remaining_qty=0 if booked.cancelled else booked.qty - booked.filled_qty,
                    ordered_at=booked.ordered_at,
                    broker_branch_no=BRANCH,
                )
            )
        return out

    # --- internals ---------------------------------------------------------------------------

    def _book(self, cid: str | None, ticker: str, side: Side, qty: int, price: int) -> BookedOrder:
        booked = BookedOrder(
            broker_order_id=f"{len(self.book) + 1:010d}",
            client_order_id=cid,
            ticker=ticker,
            side=side,
            qty=qty,
            price=price,
            ordered_at=self.clock.now(),
        )
        self.book.append(booked)
        return booked

    def _known(self, cid: str) -> BookedOrder | None:
        if self.tags_client_ids:
            for booked in self.book:
                if booked.client_order_id == cid:
                    return booked
        order_no = self._mapping.get(cid)
        return next((o for o in self.book if o.broker_order_id == order_no), None)

    def _advance(self, booked: BookedOrder) -> None:
        if booked.cancelled or booked.client_order_id is None:
            return
        cid = booked.client_order_id
        plan = self.fills.get(cid)
        if cid in self.never_fill:
            target = 0
        elif plan:
            target = plan[min(booked.looks, len(plan) - 1)]
        else:
            target = booked.qty
        booked.looks += 1
        booked.filled_qty = max(booked.filled_qty, min(target, booked.qty))

    @staticmethod
    def _ack(cid: str, booked: BookedOrder) -> OrderAck:
        return OrderAck(
            client_order_id=cid,
            status=PlacementStatus.ACCEPTED,
            broker_order_id=booked.broker_order_id,
            broker_branch_no=BRANCH,
            accepted_at=booked.ordered_at,
        )


@dataclass
class FakeSleep:
    """The executor's `sleep`: returns at once, moves a FixedClock on and counts the waits."""

    clock: FixedClock
    waits: list[float] = field(default_factory=list)

    async def __call__(self, seconds: float) -> None:
        """Record the wait and advance the clock by it."""
        self.waits.append(seconds)
        self.clock.advance(timedelta(seconds=seconds))
