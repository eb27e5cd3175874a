"""Every rule the paper broker checks at `place`, with its reason code; nothing is kept."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from core.clock import KST, FixedClock
from core.orders import OrderType, PlacementStatus, Side
from tests.tools.paper.conftest import KODEX200, SAMSUNG, START_CASH, MakeBroker
from tests.tools.paper.fake_market import FakeMarket
from tests.tools.paper.orders import buy, sell
from tools.broker import OrderAck, OrderRequest
from tools.paper import PaperBroker

pytestmark = pytest.mark.anyio

DAY = date(2024, 12, 27)


async def assert_rejected(broker: PaperBroker, order: OrderRequest, code: str) -> OrderAck:
    ack = await broker.place(order)
    assert (ack.status, ack.reason_code) == (PlacementStatus.REJECTED, code)
    assert ack.broker_order_id is None
    assert ack.reason
    assert broker.store.order_by_client_id(broker.account, order.client_order_id) is None
    return ack


@pytest.mark.parametrize(
    "instant",
    [
        datetime(2024, 12, 27, 8, 59, 59, tzinfo=KST),  # before the open
        datetime(2024, 12, 27, 15, 30, tzinfo=KST),  # at the close
        datetime(2024, 12, 28, 10, 0, tzinfo=KST),  # Saturday
        datetime(2024, 12, 31, 10, 0, tzinfo=KST),  # year-end holiday
        datetime(2025, 1, 2, 9, 30, tzinfo=KST),  # the year's first session opens at 10:00
        datetime(2025, 11, 13, 9, 30, tzinfo=KST),  # an exam day opens at 10:00 too
        datetime(2025, 11, 13, 16, 30, tzinfo=KST),  # ... and closes at 16:30
    ],
)
async def test_market_closed(broker: PaperBroker, clock: FixedClock, instant: datetime) -> None:
    clock.set(instant)
    await assert_rejected(broker, buy("b1", 1, limit=53_600), "PAPER_CLOSED")
    await assert_rejected(broker, buy("b2", 1), "PAPER_CLOSED")


async def test_first_session_of_the_year_trades_from_ten(
    broker: PaperBroker, clock: FixedClock
) -> None:
    clock.set(datetime(2025, 1, 2, 10, 0, tzinfo=KST))
    assert (await broker.place(buy("b1", 1))).status is PlacementStatus.ACCEPTED


async def test_an_exam_day_trades_until_half_past_four(
    broker: PaperBroker, clock: FixedClock
) -> None:
    clock.set(datetime(2025, 11, 13, 16, 0, tzinfo=KST))
    assert (await broker.place(buy("b1", 1))).status is PlacementStatus.ACCEPTED


async def test_always_open_trades_at_night(make_broker: MakeBroker, clock: FixedClock) -> None:
    broker = make_broker(always_open=True)
    clock.set(datetime(2024, 12, 28, 3, 0, tzinfo=KST))
    assert (await broker.place(buy("b1", 1))).status is PlacementStatus.ACCEPTED


@pytest.mark.parametrize("qty", [0, -5])
async def test_quantity_must_be_positive_whole_shares(broker: PaperBroker, qty: int) -> None:
    # OrderRequest already refuses these; the broker does not rely on it.
    order = OrderRequest.model_construct(
        client_order_id="q1",
        ticker=SAMSUNG,
        side=Side.BUY,
        qty=qty,
        order_type=OrderType.MARKET,
        limit_price=None,
    )
    await assert_rejected(broker, order, "PAPER_QTY")


@pytest.mark.parametrize(
    ("ticker", "limit"),
    [(SAMSUNG, 53_650), (SAMSUNG, 53_601), (KODEX200, 35_003)],
)
async def test_limit_price_off_the_tick_grid(broker: PaperBroker, ticker: str, limit: int) -> None:
    await assert_rejected(broker, buy("t1", 1, limit=limit, ticker=ticker), "PAPER_TICK")


async def test_etf_trades_on_a_five_won_tick(broker: PaperBroker) -> None:
    ack = await broker.place(buy("t1", 1, limit=35_005, ticker=KODEX200))
    assert ack.status is PlacementStatus.ACCEPTED


async def test_limit_price_outside_the_daily_band(broker: PaperBroker, market: FakeMarket) -> None:
    # base 53,600: width floor(16,080 / 100) x 100 = 16,000, so 37,600 - 69,600
    market.set(SAMSUNG, 53_600, prev_close=53_600)
    await assert_rejected(broker, buy("h1", 1, limit=69_700), "PAPER_BAND")
    await assert_rejected(broker, buy("h2", 1, limit=37_500), "PAPER_BAND")
    assert (await broker.place(buy("h3", 1, limit=69_600))).status is PlacementStatus.ACCEPTED
    assert (await broker.place(buy("h4", 1, limit=37_600))).status is PlacementStatus.ACCEPTED


async def test_the_limits_kis_announced_bound_the_band(
    broker: PaperBroker, market: FakeMarket
) -> None:
    # Computed from 53,600 the band is 37,600 - 69,600; the quote says 40,000 - 60,000.
    market.set(SAMSUNG, 53_600, prev_close=53_600, limits=(40_000, 60_000))
    await assert_rejected(broker, buy("k1", 1, limit=60_100), "PAPER_BAND")
    await assert_rejected(broker, buy("k2", 1, limit=39_950), "PAPER_BAND")
    # A market buy is priced at the announced upper limit: 167 x 60,000 is over the
    # 10,000,000; 166 x 60,000 + 1,494 commission fits (at the computed 69,600 it would not).
    await assert_rejected(broker, buy("k3", 167), "PAPER_CASH")
    assert (await broker.place(buy("k4", 166))).status is PlacementStatus.ACCEPTED
    assert (await broker.place(buy("k5", 1, limit=60_000))).status is PlacementStatus.ACCEPTED
    assert (await broker.place(buy("k6", 1, limit=40_000))).status is PlacementStatus.ACCEPTED


async def test_buy_beyond_the_cash(broker: PaperBroker) -> None:
    # 187 x 53,600 = 10,023,200 > 10,000,000
    await assert_rejected(broker, buy("c1", 187, limit=53_600), "PAPER_CASH")
    # 186 x 53,600 = 9,969,600 + commission 1,495 = 9,971,095 fits
    assert (await broker.place(buy("c2", 186, limit=53_600))).status is PlacementStatus.ACCEPTED


async def test_market_buy_is_priced_at_the_upper_limit(broker: PaperBroker) -> None:
    # 144 at the last price (7,718,400) would fit; at the upper limit 69,600 it needs
    # 10,022,400 + commission. 143 needs 9,952,800 + 1,492 and is taken.
    await assert_rejected(broker, buy("m1", 144), "PAPER_CASH")
    assert (await broker.place(buy("m2", 143))).status is PlacementStatus.ACCEPTED
    snap = await broker.account_snapshot()
    assert snap.cash.settled_d2 == START_CASH - 143 * 53_600 - 1_149


async def test_open_buy_orders_hold_their_cash(broker: PaperBroker) -> None:
    # resting 100 @ 50,000 holds 5,000,750; 4,999,250 stay free
    await broker.place(buy("r1", 100, limit=50_000))
    await assert_rejected(broker, buy("r2", 100, limit=50_000), "PAPER_CASH")
    assert (await broker.place(buy("r3", 99, limit=50_000))).status is PlacementStatus.ACCEPTED


async def test_sell_without_shares(broker: PaperBroker) -> None:
    await assert_rejected(broker, sell("s1", 1), "PAPER_HOLDINGS")
    await assert_rejected(broker, sell("s2", 1, limit=53_600), "PAPER_HOLDINGS")


async def test_sell_beyond_what_open_sells_leave(broker: PaperBroker) -> None:
    await broker.place(buy("b1", 10))
    await broker.place(sell("s1", 6, limit=60_000))  # rests
    await assert_rejected(broker, sell("s2", 5, limit=60_000), "PAPER_HOLDINGS")
    assert (await broker.place(sell("s3", 4, limit=60_000))).status is PlacementStatus.ACCEPTED


async def test_market_order_on_a_halted_instrument(broker: PaperBroker, market: FakeMarket) -> None:
    market.set(SAMSUNG, 53_600, halted=True)
    await assert_rejected(broker, buy("x1", 1), "PAPER_HALTED")


async def test_a_rejected_id_is_judged_afresh(broker: PaperBroker, clock: FixedClock) -> None:
    clock.set(datetime(2024, 12, 27, 8, 0, tzinfo=KST))
    await assert_rejected(broker, buy("b1", 1), "PAPER_CLOSED")
    assert await broker.executions(DAY) == []
    clock.set(datetime(2024, 12, 27, 9, 0, tzinfo=KST))
    assert (await broker.place(buy("b1", 1))).status is PlacementStatus.ACCEPTED
