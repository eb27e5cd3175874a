"""What a fill costs, by date: commission on both sides and the sell tax of the settlement date.

One cost model for every venue: `tools.krx.costs.CostModel` (commission floored to the won, the
tax at the rate in force on the settlement date, T+2 trading days after the trade; ETFs exempt).
The backtest's parity mode alone keeps the unrounded amounts (backtesting.py's arithmetic),
through `exact=True`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_FLOOR, Decimal
from functools import lru_cache

from core.orders import Side
from tools.krx.calendar import settlement_date
from tools.krx.costs import CostModel
from tools.krx.rules import Market


@lru_cache(maxsize=4096)
def settles_on(trade_day: date) -> date:
    """Return the settlement date of a trade on `trade_day` (cached: replays ask each day often)."""
    return settlement_date(trade_day)


@dataclass(frozen=True, slots=True)
class FillCosts:
    """What one fill moves, integer KRW: value, commission, tax, and the cash change."""

    value: int
    commission: int
    tax: int
    cash_delta: int
    """Negative for a buy (value plus commission), positive for a sale (net of costs)."""
    settles_on: date


def fill_costs(
    side: Side, qty: int, price: int, *, market: Market, day: date, cost_model: CostModel
) -> FillCosts:
    """Price a fill of `qty` shares at `price` traded on KRX date `day`."""
    value = qty * price
    commission = cost_model.commission(value)
    settles = settles_on(day)
    if side is Side.BUY:
        return FillCosts(value, commission, 0, -(value + commission), settles)
    tax = cost_model.tax(value, settles, market)
    return FillCosts(value, commission, tax, value - commission - tax, settles)


def buy_cost(qty: int, price: int, cost_model: CostModel) -> int:
    """Return what a buy of `qty` at `price` takes from cash, commission included (KRW)."""
    value = qty * price
    return value + cost_model.commission(value)


def commission(value: int, cost_model: CostModel, *, exact: bool = False) -> Decimal:
    """Return the commission on a traded value: floored to the won, or unrounded if `exact`."""
    raw = cost_model.exact_commission(value)
    return raw if exact else raw.to_integral_value(rounding=ROUND_FLOOR)


def sell_tax(
    value: int, day: date, market: Market, cost_model: CostModel, *, exact: bool = False
) -> Decimal:
    """Return the tax on a sale traded on `day`: floored to the won, or unrounded if `exact`."""
    if not cost_model.charge_tax:  # no settlement date to look up
        return Decimal(0)
    raw = cost_model.exact_tax(value, settles_on(day), market)
    return raw if exact else raw.to_integral_value(rounding=ROUND_FLOOR)
