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
from tools.krx import venue
from tools.krx.costs import CostModel
from tools.krx.venue import RejectCode
from tools.market_data import MarketQuote

CLOSED = "PAPER_CLOSED"
QTY = "PAPER_QTY"
HALTED = "PAPER_HALTED"
TICK = "PAPER_TICK"
BAND = "PAPER_BAND"
CASH = "PAPER_CASH"
HOLDINGS = "PAPER_HOLDINGS"
NOT_OPEN = "PAPER_NOT_OPEN"

_VENUE_CODES = {RejectCode.QTY: QTY, RejectCode.TICK: TICK, RejectCode.BAND: BAND}
"""The paper broker's codes for what the KRX venue model refuses."""


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
    band = quote.band(day)
    limit = order.limit_price if order.order_type is OrderType.LIMIT else None
    refused = venue.check_order(order.qty, limit, quote.market, day, band)
    if refused is not None:
        return Rejection(_VENUE_CODES[refused.code], refused.message)
    if order.order_type is OrderType.MARKET:
        if quote.halted:
            return Rejection(HALTED, f"{order.ticker} is halted; a market order cannot fill")
        price = band.upper
    else:
        price = order.limit_price or 0
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
    return venue.buy_cost(qty, price, cost_model)
