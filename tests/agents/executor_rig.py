"""The executor's test rig: a session context on a fresh database with a scriptable broker.

Shared by the executor's tests (`test_executor.py`, `test_executor_safety.py`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from agents.context import SessionContext
from agents.executor import Executor, Mandate, OrderOutcome
from agents.risk.models import ProposedOrder, make_client_order_id
from core.clock import KST, FixedClock
from core.orders import OrderStatus, OrderType, Side
from db import migrate
from db.engine import create_db_engine, session_factory, transaction
from db.models import Fill, Order
from db.repositories import OrderRepository
from graphs.records import SessionRecords
from tests.agents.fake_broker import FakeBroker, FakeSleep
from tests.tools.paper.fake_market import FakeMarket
from tools.broker import OrderRequest

DAY = date(2025, 6, 10)
START = datetime(2025, 6, 10, 10, 0, tzinfo=KST)
THREAD = "default:2025-06-10:regular"


@dataclass
class Rig:
    """A session context on a fresh database, with the fake broker, clock and sleep."""

    ctx: SessionContext
    broker: FakeBroker
    sleep: FakeSleep
    clock: FixedClock
    run_id: int

    def approve(self, *orders: ProposedOrder) -> list[ProposedOrder]:
        """Write the orders as the review node leaves them: `approved`."""
        records_of(self.ctx).record_proposals(self.run_id, orders)
        with transaction(self.ctx.sessions) as session:
            for order in orders:
                OrderRepository(session).set_status(order.client_order_id, OrderStatus.APPROVED)
        return list(orders)

    def mandate(self, expires_at: datetime | None = None) -> Mandate:
        """The session's mandate: this run, DAY, and the approval's expiry (None: none)."""
        return Mandate(
            run_id=self.run_id, thread_id=THREAD, session_date=DAY, expires_at=expires_at
        )

    def mark_submitting(self, order: ProposedOrder) -> None:
        """Leave a row as a process killed right after writing it would."""
        with transaction(self.ctx.sessions) as session:
            OrderRepository(session).set_status(
                order.client_order_id, OrderStatus.SUBMITTING, submitted_at=self.clock.now()
            )

    async def execute(
        self, orders: list[ProposedOrder], *, expires_at: datetime | None = None
    ) -> dict[str, OrderOutcome]:
        """One pass of the executor, outcomes by client order id."""
        outcomes = await Executor(self.ctx, self.mandate(expires_at)).run(orders)
        return {o.client_order_id: o for o in outcomes}

    def mark_sent(self, order: ProposedOrder, broker_order_no: str) -> None:
        """Leave a row as a process killed after the broker's answer was stored would."""
        with transaction(self.ctx.sessions) as session:
            OrderRepository(session).set_status(
                order.client_order_id,
                OrderStatus.SUBMITTED,
                submitted_at=self.clock.now(),
                broker_order_no=broker_order_no,
            )

    def row(self, order: ProposedOrder) -> Order:
        with self.ctx.sessions() as session:
            found = OrderRepository(session).get(order.client_order_id)
            assert found is not None
            return found

    def fills(self, order: ProposedOrder) -> list[tuple[str, int]]:
        """The order's fills as (fill_key, qty), in booking order."""
        with self.ctx.sessions() as session:
            stmt = (
                sa.select(Fill.fill_key, Fill.qty)
                .join(Order, Fill.order_id == Order.id)
                .where(Order.client_order_id == order.client_order_id)
                .order_by(Fill.id)
            )
            return [(k, q) for k, q in session.execute(stmt).all()]


def records_of(ctx: SessionContext) -> SessionRecords:
    """The database writes of the session graph, on the context's database and venue."""
    return SessionRecords(
        ctx.sessions,
        ctx.venue_identity,
        starting_cash_krw=ctx.starting_cash_krw,
        clock=ctx.clock,
    )


def make_rig(url: str, tmp_path: Path, *, tags: bool) -> Iterator[Rig]:
    migrate.upgrade(url)
    engine = create_db_engine(url)
    clock = FixedClock(START)
    broker = FakeBroker(clock, tags_client_ids=tags)
    sleep = FakeSleep(clock)
    ctx = SessionContext(
        portfolio="default",
        starting_cash_krw=100_000_000,
        market=FakeMarket(),
        broker=broker,
        sessions=session_factory(engine),
        venue="test",
        clock=clock,
        fill_timeout=timedelta(seconds=10),
        fill_poll_interval_s=2.0,
        sleep=sleep,
    )
    run_id = records_of(ctx).ensure_run(
        thread_id=THREAD, portfolio="default", session_date=DAY, phase="regular"
    )
    try:
        yield Rig(ctx, broker, sleep, clock, run_id)
    finally:
        engine.dispose()


def order(ticker: str, qty: int, price: int, *, seq: int = 0) -> ProposedOrder:
    return ProposedOrder(
        client_order_id=make_client_order_id(THREAD, ticker, Side.BUY, seq),
        ticker=ticker,
        side=Side.BUY,
        order_type=OrderType.LIMIT,
        qty=qty,
        limit_price_krw=price,
        reason="test",
    )


def as_request(proposed: ProposedOrder) -> OrderRequest:
    return OrderRequest(
        client_order_id=proposed.client_order_id,
        ticker=proposed.ticker,
        side=Side.BUY,
        qty=proposed.qty,
        limit_price=proposed.limit_price_krw,
    )
