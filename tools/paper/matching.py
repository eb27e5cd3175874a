"""How the paper broker decides that an order fills, and what the fill costs.

The model is deliberately simple and stated here once:

- The market is open during the KRX regular session of a trading day, as the XKRX calendar of
  `tools.krx.calendar` gives it (09:00-15:30 KST; 10:00 on the year's first session). Demos and
  tests may keep it open at any hour (`always_open`); the KRX day is then the KST date.
- An order fills whole, at the quote's last price, when the price is acceptable: any price for
  a market order, last <= limit for a buy, last >= limit for a sell (a marketable limit gets the
  better price). There is no depth or volume model, so no partial fills.
- A halted quote never fills anything.
- Costs are integer KRW: commission on both sides (`CostModel.commission`, floored), and on a
  sale the transaction tax at the rate in force on the settlement date (T+2 trading days of the
  fill's KRX date; ETFs exempt).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache

import pandas as pd

from core.clock import KST
from core.orders import OrderType, Side
from tools.krx.calendar import krx_calendar, settlement_date
from tools.krx.costs import CostModel
from tools.krx.rules import Market
from tools.market_data import MarketQuote


@lru_cache(maxsize=512)
def session_hours(day: date) -> tuple[datetime, datetime] | None:
    """Return (open, close) of the KRX regular session on `day`, or None on a holiday."""
    cal = krx_calendar()
    ts = pd.Timestamp(day)
    if not cal.is_session(ts):
        return None
    opens = cal.session_open(ts).to_pydatetime()
    closes = cal.session_close(ts).to_pydatetime()
    return opens, closes


def krx_day(now: datetime) -> date:
    """Return the KRX (KST) date of an instant."""
    return now.astimezone(KST).date()


def market_open(now: datetime, *, always_open: bool = False) -> bool:
    """Tell whether orders can trade at `now`."""
    if always_open:
        return True
    hours = session_hours(krx_day(now))
    return hours is not None and hours[0] <= now < hours[1]


def fill_price(
    side: Side, order_type: OrderType, limit_price: int, quote: MarketQuote
) -> int | None:
    """Return the price an order fills at against `quote`, or None when it does not fill."""
    if quote.halted:
        return None
    last = quote.last_price_krw
    if order_type is OrderType.MARKET:
        return last
    if side is Side.BUY:
        return last if last <= limit_price else None
    return last if last >= limit_price else None


@dataclass(frozen=True, slots=True)
class FillCosts:
    """What one fill moves: value, commission, tax, and the cash change (negative for a buy)."""

    value: int
    commission: int
    tax: int
    cash_delta: int
    settles_on: date


def fill_costs(
    side: Side, qty: int, price: int, market: Market, day: date, cost_model: CostModel
) -> FillCosts:
    """Price a fill of `qty` shares at `price` on KRX date `day`."""
    value = qty * price
    commission = cost_model.commission(value)
    settles_on = settlement_date(day)
    if side is Side.BUY:
        return FillCosts(value, commission, 0, -(value + commission), settles_on)
    tax = cost_model.tax(value, settles_on, market)
    return FillCosts(value, commission, tax, value - commission - tax, settles_on)
