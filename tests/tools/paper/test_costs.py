"""Cash, commission and sale tax of paper fills, computed by hand.

Commission 0.015 % per side, floored; sale tax by the settlement date (T+2 trading days):
0.18 % for settlements in 2024, 0.15 % in 2025, none on ETFs.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from core.clock import KST, FixedClock
from core.orders import PlacementStatus
from tests.tools.paper.conftest import KODEX200, SAMSUNG, START_CASH
from tests.tools.paper.fake_market import FakeMarket
from tests.tools.paper.orders import buy, sell
from tools.krx.calendar import settlement_date
from tools.paper import PaperBroker

pytestmark = pytest.mark.anyio


def test_year_end_sales_settle_in_the_next_year() -> None:
    # The premise of the tax cases below, from the KRX calendar.
    assert settlement_date(date(2024, 12, 27)) == date(2025, 1, 2)
    assert settlement_date(date(2024, 12, 20)) == date(2024, 12, 24)
    assert settlement_date(date(2023, 12, 27)) == date(2024, 1, 2)


async def test_buy_then_sell_books_cash_commission_and_tax(
    broker: PaperBroker, market: FakeMarket, clock: FixedClock
) -> None:
    # Buy 37 with a limit above the last price: fills at the last price, 53,600.
    ack = await broker.place(buy("b1", 37, limit=53_700))
    assert ack.status is PlacementStatus.ACCEPTED
    # value 37 x 53,600 = 1,983,200; commission floor(297.48) = 297
    snap = await broker.account_snapshot()
    assert snap.cash.settled_d2 == START_CASH - 1_983_497 == 8_016_503
    assert snap.cash.deposit == START_CASH  # the buy settles on 2025-01-02
    assert snap.cash.total_eval == 8_016_503 + 1_983_200
    (pos,) = snap.positions
    assert (pos.ticker, pos.name, pos.qty, pos.sellable_qty) == (SAMSUNG, "삼성전자", 37, 37)
    assert pos.avg_price == Decimal("53608.0270")  # 1,983,497 / 37: cost includes commission
    assert (pos.last_price, pos.market_value, pos.unrealized_pnl) == (53_600, 1_983_200, -297)

    market.set(SAMSUNG, 54_100)
    clock.set(datetime(2024, 12, 27, 14, 0, tzinfo=KST))
    assert (await broker.place(sell("s1", 37))).status is PlacementStatus.ACCEPTED
    # value 2,001,700; commission floor(300.255) = 300; tax at 0.15 % floor(3,002.55) = 3,002
    snap = await broker.account_snapshot()
    assert snap.cash.settled_d2 == 8_016_503 + 2_001_700 - 300 - 3_002 == 10_014_901
    assert snap.cash.deposit == START_CASH
    assert snap.cash.total_eval == 10_014_901
    assert snap.positions == []

    rows = await broker.executions(date(2024, 12, 27))
    assert [(r.client_order_id, r.side.value, r.filled_qty, r.remaining_qty) for r in rows] == [
        ("b1", "buy", 37, 0),
        ("s1", "sell", 37, 0),
    ]
    assert [r.avg_fill_price for r in rows] == [Decimal(53_600), Decimal(54_100)]
    assert [r.limit_price for r in rows] == [53_700, 0]
    assert [r.broker_order_id for r in rows] == [ack.broker_order_id, rows[1].broker_order_id]


@pytest.mark.parametrize(
    ("day", "tax"),
    [
        (date(2024, 12, 20), 3_603),  # settles 2024-12-24: 0.18 % of 2,001,700 = 3,603.06
        (date(2024, 12, 27), 3_002),  # settles 2025-01-02: 0.15 % = 3,002.55
        (date(2023, 12, 27), 3_603),  # settles 2024-01-02: 0.18 %, not 2023's 0.20 %
    ],
)
async def test_sale_tax_follows_the_settlement_date(
    broker: PaperBroker, market: FakeMarket, clock: FixedClock, day: date, tax: int
) -> None:
    clock.set(datetime(day.year, day.month, day.day, 9, 30, tzinfo=KST))
    await broker.place(buy("b1", 37))
    market.set(SAMSUNG, 54_100)
    await broker.place(sell("s1", 37, limit=54_100))
    fills = broker.store.fills(broker.account, day)
    assert [(f.side.value, f.commission, f.tax) for f in fills] == [
        ("buy", 297, 0),
        ("sell", 300, tax),
    ]
    cash = (await broker.account_snapshot()).cash.settled_d2
    assert cash == START_CASH - 1_983_497 + 2_001_700 - 300 - tax


async def test_etf_sale_pays_no_tax(broker: PaperBroker, market: FakeMarket) -> None:
    await broker.place(buy("e1", 100, ticker=KODEX200))
    # 100 x 35,005 = 3,500,500; commission floor(525.075) = 525
    market.set(KODEX200, 35_400)
    await broker.place(sell("e2", 100, limit=35_400, ticker=KODEX200))
    # 3,540,000; commission 531; tax 0
    fills = broker.store.fills(broker.account, date(2024, 12, 27))
    assert [(f.commission, f.tax, f.cash_delta) for f in fills] == [
        (525, 0, -3_501_025),
        (531, 0, 3_539_469),
    ]
    snap = await broker.account_snapshot()
    assert snap.cash.settled_d2 == START_CASH + 38_444


async def test_partial_sale_keeps_the_average_price(
    broker: PaperBroker, market: FakeMarket
) -> None:
    await broker.place(buy("b1", 37))
    await broker.place(sell("s1", 10))
    (pos,) = (await broker.account_snapshot()).positions
    # cost 1,983,497 less 10/37 of it (536,080) leaves 1,447,417 for 27 shares
    assert (pos.qty, pos.sellable_qty) == (27, 27)
    assert pos.avg_price == Decimal("53608.0370")
    assert pos.unrealized_pnl == 27 * 53_600 - 1_447_417
