"""Broker conformance: the same cases against the paper broker, KIS over the simulator (real HTTP)
and the backtest's broker, in one known market (see conftest.py: 005930 flat at 54,000 on
2024-12-27, base 53,600, band 37,600-69,600, 10,000,000 KRW of cash).

All three decide checks, fills and costs through the KRX venue model (`tools.krx.venue`); these
cases pin that they answer alike where a caller can see it:

- **Place once per client order id.** Placing the same `client_order_id` twice answers the
  same accepted order and books one fill: one execution row, ten shares, one commission. (The
  backtest engine has no client order ids; for it the case pins the suite's adapter.)
- **Reject what KRX rejects, as an answer.** A limit off the tick grid, above the upper or
  below the lower limit, and a zero or negative quantity each come back `REJECTED` (never an
  exception), with nothing placed: no execution row, cash unchanged.
- **Same fills and costs for the same price.** A market buy of ten fills at 54,000 and costs
  commission floor(540,000 x 0.015 %) = 81; a marketable limit buy (54,100) fills at the better
  54,000; selling the twenty shares at a 54,000 limit pays commission floor(162.0) = 162 and
  the tax of the settlement date, 2025-01-02: 1,080,000 x 0.15 % = 1,620. Cash in KRW is the
  same to the won for the three brokers.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from core.orders import OrderType, PlacementStatus, Side
from tests.conformance.conftest import CASH, DAY, TICKER
from tools.broker import Broker, Execution, OrderRequest

pytestmark = pytest.mark.anyio


def order(
    cid: str, side: Side, qty: int, limit: int | None = None, *, validate: bool = True
) -> OrderRequest:
    fields: dict[str, Any] = {
        "client_order_id": cid,
        "ticker": TICKER,
        "side": side,
        "qty": qty,
        "order_type": OrderType.MARKET if limit is None else OrderType.LIMIT,
        "limit_price": limit,
    }
    if validate:
        return OrderRequest.model_validate(fields)
    # OrderRequest refuses a quantity <= 0 itself; the brokers must not rely on it.
    return OrderRequest.model_construct(**fields)


async def rows(broker: Broker) -> dict[str | None, Execution]:
    return {e.client_order_id: e for e in await broker.executions(DAY)}


async def cash(broker: Broker) -> int:
    return (await broker.account_snapshot()).cash.settled_d2


async def held(broker: Broker) -> int:
    positions = (await broker.account_snapshot()).positions
    return sum(p.qty for p in positions if p.ticker == TICKER)


async def test_an_order_is_placed_once_per_client_order_id(broker: Broker) -> None:
    first = await broker.place(order("c1", Side.BUY, 10))
    again = await broker.place(order("c1", Side.BUY, 10))
    assert first.status is again.status is PlacementStatus.ACCEPTED
    assert first.broker_order_id is not None
    assert again.broker_order_id == first.broker_order_id
    placed = [e for e in await broker.executions(DAY) if e.client_order_id == "c1"]
    assert [(e.ordered_qty, e.filled_qty) for e in placed] == [(10, 10)]
    assert await held(broker) == 10
    assert await cash(broker) == CASH - 540_000 - 81


@pytest.mark.parametrize(
    ("qty", "limit", "why"),
    [
        (10, 54_050, "off the tick grid: 54,050 is not a multiple of 100"),
        (10, 69_700, "one tick above the upper limit 69,600"),
        (10, 37_500, "one tick below the lower limit 37,600"),
        (0, None, "zero shares"),
        (-5, None, "a negative quantity"),
    ],
)
async def test_the_venue_rejects_what_krx_rejects(
    broker: Broker, qty: int, limit: int | None, why: str
) -> None:
    ack = await broker.place(order("r1", Side.BUY, qty, limit, validate=qty > 0))
    assert ack.status is PlacementStatus.REJECTED, why
    assert ack.broker_order_id is None
    assert ack.reason
    assert "r1" not in await rows(broker)
    assert await cash(broker) == CASH
    assert await held(broker) == 0


async def test_the_band_edges_are_accepted(broker: Broker) -> None:
    # 37,600 is the lower limit: a buy there rests (or lapses in the backtest), not refused.
    low = await broker.place(order("edge-low", Side.BUY, 1, 37_600))
    # 69,600 is the upper limit: a marketable buy, filled at the better 54,000.
    high = await broker.place(order("edge-high", Side.BUY, 1, 69_600))
    assert low.status is high.status is PlacementStatus.ACCEPTED
    filled = await rows(broker)
    assert filled["edge-low"].filled_qty == 0
    assert (filled["edge-high"].filled_qty, filled["edge-high"].avg_fill_price) == (
        1,
        Decimal(54_000),
    )


async def test_fills_and_costs_are_the_same_for_the_same_price(broker: Broker) -> None:
    await broker.place(order("b1", Side.BUY, 10))
    # 540,000 + commission floor(81.0) = 81
    assert await cash(broker) == CASH - 540_081 == 9_459_919
    await broker.place(order("b2", Side.BUY, 10, 54_100))
    # A marketable limit fills at the price, 54,000, not at the limit: the same 540,081.
    assert await cash(broker) == 9_459_919 - 540_081 == 8_919_838
    await broker.place(order("s1", Side.SELL, 20, 54_000))
    # 1,080,000 - commission floor(162.0) = 162 - tax 1,080,000 x 0.15 % = 1,620 (settles
    # 2025-01-02, 2025's rate; 2024's 0.18 % would be 1,944).
    assert await cash(broker) == 8_919_838 + 1_080_000 - 162 - 1_620 == 9_998_056
    assert await held(broker) == 0
    filled = await rows(broker)
    assert [(filled[c].filled_qty, filled[c].avg_fill_price) for c in ("b1", "b2", "s1")] == [
        (10, Decimal(54_000)),
        (10, Decimal(54_000)),
        (20, Decimal(54_000)),
    ]


@pytest.mark.parametrize("price", [69_600])
async def test_a_buy_into_a_price_locked_at_the_upper_limit_does_not_fill(broker: Broker) -> None:
    ack = await broker.place(order("lock", Side.BUY, 10))
    assert ack.status is PlacementStatus.ACCEPTED
    assert (await rows(broker))["lock"].filled_qty == 0
    assert await cash(broker) == CASH
    assert await held(broker) == 0
