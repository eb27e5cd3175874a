"""The venue model's limit lock in the paper broker: no buy while the price sits at the upper limit.

Base 53,600 (tick 100): width floor(16,080 / 100) x 100 = 16,000, limits 37,600-69,600.
"""

from __future__ import annotations

from datetime import date

import pytest

from core.orders import PlacementStatus
from tests.tools.paper.conftest import SAMSUNG, START_CASH, MakeBroker
from tests.tools.paper.fake_market import FakeMarket
from tests.tools.paper.orders import buy, sell
from tools.krx.venue import FillRules
from tools.paper import PaperBroker

pytestmark = pytest.mark.anyio

DAY = date(2024, 12, 27)


async def filled(broker: PaperBroker, cid: str) -> int:
    return {r.client_order_id: r.filled_qty for r in await broker.executions(DAY)}[cid]


async def test_a_buy_at_the_locked_upper_limit_rests_until_the_price_leaves_it(
    broker: PaperBroker, market: FakeMarket
) -> None:
    market.set(SAMSUNG, 69_600, prev_close=53_600)
    ack = await broker.place(buy("b1", 10))
    assert ack.status is PlacementStatus.ACCEPTED
    assert await filled(broker, "b1") == 0
    market.set(SAMSUNG, 69_500)  # trades away from the limit: 695,000 + floor(104.25) = 104
    assert await filled(broker, "b1") == 10
    assert (await broker.account_snapshot()).cash.settled_d2 == START_CASH - 695_104


async def test_a_sell_at_the_locked_lower_limit_rests(
    broker: PaperBroker, market: FakeMarket
) -> None:
    market.set(SAMSUNG, 53_600, prev_close=53_600)
    await broker.place(buy("b1", 10))
    market.set(SAMSUNG, 37_600)
    await broker.place(sell("s1", 10))
    assert await filled(broker, "s1") == 0
    market.set(SAMSUNG, 37_700)
    assert await filled(broker, "s1") == 10


async def test_the_lock_can_be_turned_off(make_broker: MakeBroker, market: FakeMarket) -> None:
    broker = make_broker(fill_rules=FillRules(max_volume_share=None, block_locked_limit=False))
    market.set(SAMSUNG, 69_600, prev_close=53_600)
    await broker.place(buy("b1", 10))
    assert await filled(broker, "b1") == 10
