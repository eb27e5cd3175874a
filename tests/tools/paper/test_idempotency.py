"""`place` is safe to repeat: same client_order_id, same order, across instances and processes."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from core.clock import FixedClock
from core.orders import PlacementStatus
from tests.tools.paper.conftest import SAMSUNG, START_CASH, MakeBroker
from tests.tools.paper.fake_market import FakeMarket
from tests.tools.paper.orders import buy
from tools.broker import Broker, OrderAck
from tools.krx.costs import CostModel
from tools.paper import PaperBroker, PaperStore

pytestmark = pytest.mark.anyio

DAY = date(2024, 12, 27)
REPO = Path(__file__).resolve().parents[3]


def test_paper_broker_satisfies_the_protocol(broker: PaperBroker) -> None:
    assert isinstance(broker, Broker)


async def test_repeated_place_returns_the_same_order(
    broker: PaperBroker, market: FakeMarket
) -> None:
    first = await broker.place(buy("b1", 10))
    market.set(SAMSUNG, 60_000)
    second = await broker.place(buy("b1", 10))
    assert second == first
    rows = await broker.executions(DAY)
    assert [(r.client_order_id, r.filled_qty) for r in rows] == [("b1", 10)]
    assert (await broker.account_snapshot()).cash.settled_d2 == START_CASH - 536_080


async def test_concurrent_places_of_one_id_make_one_order(
    store_path: Path, make_broker: MakeBroker
) -> None:
    # Two brokers on two connections to one file, racing: the write transaction decides.
    other_store = PaperStore(store_path)
    try:
        other = make_broker(store=other_store)
        acks = await asyncio.gather(
            make_broker().place(buy("b1", 10, limit=53_000)),
            other.place(buy("b1", 10, limit=53_000)),
        )
        assert acks[0] == acks[1]
        assert len(await other.executions(DAY)) == 1
    finally:
        other_store.close()


async def test_place_is_idempotent_across_brokers_on_one_file(
    store_path: Path, market: FakeMarket, clock: FixedClock
) -> None:
    def open_broker(store: PaperStore, cash: int) -> PaperBroker:
        return PaperBroker(
            market, store=store, clock=clock, cost_model=CostModel(), starting_cash_krw=cash
        )

    first_store = PaperStore(store_path)
    first = await open_broker(first_store, START_CASH).place(buy("b1", 10, limit=53_000))
    first_store.close()

    second_store = PaperStore(store_path)
    try:
        # A restarted process: the starting cash of an existing account is ignored.
        broker = open_broker(second_store, 1)
        again = await broker.place(buy("b1", 10, limit=53_000))
        assert again == first
        assert again.broker_order_id is not None
        rows = await broker.executions(DAY)
        assert [(r.client_order_id, r.broker_order_id, r.remaining_qty) for r in rows] == [
            ("b1", first.broker_order_id, 10)
        ]
        # The resting order still holds its cash; a new id gets a new broker order id.
        other = await broker.place(buy("b2", 1, limit=53_000))
        assert other.broker_order_id != first.broker_order_id
        snap = await broker.account_snapshot()
        assert snap.cash.settled_d2 == START_CASH
    finally:
        second_store.close()


async def test_place_is_idempotent_across_processes(
    store_path: Path, make_broker: MakeBroker
) -> None:
    def place_in_child(cid: str) -> OrderAck:
        done = subprocess.run(
            [sys.executable, "-m", "tests.tools.paper.place_once", str(store_path), cid],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        )
        return OrderAck.model_validate_json(done.stdout)

    child = place_in_child("b1")
    assert child.status is PlacementStatus.ACCEPTED
    broker = make_broker()  # this process, on the same file
    assert await broker.place(buy("b1", 10, limit=53_000)) == child
    assert await broker.place(buy("b2", 1, limit=53_000)) != child
    assert place_in_child("b1") == child  # a third process, after this one wrote too
    rows = await broker.executions(DAY)
    assert [r.client_order_id for r in rows] == ["b1", "b2"]
    assert rows[0].broker_order_id == child.broker_order_id


async def test_in_memory_store_keeps_an_account(market: FakeMarket, clock: FixedClock) -> None:
    store = PaperStore()
    try:
        broker = PaperBroker(
            market, store=store, clock=clock, cost_model=CostModel(), starting_cash_krw=5_000
        )
        snap = await broker.account_snapshot()
        assert (snap.cash.deposit, snap.cash.settled_d2, snap.cash.total_eval) == (
            5_000,
            5_000,
            5_000,
        )
        assert snap.positions == []
    finally:
        store.close()
