"""What KRX refuses before an order reaches the book: whole shares, the tick grid, the daily band.

Each venue answers a refusal in its own words (the paper broker's `PAPER_TICK`, the simulator's
KIS message, the backtest's rejection record); the rule and its reason live here once. A refusal
is a value, never an exception: brokers turn it into a rejected order.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from tools.krx.rules import Market, is_on_tick, price_limits


class RejectCode(StrEnum):
    """Which rule refused an order."""

    QTY = "qty"
    """The quantity is not a positive whole number of shares."""
    TICK = "tick"
    """The limit price is off the tick grid of the instrument's market on that date."""
    BAND = "band"
    """The limit price is outside the day's ±30 % band around the base price."""


@dataclass(frozen=True, slots=True)
class VenueRejection:
    """Why the venue refuses an order: the rule, a fixed phrase and the numbers behind it."""

    code: RejectCode
    reason: str
    """A fixed phrase per rule (records and reports group by it)."""
    detail: str = ""
    """The order's numbers (price, grid, limits), for a person reading the refusal."""

    @property
    def message(self) -> str:
        """The phrase with its detail."""
        return f"{self.reason}: {self.detail}" if self.detail else self.reason


@dataclass(frozen=True, slots=True)
class PriceBand:
    """The day's lower and upper limit prices, KRW (inclusive)."""

    lower: int
    upper: int

    def __contains__(self, price: object) -> bool:
        return isinstance(price, int) and self.lower <= price <= self.upper


def band_of(
    base_price: int,
    market: Market,
    day: date | None,
    *,
    lower: int | None = None,
    upper: int | None = None,
) -> PriceBand:
    """Return the day's band from its base price (기준가, the previous close).

    `lower`/`upper` are the limits the exchange announced (a KIS quote's 하한가/상한가); where
    given they win over the computation, which is the rule, not the exchange's word. `day`
    None means today's rules (as `tools.krx.rules.price_limits`).
    """
    computed_lower, computed_upper = price_limits(base_price, market, day)
    return PriceBand(lower or computed_lower, upper or computed_upper)


def check_qty(qty: object) -> VenueRejection | None:
    """Refuse anything but a positive whole number of shares (KRX trades whole shares)."""
    if isinstance(qty, bool) or not isinstance(qty, int) or qty <= 0:
        return VenueRejection(
            RejectCode.QTY, "quantity is not a positive whole number", f"got {qty!r}"
        )
    return None


def check_price(
    price: int, market: Market, day: date, band: PriceBand | None, *, ticks: bool = True
) -> VenueRejection | None:
    """Refuse a limit price off the date's tick grid (if `ticks`) or outside `band` (if given)."""
    if ticks and not is_on_tick(price, market, day):
        return VenueRejection(
            RejectCode.TICK,
            "limit price off the tick grid",
            f"{price} is not on the {market.value} grid of {day.isoformat()}",
        )
    if band is not None and price not in band:
        return VenueRejection(
            RejectCode.BAND,
            "limit price outside the daily band",
            f"{price} is outside today's limits {band.lower}-{band.upper}",
        )
    return None


def check_order(
    qty: object,
    limit_price: int | None,
    market: Market,
    day: date,
    band: PriceBand | None,
    *,
    ticks: bool = True,
) -> VenueRejection | None:
    """Apply the venue's order checks: whole shares, then a limit price's tick and band.

    Args:
        qty: the ordered quantity (checked, not trusted: callers may bypass their own models).
        limit_price: a limit price, or None for a market order (no price to check).
        market: the instrument's market (it picks the tick table).
        day: the trading date (the tick table changed on 2023-01-25).
        band: the day's limits, or None when the venue does not check them.
        ticks: whether to check the tick grid (the parity mode of the backtest does not).
    """
    rejection = check_qty(qty)
    if rejection is None and limit_price is not None:
        rejection = check_price(limit_price, market, day, band, ticks=ticks)
    return rejection
