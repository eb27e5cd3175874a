"""Limit orders that rest, fill when the price crosses, expire at day end, or are cancelled."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

from core.clock import KST, FixedClock
from core.orders import PlacementStatus
from tests.tools.paper.conftest import SAMSUNG, START_CASH, MakeBroker
from tests.tools.paper.fake_market import FakeMarket
from tests.tools.paper.orders import buy, sell
from tools.broker import UnknownOrderError
from tools.paper import PaperBroker

pytestmark = pytest.mark.anyio

DAY = date(2024, 12, 27)


async def state(broker: PaperBroker, cid: str) -> tuple[int, int, Decimal]:
    rows = {r.client_order_id: r for r in await broker.executions(DAY)}
    row = rows[cid]
    return row.filled_qty, row.remaining_qty, row.avg_fill_price


async def test_buy_limit_rests_then_fills_at_the_last_price_when_it_crosses(
    broker: PaperBroker, market: FakeMarket
) -> None:
    ack = await broker.place(buy("b1", 10, limit=53_000))
    assert ack.status is PlacementStatus.ACCEPTED
    assert await state(broker, "b1") == (0, 10, Decimal(0))
    assert (await broker.account_snapshot()).cash.settled_d2 == START_CASH

    market.set(SAMSUNG, 53_100)  # still above the limit
    assert await state(broker, "b1") == (0, 10, Decimal(0))
    market.set(SAMSUNG, 52_900)  # crossed: fills at 52,900, better than the limit
    assert await state(broker, "b1") == (10, 0, Decimal(52_900))
    # 529,000 + commission floor(79.35) = 79
    assert (await broker.account_snapshot()).cash.settled_d2 == START_CASH - 529_079


async def test_sell_limit_rests_then_fills_on_a_snapshot(
    broker: PaperBroker, market: FakeMarket
) -> None:
    await broker.place(buy("b1", 10))
    await broker.place(sell("s1", 10, limit=54_000))
    snap = await broker.account_snapshot()
    assert (snap.positions[0].qty, snap.positions[0].sellable_qty) == (10, 0)

    market.set(SAMSUNG, 54_500)
    snap = await broker.account_snapshot()
    assert snap.positions == []
    assert await state(broker, "s1") == (10, 0, Decimal(54_500))


async def test_resting_order_fills_when_another_order_is_placed(
    broker: PaperBroker, market: FakeMarket
) -> None:
    first = await broker.place(buy("b1", 10, limit=53_000))
    market.set(SAMSUNG, 52_000)
    await broker.place(buy("b2", 1, limit=51_000))  # rests; placing it re-checks b1 first
    fills = broker.store.fills(broker.account, DAY)
    assert [(f.broker_order_id, f.qty, f.price) for f in fills] == [
        (first.broker_order_id, 10, 52_000)
    ]


async def test_halted_quote_never_fills(broker: PaperBroker, market: FakeMarket) -> None:
    await broker.place(buy("b1", 10, limit=53_600))  # crosses, but...
    assert await state(broker, "b1") == (10, 0, Decimal(53_600))
    market.set(SAMSUNG, 53_000, halted=True)
    ack = await broker.place(buy("b2", 10, limit=53_600))
    assert ack.status is PlacementStatus.ACCEPTED
    assert await state(broker, "b2") == (0, 10, Decimal(0))
    market.set(SAMSUNG, 53_000, halted=False)
    assert await state(broker, "b2") == (10, 0, Decimal(53_000))


async def test_order_expires_when_the_session_closes(
    broker: PaperBroker, market: FakeMarket, clock: FixedClock
) -> None:
    await broker.place(buy("b1", 10, limit=53_000))
    clock.set(datetime(2024, 12, 27, 15, 29, 59, tzinfo=KST))
    assert await state(broker, "b1") == (0, 10, Decimal(0))
    clock.set(datetime(2024, 12, 27, 15, 30, tzinfo=KST))
    market.set(SAMSUNG, 52_000)  # after the close: too late
    assert await state(broker, "b1") == (0, 0, Decimal(0))
    (order,) = broker.store.orders_on(broker.account, DAY)
    assert (order.status, order.cancelled_qty) == ("expired", 10)
    clock.set(datetime(2024, 12, 30, 9, 0, tzinfo=KST))
    assert await state(broker, "b1") == (0, 0, Decimal(0))
    assert (await broker.account_snapshot()).cash.settled_d2 == START_CASH


async def test_always_open_orders_expire_when_the_krx_date_changes(
    make_broker: MakeBroker, market: FakeMarket, clock: FixedClock
) -> None:
    broker = make_broker(always_open=True)
    clock.set(datetime(2024, 12, 27, 23, 0, tzinfo=KST))
    assert (await broker.place(buy("b1", 10, limit=53_000))).status is PlacementStatus.ACCEPTED
    clock.advance(timedelta(minutes=30))
    assert await state(broker, "b1") == (0, 10, Decimal(0))
    clock.advance(timedelta(hours=1))  # 2024-12-28 00:30 KST
    market.set(SAMSUNG, 52_000)
    assert await state(broker, "b1") == (0, 0, Decimal(0))


async def test_expired_buy_frees_its_cash(
    broker: PaperBroker, market: FakeMarket, clock: FixedClock
) -> None:
    await broker.place(buy("b1", 180, limit=53_000))  # holds 9,541,431 of 10,000,000
    assert (await broker.place(buy("b2", 10, limit=53_000))).reason_code == "PAPER_CASH"
    clock.set(datetime(2024, 12, 30, 9, 0, tzinfo=KST))
    assert (await broker.place(buy("b2", 10, limit=53_000))).status is PlacementStatus.ACCEPTED


async def test_cancel_a_resting_order(broker: PaperBroker, market: FakeMarket) -> None:
    placed = await broker.place(buy("b1", 10, limit=53_000))
    ack = await broker.cancel("b1")
    assert ack.status is PlacementStatus.ACCEPTED
    assert ack.broker_order_id == placed.broker_order_id
    market.set(SAMSUNG, 52_000)
    assert await state(broker, "b1") == (0, 0, Decimal(0))
    assert (await broker.account_snapshot()).positions == []

    again = await broker.cancel("b1")
    assert (again.status, again.reason_code) == (PlacementStatus.REJECTED, "PAPER_NOT_OPEN")
    assert again.broker_order_id == placed.broker_order_id


async def test_cancel_after_the_price_crossed_finds_the_order_filled(
    broker: PaperBroker, market: FakeMarket
) -> None:
    await broker.place(buy("b1", 10, limit=53_000))
    market.set(SAMSUNG, 52_500)
    ack = await broker.cancel("b1")
    assert (ack.status, ack.reason_code) == (PlacementStatus.REJECTED, "PAPER_NOT_OPEN")
    assert "filled" in (ack.reason or "")
    assert await state(broker, "b1") == (10, 0, Decimal(52_500))


async def test_cancel_of_an_unknown_order_raises(broker: PaperBroker) -> None:
    with pytest.raises(UnknownOrderError):
        await broker.cancel("never-placed")
