"""The rules the paper broker applies when an order is placed, each with its reason code.

A refused order is answered `PlacementStatus.REJECTED` with one of these codes and nothing is kept
as an open order (so a later `place` with the same client_order_id is judged afresh, as with
KIS). The rules are the ones a KRX broker applies before an order reaches the exchange:

========================  ================================================================
``PAPER_CLOSED``          the market is closed (outside the regular session or a holiday)
``PAPER_QTY``             the quantity is not a whole, positive number of shares
``PAPER_HALTED``          a market order for a halted instrument (it has no price to rest at;
                          a limit order is accepted and rests, never filling while halted)
``PAPER_TICK``            the limit price is off the tick grid of the instrument's market
``PAPER_BAND``            the limit price is outside today's ±30 % band from the base price
``PAPER_CASH``            a buy costs more than the cash not held by open buy orders; a market
                          buy is priced at the upper limit, plus commission, as KIS does
``PAPER_HOLDINGS``        a sell of more shares than are held and not already offered
``PAPER_NOT_OPEN``        (cancel) the order already filled, expired or was cancelled
========================  ================================================================
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from core.orders import OrderType, Side
from tools.broker import OrderRequest
from tools.krx.costs import CostModel
from tools.krx.rules import is_on_tick, price_limits
from tools.market_data import MarketQuote

CLOSED = "PAPER_CLOSED"
QTY = "PAPER_QTY"
HALTED = "PAPER_HALTED"
TICK = "PAPER_TICK"
BAND = "PAPER_BAND"
CASH = "PAPER_CASH"
HOLDINGS = "PAPER_HOLDINGS"
NOT_OPEN = "PAPER_NOT_OPEN"


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why an order was refused."""

    code: str
    reason: str


@dataclass(frozen=True, slots=True)
class AccountRoom:
    """What the account can still commit: cash and shares not held by open orders."""

    free_cash: int
    """Cash minus what open buy orders may still spend."""
    sellable_qty: int
    """Shares of the order's ticker held minus those offered by open sell orders."""


def check_order(
    order: OrderRequest,
    quote: MarketQuote,
    room: AccountRoom,
    *,
    is_open: bool,
    day: date,
    cost_model: CostModel,
) -> Rejection | None:
    """Return why `order` must be refused, or None when it may be placed."""
    if not is_open:
        return Rejection(CLOSED, "the KRX regular session is closed")
    if not isinstance(order.qty, int) or isinstance(order.qty, bool) or order.qty <= 0:
        return Rejection(QTY, f"quantity must be a positive whole number, got {order.qty!r}")
    lower, upper = price_limits(quote.prev_close_krw, quote.market, day)
    if order.order_type is OrderType.MARKET:
        if quote.halted:
            return Rejection(HALTED, f"{order.ticker} is halted; a market order cannot fill")
        price = upper
    else:
        price = order.limit_price or 0
        if not is_on_tick(price, quote.market, day):
            return Rejection(TICK, f"{price} is not on the {quote.market.value} tick grid")
        if not lower <= price <= upper:
            return Rejection(BAND, f"{price} is outside today's limits {lower}-{upper}")
    if order.side is Side.BUY:
        needed = reserve_for_buy(price, order.qty, cost_model)
        if needed > room.free_cash:
            return Rejection(CASH, f"the buy needs {needed} KRW, {room.free_cash} is free")
    elif order.qty > room.sellable_qty:
        return Rejection(
            HOLDINGS, f"selling {order.qty} {order.ticker}, only {room.sellable_qty} sellable"
        )
    return None


def reserve_for_buy(price: int, qty: int, cost_model: CostModel) -> int:
    """Return the cash a buy of `qty` at `price` may spend, commission included."""
    value = price * qty
    return value + cost_model.commission(value)
