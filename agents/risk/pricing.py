"""Limit prices that KRX will accept: on the tick grid and inside today's ±30 % band.

The band is the day's limits as KIS announced them (`MarketSnapshot.upper_limit_krw` /
`lower_limit_krw`, from the quote), else `tools.krx.rules.price_limits` (base ± width). Its
ends need not sit on the tick grid of their own price band, so the orderable range is the grid
points inside it. A buyer's price is rounded down to the grid and a seller's up (each gives
away nothing), then pulled inside the band.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from agents.risk.models import DecisionKind, MarketSnapshot, RiskCode, RiskDecision
from core.orders import OrderType, Side
from tools.krx import venue
from tools.krx.rules import round_to_tick


@dataclass(frozen=True, slots=True)
class PriceBand:
    """Today's orderable prices for one ticker."""

    lower: int
    """Lowest on-grid price at or above the lower limit."""
    upper: int
    """Highest on-grid price at or below the upper limit."""
    limit_upper: int
    """The upper limit itself (상한가); a market buy is checked for cash at this price, as KIS
    does."""

    def contains(self, price: int) -> bool:
        """Tell whether a price is inside the orderable range."""
        return self.lower <= price <= self.upper


def day_limits(snapshot: MarketSnapshot, on: date | None = None) -> tuple[int, int]:
    """Return today's (lower, upper) limits: KIS's where the quote gave them, else computed.

    The exchange sets the limits; our computation from the previous close is the fallback for
    sources that do not say (the backtest's history, a quote without them).
    """
    band = venue.band_of(
        snapshot.prev_close_krw,
        snapshot.market,
        on,
        lower=snapshot.lower_limit_krw,
        upper=snapshot.upper_limit_krw,
    )
    return band.lower, band.upper


def price_band(snapshot: MarketSnapshot, on: date | None = None) -> PriceBand | None:
    """Return the orderable band inside today's limits, or None if no grid price fits."""
    raw_lower, raw_upper = day_limits(snapshot, on)
    lower = round_to_tick(raw_lower, snapshot.market, on, up=True)
    upper = round_to_tick(raw_upper, snapshot.market, on)
    # round_to_tick never goes below one tick, so a tiny band can snap outside itself
    if lower > upper or upper > raw_upper or lower < raw_lower:
        return None
    return PriceBand(lower=lower, upper=upper, limit_upper=raw_upper)


def snap_limit_price(
    price: int,
    side: Side,
    snapshot: MarketSnapshot,
    band: PriceBand,
    on: date | None = None,
) -> tuple[int, list[RiskDecision]]:
    """Put a wanted limit price on the grid and inside the band, recording each change.

    Args:
        price: the wanted price (the last price, or the approver's edit); must be positive.
        side: buys round down, sells round up.
        snapshot: the ticker's market (tick table).
        band: today's band for the ticker.
        on: the trading date (selects the tick table before 2023-01-25).
    """
    decisions: list[RiskDecision] = []
    snapped = round_to_tick(price, snapshot.market, on, up=side is Side.SELL)
    if snapped != price:
        direction = "up" if side is Side.SELL else "down"
        decisions.append(
            RiskDecision(
                kind=DecisionKind.CLAMP,
                code=RiskCode.TICK,
                reason=f"{price:,} KRW is off the tick grid; rounded {direction} to {snapped:,}",
                ticker=snapshot.ticker,
                side=side,
                field="limit_price_krw",
                before=price,
                after=snapped,
            )
        )
    inside = min(max(snapped, band.lower), band.upper)
    if inside != snapped:
        decisions.append(
            RiskDecision(
                kind=DecisionKind.CLAMP,
                code=RiskCode.PRICE_LIMIT,
                reason=(
                    f"{snapped:,} KRW is outside today's limits {band.lower:,}-{band.upper:,} "
                    f"(previous close {snapshot.prev_close_krw:,}); moved to {inside:,}"
                ),
                ticker=snapshot.ticker,
                side=side,
                field="limit_price_krw",
                before=snapped,
                after=inside,
            )
        )
    return inside, decisions


def check_price(
    order_type: OrderType,
    limit_price: int | None,
    snapshot: MarketSnapshot,
    on: date | None = None,
) -> int:
    """Return the price an order is valued at for the caps.

    A limit order's is its limit price; a market order's is the upper limit (상한가), which is
    what KIS reserves for a market buy.
    """
    if order_type is OrderType.LIMIT and limit_price is not None:
        return limit_price
    return day_limits(snapshot, on)[1]
