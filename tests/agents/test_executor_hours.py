"""The executor sends an order only while the venue takes orders, and says so when it does not.

KIS receives regular-session orders from 08:30 KST (the opening auction's reception) to the
close at 15:30. A run approved before 08:30 waits for reception (on the context's clock and
sleep); an order whose window does not open in time is refused for its time (`rejected`, never
sent); and a broker refusing an order for its time leaves it `rejected` with the broker's code.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from pydantic import SecretStr

from agents.context import SessionContext
from agents.executor import Executor, Mandate
from agents.executor.models import OUTSIDE_ORDER_HOURS
from agents.venue_hours import AlwaysOpen
from core.clock import KST, FixedClock
from core.orders import OrderStatus
from db import migrate
from db.engine import create_db_engine, session_factory, transaction
from db.repositories import OrderRepository
from tests.agents.executor_rig import THREAD, Rig, order, records_of
from tests.agents.fake_broker import FakeSleep
from tests.tools.paper.fake_market import FakeMarket
from tools.kis.broker import KISBroker
from tools.kis.client import KISClient
from tools.kis.config import KISConfig
from tools.kis.endpoints import Mode
from tools.kis.simulator import SimulatorConfig, SimulatorServer

pytestmark = pytest.mark.anyio

SAMSUNG = order("005930", 10, 53_600)
CLOSE = datetime(2025, 6, 10, 15, 30, tzinfo=KST)


def _at(hour: int, minute: int) -> datetime:
    return datetime(2025, 6, 10, hour, minute, tzinfo=KST)


async def test_a_pre_open_approval_waits_for_order_reception_then_is_sent(rig: Rig) -> None:
    rig.clock.set(_at(8, 10))  # a scheduled pre-open run, approved at 08:10
    orders = rig.approve(SAMSUNG)
    outcomes = await rig.execute(orders, expires_at=CLOSE)
    assert rig.broker.place_calls == [SAMSUNG.client_order_id]
    assert rig.row(SAMSUNG).submitted_at == _at(8, 30)  # sent when reception opened
    # The wait is cut in steps that renew the executor's lease (20 s of a 60 s lease).
    assert sum(rig.sleep.waits[:60]) == 20 * 60
    assert outcomes[SAMSUNG.client_order_id].status is OrderStatus.FILLED


@pytest.mark.parametrize(
    ("now", "expires_at", "why"),
    [
        (_at(15, 40), None, "takes none again on 2025-06-10"),
        (_at(8, 10), _at(8, 20), "after the approval expires"),
        (_at(6, 0), CLOSE, "past the wait of 1:00:00"),
    ],
    ids=["after-the-close", "expires-before-reception", "too-long-a-wait"],
)
async def test_an_order_outside_order_hours_is_refused_and_never_sent(
    rig: Rig, now: datetime, expires_at: datetime | None, why: str
) -> None:
    rig.clock.set(now)
    orders = rig.approve(SAMSUNG)
    outcomes = await rig.execute(orders, expires_at=expires_at)
    assert rig.broker.place_calls == []
    row = rig.row(SAMSUNG)
    assert row.status is OrderStatus.REJECTED
    assert row.reason is not None and row.reason.startswith(OUTSIDE_ORDER_HOURS)
    assert row.reason.startswith(f"{OUTSIDE_ORDER_HOURS} (08:30–15:30 KST): ")
    assert why in row.reason
    outcome = outcomes[SAMSUNG.client_order_id]
    assert outcome.status is OrderStatus.REJECTED
    assert outcome.note.startswith(OUTSIDE_ORDER_HOURS)
    assert (outcome.filled_qty, rig.fills(SAMSUNG)) == (0, [])
    assert rig.sleep.waits == []


async def test_a_broker_refusing_an_order_for_its_time_leaves_it_rejected(
    sqlite_url: str, tmp_path: Path
) -> None:
    # The context believes the venue open (an always-open market); the KIS simulator, in
    # virtual mode with real hours, refuses the order after the close over HTTP.
    migrate.upgrade(sqlite_url)
    clock = FixedClock(datetime(2026, 3, 10, 16, 0, tzinfo=KST))  # a Tuesday, after the close
    cfg = SimulatorConfig(
        mode="virtual",
        clock=clock,
        always_open=False,
        rate_limit_per_s=1000.0,
        token_min_interval_s=0.0,
        store_path=tmp_path / "sim.db",
    )
    engine = create_db_engine(sqlite_url)
    try:
        with SimulatorServer(cfg, port=0) as sim:
            config = KISConfig(
                mode=Mode.VIRTUAL,
                app_key=SecretStr(sim.cfg.app_key),
                app_secret=SecretStr(sim.cfg.app_secret),
                account_no=SecretStr(sim.cfg.account_no),
                base_url=sim.base_url,
                rate_limit_per_s=1000.0,
                token_min_interval_s=0.0,
                token_cache_dir=tmp_path / "kis",
                reconcile_delay_s=0.2,
                timeout_s=30.0,
            )
            async with KISClient(config, clock=clock) as kis:
                ctx = SessionContext(
                    portfolio="default",
                    starting_cash_krw=100_000_000,
                    market=FakeMarket(),
                    broker=KISBroker(kis),
                    sessions=session_factory(engine),
                    venue="test",
                    clock=clock,
                    sleep=FakeSleep(clock),
                    venue_hours=AlwaysOpen(),
                )
                day = clock.now().date()
                run_id = records_of(ctx).ensure_run(
                    thread_id=THREAD, portfolio="default", session_date=day, phase="regular"
                )
                records_of(ctx).record_proposals(run_id, [SAMSUNG])
                with transaction(ctx.sessions) as session:
                    OrderRepository(session).set_status(
                        SAMSUNG.client_order_id, OrderStatus.APPROVED
                    )
                mandate = Mandate(run_id=run_id, thread_id=THREAD, session_date=day)
                [outcome] = await Executor(ctx, mandate).run([SAMSUNG])
            assert [o for o in sim.broker_orders() if o.kind == "new"] == []
        with ctx.sessions() as session:
            row = OrderRepository(session).get(SAMSUNG.client_order_id)
        assert row is not None
        assert row.status is OrderStatus.REJECTED
        assert (row.error_code, row.reason) == ("40580000", "모의투자 장종료 입니다.")
        assert outcome.status is OrderStatus.REJECTED
        assert outcome.note == "모의투자 장종료 입니다."
        assert outcome.filled_qty == 0
    finally:
        engine.dispose()
