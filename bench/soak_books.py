"""The soak's invariants: one account's books at the broker (the simulator's store) against ours.

1. every approved order exists at the broker at most once;
2. no order exists at the broker that was not approved;
3. every approved order is filled, cancelled, rejected, expired or needs_review with a reason,
   and none is still working at the broker (unless handed to a person);
4. the portfolio's positions in our database equal the broker's balance;
5. fills are booked once: per order, our fills sum to our filled quantity and to the broker's
   (for an order handed to a person, to no more than the broker's: that person books the rest).

KIS has no client order id, so a broker order is ours when our row holds its order number; a
broker order no row holds is attributed to the approved order it looks like (ticker, side,
quantity, price): a duplicate of it (1), or, matching none, an order nobody approved (2).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import sqlalchemy as sa

from core.orders import OrderStatus
from db.engine import session_factory
from db.models import Approval, ApprovalDecision, Fill, Order, Portfolio, Position, Run
from tools.kis.simulator.store import Order as BrokerOrder
from tools.kis.simulator.store import Store

INVARIANTS = (
    "1 approved order at the broker at most once",
    "2 nothing at the broker that was not approved",
    "3 approved orders final (or needs_review with a reason)",
    "4 positions equal the broker's balance",
    "5 fills booked once (ours = broker's filled qty)",
)
FINAL = frozenset(
    {OrderStatus.FILLED, OrderStatus.CANCELLED, OrderStatus.REJECTED, OrderStatus.EXPIRED}
)


@dataclass(frozen=True)
class ApprovedOrder:
    """One approved order of the account, with the session (thread) it belongs to."""

    thread: str
    client_order_id: str
    status: str


@dataclass
class Findings:
    """The approved orders checked and the violations found: (invariant index, key, text)."""

    orders: list[ApprovedOrder] = field(default_factory=list)
    violations: list[tuple[int, str, str]] = field(default_factory=list)


def _same(o: BrokerOrder, r: Order) -> bool:
    price = r.limit_price_krw or 0
    return (o.pdno, o.side, o.qty, o.price) == (r.ticker, r.side.value, r.qty, price)


def check_account(engine: sa.Engine, store: Store, *, account: str, portfolio: str) -> Findings:
    """Check the five invariants on one account and the portfolio that trades it."""
    broker = store.orders("cano=? AND kind='new'", (account,))
    held = {p.pdno: p.qty for p in store.positions(account, "01") if p.qty}
    with session_factory(engine)() as db:
        threads = {
            run.id: run.thread_id
            for run in db.scalars(
                sa.select(Run)
                .join(Portfolio, Portfolio.id == Run.portfolio_id)
                .where(Portfolio.name == portfolio)
            )
        }
        rows = list(db.scalars(sa.select(Order).where(Order.run_id.in_(list(threads)))))
        approved = set(
            db.scalars(
                sa.select(Approval.client_order_id).where(
                    Approval.run_id.in_(list(threads)),
                    Approval.decision.in_([ApprovalDecision.APPROVE, ApprovalDecision.EDIT]),
                )
            )
        )
        fills = Counter[int]()
        for order_id, qty in db.execute(
            sa.select(Fill.order_id, Fill.qty).where(Fill.order_id.in_([r.id for r in rows]))
        ):
            fills[order_id] += qty
        ours = {
            p.ticker: p.qty
            for p in db.scalars(
                sa.select(Position)
                .join(Portfolio, Portfolio.id == Position.portfolio_id)
                .where(Portfolio.name == portfolio)
            )
            if p.qty
        }
    found = Findings()
    approved_rows = [r for r in rows if r.client_order_id in approved]
    by_odno = {o.odno: o for o in broker}
    mapped = {r.broker_order_no for r in rows if r.broker_order_no}
    loose = [o for o in broker if o.odno not in mapped]
    for r in approved_rows:
        thread = threads.get(r.run_id or -1, "?")
        found.orders.append(ApprovedOrder(thread, r.client_order_id, r.status.value))
        at_broker = [by_odno[r.broker_order_no]] if r.broker_order_no in by_odno else []
        at_broker += [o for o in loose if _same(o, r)]
        tag = f"{thread} {r.ticker} {r.side.value} {r.qty}"
        key = r.client_order_id
        if len(at_broker) > 1:
            odnos = ", ".join(o.odno for o in at_broker)
            found.violations.append((0, key, f"{tag}: {len(at_broker)} broker orders ({odnos})"))
        final = r.status in FINAL or (r.status is OrderStatus.NEEDS_REVIEW and bool(r.reason))
        working = [o for o in at_broker if o.status == "open" and o.remaining > 0]
        if not final:
            found.violations.append((2, key, f"{tag}: {r.status.value} ({r.reason or ''})"[:200]))
        elif working and r.status is not OrderStatus.NEEDS_REVIEW:
            found.violations.append(
                (2, key, f"{tag}: {r.status.value} but still working at the broker")
            )
        broker_filled = sum(o.filled_qty for o in at_broker)
        # An order handed to a person (in doubt past the follow window) may have filled at
        # the broker unseen by us: booking it is that person's call. It must still never be
        # booked twice, nor more than the broker filled.
        settled = r.status is not OrderStatus.NEEDS_REVIEW
        booked_once = fills[r.id] == r.filled_qty
        if not booked_once or (
            broker_filled != r.filled_qty if settled else r.filled_qty > broker_filled
        ):
            text = (
                f"{tag}: fills {fills[r.id]}, our filled {r.filled_qty}, "
                f"broker {broker_filled} ({r.status.value})"
            )
            found.violations.append((4, key, text))
    for o in broker:
        owner = [r for r in rows if r.broker_order_no == o.odno]
        if owner and owner[0].client_order_id not in approved:
            found.violations.append((1, o.odno, f"{account}: {o.odno} is an order nobody approved"))
        if not owner and not any(_same(o, r) for r in approved_rows):
            text = f"{portfolio}: {o.odno} {o.pdno} {o.side} {o.qty} matches no approved order"
            found.violations.append((1, o.odno, text))
    if ours != held:
        key = f"{portfolio} {sorted(ours.items())} {sorted(held.items())}"
        found.violations.append((3, key, f"{portfolio}: ours {ours} != broker {held}"))
    return found
