"""The executor's safety rules: one executor per session, nothing sent twice, nothing sent late.

- Two processes resuming one session at once: the database lease lets one execute; the other
  sends nothing and says so. Each order row moves to `submitting` only from `approved`.
- An order whose answer was lost is never sent again: it is looked for in the broker's list for
  the whole follow window, and handed to a person (`needs_review`) if it never shows up.
- A session resumed after its approval expired, or on another KRX day, sends nothing; what it
  left working on its day is settled against that day's list.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from agents.context import NeedsReview, SessionContext
from agents.executor import Executor, Mandate, OrderOutcome
from agents.venue_hours import AlwaysOpen
from core.clock import KST, FixedClock, SystemClock, kst_today
from core.errors import ExecutorBusyError
from core.orders import OrderStatus
from db import migrate
from db.engine import create_db_engine, session_factory, transaction
from db.repositories import OrderRepository, RunRepository
from tests.agents.executor_rig import THREAD, Rig, as_request, make_rig, order, records_of
from tests.agents.fake_broker import FakeSleep
from tests.tools.paper.fake_market import FakeMarket
from tools.broker import AccountSnapshot, Execution, OrderAck, OrderRequest
from tools.kis.broker import KISBroker
from tools.kis.client import KISClient
from tools.kis.config import KISConfig
from tools.kis.endpoints import Mode
from tools.kis.simulator import SimulatorConfig, SimulatorServer
from tools.krx.rules import round_to_tick

pytestmark = pytest.mark.anyio

SAMSUNG = order("005930", 10, 53_600)
HYNIX = order("000660", 3, 181_000)
NAVER = order("035420", 5, 209_000)
LG_CHEM = order("051910", 2, 334_500)


# --- an order whose answer was lost is never sent again ------------------------------------------


@pytest.mark.parametrize("tags", [True, False], ids=["paper-like", "kis-like"])
async def test_a_lost_order_that_shows_up_late_in_the_list_is_not_sent_again(
    tags: bool, sqlite_url: str, tmp_path: Path
) -> None:
    for rig in make_rig(sqlite_url, tmp_path, tags=tags):
        rig.ctx.fill_timeout = timedelta(seconds=20)
        orders = rig.approve(SAMSUNG)
        cid = SAMSUNG.client_order_id
        rig.broker.lose_answer[cid] = "timeout"
        rig.broker.lag[cid] = 6  # the list misses the order for six looks
        outcomes = await rig.execute(orders)
        assert rig.broker.place_calls == [cid]
        assert len(rig.broker.book) == 1
        assert outcomes[cid].status is OrderStatus.FILLED
        assert rig.row(SAMSUNG).broker_order_no == rig.broker.book[0].broker_order_id
        assert rig.fills(SAMSUNG) == [(f"{cid}:10", 10)]
        assert rig.sleep.waits == [2.0] * 6  # found at the seventh look
        assert outcomes[cid].note == "answer lost; found in the broker's list"


async def test_an_order_never_found_in_the_follow_window_is_handed_to_a_person(
    kis_rig: Rig,
) -> None:
    rig = kis_rig
    rig.ctx.fill_timeout = timedelta(seconds=20)
    reviews: list[NeedsReview] = []
    rig.ctx.on_needs_review = reviews.append
    orders = rig.approve(SAMSUNG, HYNIX)
    cid = SAMSUNG.client_order_id
    rig.broker.lose_answer[cid] = "dropped"  # it never reached the broker
    outcomes = await rig.execute(orders)
    assert rig.broker.place_calls == [cid, HYNIX.client_order_id]
    assert [o.client_order_id for o in rig.broker.book] == [HYNIX.client_order_id]
    row = rig.row(SAMSUNG)
    assert row.status is OrderStatus.NEEDS_REVIEW
    assert row.reason is not None and "not found in the broker's list" in row.reason
    assert outcomes[cid].status is OrderStatus.NEEDS_REVIEW
    assert row.reason in outcomes[cid].note
    assert [(r.client_order_id, r.reason, r.thread_id) for r in reviews] == [
        (cid, row.reason, THREAD)
    ]
    assert sum(rig.sleep.waits) == 20.0  # looked for during the whole follow window
    assert outcomes[HYNIX.client_order_id].status is OrderStatus.FILLED


async def test_after_a_restart_an_order_left_submitting_is_looked_for_never_sent(
    kis_rig: Rig,
) -> None:
    rig = kis_rig
    orders = rig.approve(SAMSUNG)
    rig.mark_submitting(SAMSUNG)  # killed after writing the row: did `place` run? Unknown.
    outcomes = await rig.execute(orders)
    assert rig.broker.place_calls == []
    assert rig.broker.book == []
    assert outcomes[SAMSUNG.client_order_id].status is OrderStatus.NEEDS_REVIEW
    assert rig.row(SAMSUNG).status is OrderStatus.NEEDS_REVIEW


async def test_after_a_restart_an_order_found_late_in_the_list_is_followed(kis_rig: Rig) -> None:
    rig = kis_rig
    orders = rig.approve(SAMSUNG)
    rig.mark_submitting(SAMSUNG)
    rig.broker.lag[SAMSUNG.client_order_id] = 3
    await rig.broker.place(as_request(SAMSUNG))  # reached the broker; the process then died
    rig.broker.restart()
    rig.broker.place_calls.clear()
    outcomes = await rig.execute(orders)
    assert rig.broker.place_calls == []
    assert len(rig.broker.book) == 1
    assert outcomes[SAMSUNG.client_order_id].status is OrderStatus.FILLED
    assert rig.sleep.waits == [2.0] * 3


# --- nothing is sent after the approval's expiry or on another day ------------------------------


async def test_on_a_later_day_nothing_is_sent_and_approved_orders_expire(rig: Rig) -> None:
    orders = rig.approve(SAMSUNG, HYNIX)
    rig.clock.advance(timedelta(days=1))  # resumed the next morning
    outcomes = await rig.execute(orders)
    assert rig.broker.place_calls == []
    for o in orders:
        row = rig.row(o)
        assert row.status is OrderStatus.EXPIRED
        assert row.reason is not None and "2025-06-10" in row.reason
        assert outcomes[o.client_order_id].status is OrderStatus.EXPIRED
    assert rig.sleep.waits == []


async def test_after_the_approval_expiry_nothing_is_sent(rig: Rig) -> None:
    orders = rig.approve(SAMSUNG, HYNIX)
    expired = rig.clock.now() - timedelta(seconds=1)
    outcomes = await rig.execute(orders, expires_at=expired)
    assert rig.broker.place_calls == []
    for o in orders:
        row = rig.row(o)
        assert row.status is OrderStatus.EXPIRED
        assert row.reason is not None and "approval expired" in row.reason
        assert outcomes[o.client_order_id].status is OrderStatus.EXPIRED


@pytest.mark.parametrize("tags", [True, False], ids=["paper-like", "kis-like"])
async def test_orders_left_from_the_session_day_are_settled_against_that_days_list(
    tags: bool, sqlite_url: str, tmp_path: Path
) -> None:
    for rig in make_rig(sqlite_url, tmp_path, tags=tags):
        reviews: list[NeedsReview] = []
        rig.ctx.on_needs_review = reviews.append
        orders = rig.approve(SAMSUNG, HYNIX, NAVER, LG_CHEM)
        # SAMSUNG was sent and its answer stored; its fills were never read.
        rig.mark_submitting(SAMSUNG)
        ack = await rig.broker.place(as_request(SAMSUNG))
        assert ack.broker_order_id is not None
        rig.mark_sent(SAMSUNG, ack.broker_order_id)
        # HYNIX reached the broker, its answer was never stored; 1 of 3 filled on the day.
        rig.mark_submitting(HYNIX)
        await rig.broker.place(as_request(HYNIX))
        rig.broker.fills[HYNIX.client_order_id] = [1]
        # NAVER's row was written, then the process died before `place`.
        rig.mark_submitting(NAVER)
        # LG_CHEM was approved and never sent.
        rig.broker.restart()
        rig.broker.place_calls.clear()
        rig.clock.advance(timedelta(days=1))
        outcomes = await rig.execute(orders)

        assert rig.broker.place_calls == []
        assert rig.broker.cancel_calls == []
        assert len(rig.broker.book) == 2
        samsung, hynix = outcomes[SAMSUNG.client_order_id], outcomes[HYNIX.client_order_id]
        assert samsung.status is OrderStatus.FILLED
        assert rig.fills(SAMSUNG) == [(f"{SAMSUNG.client_order_id}:10", 10)]
        assert (hynix.status, hynix.filled_qty) == (OrderStatus.EXPIRED, 1)
        assert rig.fills(HYNIX) == [(f"{HYNIX.client_order_id}:1", 1)]
        assert "lapsed at the close of 2025-06-10" in hynix.note
        naver = rig.row(NAVER)
        assert naver.status is OrderStatus.NEEDS_REVIEW
        assert naver.reason is not None and "2025-06-10" in naver.reason
        assert [r.client_order_id for r in reviews] == [NAVER.client_order_id]
        assert outcomes[LG_CHEM.client_order_id].status is OrderStatus.EXPIRED
        assert rig.sleep.waits == []


# --- one executor per session --------------------------------------------------------------------


def test_an_order_row_moves_to_submitting_only_from_approved(db_url: str, tmp_path: Path) -> None:
    for rig in make_rig(db_url, tmp_path, tags=True):
        rig.approve(SAMSUNG)
        cid = SAMSUNG.client_order_id
        now = rig.clock.now()
        with transaction(rig.ctx.sessions) as session:
            assert OrderRepository(session).claim_for_submission(cid, now) is True
        with transaction(rig.ctx.sessions) as session:
            assert OrderRepository(session).claim_for_submission(cid, now) is False
        assert rig.row(SAMSUNG).status is OrderStatus.SUBMITTING


def test_the_executor_lease_is_taken_by_compare_and_set(db_url: str, tmp_path: Path) -> None:
    for rig in make_rig(db_url, tmp_path, tags=True):
        now, ttl = rig.clock.now(), timedelta(seconds=30)
        with transaction(rig.ctx.sessions) as session:
            runs = RunRepository(session)
            assert runs.take_executor_lease(rig.run_id, "a", now=now, until=now + ttl)
            assert not runs.take_executor_lease(rig.run_id, "b", now=now, until=now + ttl)
            assert not runs.renew_executor_lease(rig.run_id, "b", until=now + ttl)
            assert runs.renew_executor_lease(rig.run_id, "a", until=now + 2 * ttl)
        later = now + 3 * ttl  # a's lease lapsed: its holder died
        with transaction(rig.ctx.sessions) as session:
            runs = RunRepository(session)
            assert runs.take_executor_lease(rig.run_id, "b", now=later, until=later + ttl)
            assert not runs.renew_executor_lease(rig.run_id, "a", until=later + ttl)
            runs.release_executor_lease(rig.run_id, "a")  # not a's to release any more
            assert runs.executor_lease(rig.run_id) == ("b", later + ttl)
            runs.release_executor_lease(rig.run_id, "b")
            assert runs.executor_lease(rig.run_id) == (None, None)


async def test_an_executor_finding_the_session_leased_sends_nothing(
    db_url: str, tmp_path: Path
) -> None:
    for rig in make_rig(db_url, tmp_path, tags=True):
        orders = rig.approve(SAMSUNG)
        now = rig.clock.now()
        with transaction(rig.ctx.sessions) as session:
            taken = RunRepository(session).take_executor_lease(
                rig.run_id, "host:4242:other", now=now, until=now + timedelta(seconds=30)
            )
            assert taken
        with pytest.raises(ExecutorBusyError, match="another process is executing") as caught:
            await rig.execute(orders)
        assert "host:4242:other" in str(caught.value) and "\n" not in str(caught.value)
        assert rig.broker.place_calls == []
        assert rig.row(SAMSUNG).status is OrderStatus.APPROVED
        rig.clock.advance(timedelta(seconds=31))  # the holder died; its lease lapsed
        outcomes = await rig.execute(orders)
        assert outcomes[SAMSUNG.client_order_id].status is OrderStatus.FILLED
        with rig.ctx.sessions() as session:
            assert RunRepository(session).executor_lease(rig.run_id) == (None, None)


class GatedBroker:
    """A KIS broker whose first `place` waits for the other executor's (or gives up waiting).

    Two executors that both got past their checks meet here and place together; with the lease,
    the second never gets this far and the first goes on once the wait times out.
    """

    def __init__(self, inner: KISBroker, gate: threading.Barrier) -> None:
        self.inner = inner
        self.gate = gate
        self.placed = 0

    def remember(self, client_order_id: str, broker_order_id: str, org_no: str = "") -> None:
        self.inner.remember(client_order_id, broker_order_id, org_no)

    async def account_snapshot(self) -> AccountSnapshot:
        return await self.inner.account_snapshot()

    async def place(self, order: OrderRequest) -> OrderAck:
        if self.placed == 0:
            with contextlib.suppress(threading.BrokenBarrierError):  # the other never came
                await asyncio.to_thread(self.gate.wait, 3.0)
        self.placed += 1
        return await self.inner.place(order)

    async def cancel(self, client_order_id: str) -> OrderAck:
        return await self.inner.cancel(client_order_id)

    async def executions(self, day: date) -> list[Execution]:
        return await self.inner.executions(day)


def _kis_config(sim: SimulatorServer, folder: Path) -> KISConfig:
    return KISConfig(
        mode=Mode.REAL,
        app_key=SecretStr(sim.cfg.app_key),
        app_secret=SecretStr(sim.cfg.app_secret),
        account_no=SecretStr(sim.cfg.account_no),
        base_url=sim.base_url,
        rate_limit_per_s=1000.0,
        token_min_interval_s=0.0,
        token_cache_dir=folder,
        reconcile_delay_s=0.2,
        timeout_s=30.0,
    )


def test_two_executors_resuming_one_session_at_once_send_each_order_once(
    db_url: str, tmp_path: Path
) -> None:
    migrate.upgrade(db_url)
    clock = SystemClock()
    cfg = SimulatorConfig(
        mode="real",
        clock=clock,
        always_open=True,
        rate_limit_per_s=1000.0,
        token_min_interval_s=0.0,
        store_path=tmp_path / "sim.db",
    )
    with SimulatorServer(cfg, port=0) as sim:

        async def prices() -> dict[str, int]:
            async with KISClient(_kis_config(sim, tmp_path / "main"), clock=clock) as kis:
                return {t: (await kis.price(t)).price for t in ("005930", "000660")}

        price = asyncio.run(prices())
        # The always-open market keeps moving: a limit 3 % over the quote still fills however
        # long a loaded machine takes to place it (what is tested is that each goes out once).
        marketable = {t: round_to_tick(p * 103 // 100, up=True) for t, p in price.items()}
        orders = [
            order("005930", 2, marketable["005930"]),
            order("000660", 1, marketable["000660"]),
        ]
        engine = create_db_engine(db_url)

        def context(broker: Any, sessions: Any) -> SessionContext:
            return SessionContext(
                portfolio="default",
                starting_cash_krw=100_000_000,
                market=FakeMarket(),
                broker=broker,
                sessions=sessions,
                venue="test",
                clock=clock,
                fill_timeout=timedelta(seconds=15),
                fill_poll_interval_s=0.2,
                venue_hours=AlwaysOpen(),  # the simulator here is always open, on any day
            )

        try:
            ctx = context(None, session_factory(engine))
            today = kst_today(clock)
            run_id = records_of(ctx).ensure_run(
                thread_id=THREAD, portfolio="default", session_date=today, phase="regular"
            )
            records_of(ctx).record_proposals(run_id, orders)
            with transaction(ctx.sessions) as session:
                for o in orders:
                    OrderRepository(session).set_status(o.client_order_id, OrderStatus.APPROVED)
        finally:
            engine.dispose()

        gate = threading.Barrier(2)
        results: dict[str, list[OrderOutcome] | BaseException] = {}

        def executor(name: str) -> None:
            async def run() -> list[OrderOutcome]:
                own = create_db_engine(db_url)
                try:
                    async with KISClient(_kis_config(sim, tmp_path / name), clock=clock) as kis:
                        ctx = context(GatedBroker(KISBroker(kis), gate), session_factory(own))
                        mandate = Mandate(run_id=run_id, thread_id=THREAD, session_date=today)
                        return await Executor(ctx, mandate).run(orders)
                finally:
                    own.dispose()

            try:
                results[name] = asyncio.run(run())
            except BaseException as exc:
                results[name] = exc

        threads = [threading.Thread(target=executor, args=(n,)) for n in ("one", "two")]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)

        at_broker = [o for o in sim.broker_orders() if o.kind == "new"]
        assert sorted((o.pdno, o.qty) for o in at_broker) == [("000660", 1), ("005930", 2)]
        errors = [r for r in results.values() if isinstance(r, BaseException)]
        done = [r for r in results.values() if not isinstance(r, BaseException)]
        assert len(errors) == 1 and isinstance(errors[0], ExecutorBusyError), errors
        assert len(done) == 1
        assert {o.status for o in done[0]} == {OrderStatus.FILLED}


async def test_a_kis_order_left_in_doubt_is_settled_from_that_days_list_over_http(
    sqlite_url: str, tmp_path: Path
) -> None:
    # The KIS simulator on loopback answers inquire-daily-ccld for a past day, in the wire
    # format, so a session resumed the next morning books what its day did.
    migrate.upgrade(sqlite_url)
    clock = FixedClock(datetime(2026, 3, 10, 10, 30, tzinfo=KST))  # a Tuesday session
    day = kst_today(clock)
    cfg = SimulatorConfig(
        mode="real",
        clock=clock,
        always_open=True,
        rate_limit_per_s=1000.0,
        token_min_interval_s=0.0,
        store_path=tmp_path / "sim.db",
    )
    engine = create_db_engine(sqlite_url)
    try:
        with SimulatorServer(cfg, port=0) as sim:
            async with KISClient(_kis_config(sim, tmp_path / "kis"), clock=clock) as kis:
                price = {t: (await kis.price(t)).price for t in ("005930", "000660")}
                sent, unsent = (
                    order("005930", 2, price["005930"]),
                    order("000660", 1, price["000660"]),
                )
                ctx = SessionContext(
                    portfolio="default",
                    starting_cash_krw=100_000_000,
                    market=FakeMarket(),
                    broker=KISBroker(kis),
                    sessions=session_factory(engine),
                    venue="test",
                    clock=clock,
                    sleep=FakeSleep(clock),
                )
                run_id = records_of(ctx).ensure_run(
                    thread_id=THREAD, portfolio="default", session_date=day, phase="regular"
                )
                records_of(ctx).record_proposals(run_id, [sent, unsent])
                with transaction(ctx.sessions) as session:
                    for o in (sent, unsent):
                        OrderRepository(session).set_status(o.client_order_id, OrderStatus.APPROVED)
                    assert OrderRepository(session).claim_for_submission(
                        sent.client_order_id, clock.now()
                    )
                # The process that claimed `sent` placed it, then died before storing the answer.
                dead = KISBroker(kis)
                assert (await dead.place(as_request(sent))).status.value == "accepted"

                clock.advance(timedelta(days=1))  # resumed the next morning
                mandate = Mandate(run_id=run_id, thread_id=THREAD, session_date=day)
                outcomes = {
                    o.client_order_id: o for o in await Executor(ctx, mandate).run([sent, unsent])
                }
            at_broker = [o for o in sim.broker_orders() if o.kind == "new"]

        assert [(o.pdno, o.qty) for o in at_broker] == [("005930", 2)]
        found = outcomes[sent.client_order_id]
        assert found.status is OrderStatus.FILLED and found.filled_qty == 2
        assert found.broker_order_id == at_broker[0].odno
        assert found.filled_value_krw == at_broker[0].filled_amt
        assert outcomes[unsent.client_order_id].status is OrderStatus.EXPIRED
    finally:
        engine.dispose()


@pytest.mark.parametrize(("lag", "ends"), [(6, OrderStatus.FILLED), (60, OrderStatus.NEEDS_REVIEW)])
async def test_a_kis_order_whose_answer_is_lost_behind_a_lagging_list_is_sent_once(
    lag: int, ends: OrderStatus, sqlite_url: str, tmp_path: Path
) -> None:
    # Over HTTP: the simulator takes the order and loses the answer (timeout after processing),
    # and its order list leaves the order out of the next `lag` listings. The KIS client looks
    # three times, the executor at every poll of the follow window: the order is sent once.
    migrate.upgrade(sqlite_url)
    clock = FixedClock(datetime(2026, 3, 10, 10, 30, tzinfo=KST))
    cfg = SimulatorConfig(
        mode="real",
        clock=clock,
        always_open=True,
        rate_limit_per_s=1000.0,
        token_min_interval_s=0.0,
        store_path=tmp_path / "sim.db",
        timeout_delay_s=30.0,
    )
    engine = create_db_engine(sqlite_url)
    reviews: list[NeedsReview] = []
    try:
        with SimulatorServer(cfg, port=0) as sim:
            async with KISClient(_kis_config(sim, tmp_path / "kis"), clock=clock) as kis:
                price = (await kis.price("005930")).price
            config = _kis_config(sim, tmp_path / "kis").model_copy(update={"timeout_s": 3.0})
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
                    fill_timeout=timedelta(seconds=20),
                    fill_poll_interval_s=2.0,
                    on_needs_review=reviews.append,
                )
                day = kst_today(clock)
                run_id = records_of(ctx).ensure_run(
                    thread_id=THREAD, portfolio="default", session_date=day, phase="regular"
                )
                wanted = order("005930", 2, price)
                records_of(ctx).record_proposals(run_id, [wanted])
                with transaction(ctx.sessions) as session:
                    OrderRepository(session).set_status(
                        wanted.client_order_id, OrderStatus.APPROVED
                    )
                sim.faults.inject("timeout", path="order-cash", after_processing=True)
                sim.faults.inject("order_list_lag", path="order-cash", lag_lookups=lag)
                mandate = Mandate(run_id=run_id, thread_id=THREAD, session_date=day)
                (outcome,) = await Executor(ctx, mandate).run([wanted])
            at_broker = [o for o in sim.broker_orders() if o.kind == "new"]
            assert [(o.pdno, o.qty) for o in at_broker] == [("005930", 2)]
            assert sim.stats.requests_by_path["/uapi/domestic-stock/v1/trading/order-cash"] == 1
        assert outcome.status is ends
        if ends is OrderStatus.FILLED:
            assert outcome.broker_order_id == at_broker[0].odno
            assert outcome.note == "answer lost; found in the broker's list"
        else:
            assert outcome.broker_order_id is None
            assert [r.client_order_id for r in reviews] == [wanted.client_order_id]
            assert "not found in the broker's list" in reviews[0].reason
    finally:
        engine.dispose()
