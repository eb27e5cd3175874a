"""KRX order rules: the tick-size grid and the daily price limits.

Used by the simulator (to reject off-grid orders), the risk gate (to round proposed prices) and
the backtester. Prices are integer KRW.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

TICK_REFORM_DATE = date(2023, 1, 25)
"""From this date KOSPI, KOSDAQ and KONEX share one tick table."""
PRICE_LIMIT_RATE_PCT = 30
"""Daily limit, percent of the base price (normally the previous close), since 2015-06-15."""


class Market(StrEnum):
    """Listing market of an instrument; decides tick table and transaction tax."""

    KOSPI = "KOSPI"
    KOSDAQ = "KOSDAQ"
    KONEX = "KONEX"
    ETF = "ETF"


# (upper bound exclusive, tick) pairs; the last bound is None (no upper bound).
_TICKS_SINCE_2023: tuple[tuple[int | None, int], ...] = (
    (2_000, 1),
    (5_000, 5),
    (20_000, 10),
    (50_000, 50),
    (200_000, 100),
    (500_000, 500),
    (None, 1_000),
)
_TICKS_KOSPI_BEFORE_2023: tuple[tuple[int | None, int], ...] = (
    (1_000, 1),
    (5_000, 5),
    (10_000, 10),
    (50_000, 50),
    (100_000, 100),
    (500_000, 500),
    (None, 1_000),
)
_ETF_TICK = 5


def tick_size(price: int, market: Market = Market.KOSPI, on: date | None = None) -> int:
    """Return the tick (호가가격단위) for a price.

    Args:
        price: a price in KRW (> 0).
        market: the instrument's market; ETFs use a flat 5 KRW tick.
        on: the trading date; before 2023-01-25 the older table applies (KOSDAQ capped at 100).
    """
    if price <= 0:
        raise ValueError(f"price must be positive, got {price}")
    if market is Market.ETF:
        return _ETF_TICK
    table = _TICKS_SINCE_2023
    if on is not None and on < TICK_REFORM_DATE:
        table = _TICKS_KOSPI_BEFORE_2023
    for bound, tick in table:
        if bound is None or price < bound:
            if on is not None and on < TICK_REFORM_DATE and market is Market.KOSDAQ:
                return min(tick, 100)
            return tick
    raise AssertionError("unreachable: the last band has no bound")


def is_on_tick(price: int, market: Market = Market.KOSPI, on: date | None = None) -> bool:
    """Tell whether a limit price sits on the tick grid."""
    return price > 0 and price % tick_size(price, market, on) == 0


def round_to_tick(
    price: int, market: Market = Market.KOSPI, on: date | None = None, *, up: bool = False
) -> int:
    """Snap a price onto the grid, down by default (a buyer's limit), up if `up`."""
    if price <= 0:
        raise ValueError(f"price must be positive, got {price}")
    tick = tick_size(price, market, on)
    snapped = (price // tick) * tick
    if up and snapped < price:
        snapped += tick
        # Crossing a band edge upward can change the tick; the new price is on both grids.
    return max(snapped, tick)


def price_limits(
    base_price: int, market: Market = Market.KOSPI, on: date | None = None
) -> tuple[int, int]:
    """Return (lower, upper) daily limit prices from the base price (기준가, the previous close).

    KIS computes one width, 30 % of the base rounded down to the base price's tick
    (`rstc_wdth_prc`), and applies it both ways: base 128,500 with a 500 tick gives width 38,500,
    limits 90,000 and 167,000 (the official inquire-price sample).
    """
    if base_price <= 0:
        raise ValueError(f"base price must be positive, got {base_price}")
    base_tick = tick_size(base_price, market, on)
    width = (base_price * PRICE_LIMIT_RATE_PCT // 100) // base_tick * base_tick
    return max(base_price - width, 1), base_price + width
