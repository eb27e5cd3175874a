"""The fill rule: whether an order fills against a bar or a quote, at what price, how many shares.

One rule for every venue (a daily bar in the backtest, a minute bar or the current price in the
KIS simulator, the quote in the paper broker; a quote is a bar whose open, high, low and close are
the last price):

- A market order takes the bar's open. A buy limit fills if the bar traded at or below it: at the
  open when the open is already at or below the limit, else at the limit; a sell limit likewise
  from above. Otherwise it does not fill ("limit not reached").
- No fill on a bar without volume (a halt), when `FillRules.skip_zero_volume`.
- **Limit lock** (`FillRules.block_locked_limit`): a buy into a bar that opens at the upper price
  limit does not fill unless the bar trades away from it (low below the limit); a sell into a bar
  that opens at the lower limit does not fill unless the high is above it. At a locked limit the
  queue on the locked side is far longer than the day's volume, so a new order there waits and,
  as a day order, lapses.
- **Volume cap** (`FillRules.max_volume_share`): a fill takes at most that share of the bar's
  volume (at least one share when the bar traded); the rest of the order lapses, a partial fill.
  A quote with no volume (`VenueBar.volume is None`) is not capped.

The caller applies its own price adjustments (the backtest's slippage and tick rounding) and its
bookkeeping (cash and holdings) around these functions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from core.orders import Side
from tools.krx.venue.checks import PriceBand

DEFAULT_MAX_VOLUME_SHARE = Decimal("0.1")
"""A tenth of a bar's volume. Execution desks treat 10-20 % participation as the most an order can
take without moving the price by much more than the spread (the "10 % of ADV" rule of thumb); a
strategy that needs more of a day's volume is trading the price it is measured against. One tenth
is the conservative end, and it is what the KIS simulator already allowed per minute."""


class NoFill(StrEnum):
    """Why an order did not fill against a bar (as the backtest records it)."""

    ZERO_VOLUME = "no trading (zero-volume bar)"
    LOCKED_UP = "locked at the upper limit"
    LOCKED_DOWN = "locked at the lower limit"
    NOT_REACHED = "limit not reached"


@dataclass(frozen=True, slots=True)
class FillRules:
    """Which realism rules a venue applies (the backtest's parity mode turns them off).

    Attributes:
        max_volume_share: the largest share of a bar's volume one fill may take, in (0, 1];
            None: no cap.
        block_locked_limit: no buy into a bar locked at its upper limit, no sell at its lower.
        skip_zero_volume: no fill on a bar that did not trade.
    """

    max_volume_share: Decimal | None = DEFAULT_MAX_VOLUME_SHARE
    block_locked_limit: bool = True
    skip_zero_volume: bool = True
    share_ratio: tuple[int, int] | None = field(init=False, repr=False, compare=False)
    """`max_volume_share` as an exact (numerator, denominator): the cap in integer arithmetic."""

    def __post_init__(self) -> None:
        share = self.max_volume_share
        if share is not None and not Decimal(0) < share <= Decimal(1):
            raise ValueError(f"max_volume_share must be in (0, 1], got {share}")
        ratio = None if share is None else share.as_integer_ratio()
        object.__setattr__(self, "share_ratio", ratio)

    @classmethod
    def parity(cls) -> FillRules:
        """backtesting.py's fills: whole orders, no limit lock (zero-volume bars still skip)."""
        return cls(max_volume_share=None, block_locked_limit=False)


@dataclass(frozen=True, slots=True)
class VenueBar:
    """Prices and volume over the interval an order is matched against.

    Attributes:
        open, high, low, close: prices (floats: the backtest's bars may be adjusted prices).
        volume: shares traded, or None when the source has no volume (a quote): no cap then.
    """

    open: float
    high: float
    low: float
    close: float
    volume: int | None = None

    @classmethod
    def at_price(cls, price: float, *, halted: bool = False) -> VenueBar:
        """A quote as a bar: every price is the last one; a halted quote traded nothing."""
        return cls(price, price, price, price, 0 if halted else None)


@dataclass(frozen=True, slots=True)
class Match:
    """An order's fill against one bar: whole won and whole shares."""

    price: int
    qty: int


def volume_cap(volume: int, share: Decimal) -> int:
    """Return the most shares one fill may take from a bar of `volume` shares.

    `floor(volume x share)`, but at least one share when the bar traded at all: a thin bar
    (a minute of a quiet stock) still lets a one-share order through.
    """
    if volume <= 0:
        return 0
    num, den = share.as_integer_ratio()
    return max(1, volume * num // den)


def locked_limit(side: Side, bar: VenueBar, band: PriceBand | None) -> NoFill | None:
    """Return why the limit-lock rule refuses the fill, or None (also when the band is unknown)."""
    if band is None:
        return None
    if side is Side.BUY:
        return NoFill.LOCKED_UP if bar.open >= band.upper and bar.low >= band.upper else None
    return NoFill.LOCKED_DOWN if bar.open <= band.lower and bar.high <= band.lower else None


def blocked(side: Side, bar: VenueBar, band: PriceBand | None, rules: FillRules) -> NoFill | None:
    """Return why no order of `side` can fill on `bar` at all (a halt, a locked limit), or None."""
    if rules.skip_zero_volume and bar.volume is not None and bar.volume <= 0:
        return NoFill.ZERO_VOLUME
    if rules.block_locked_limit:
        return locked_limit(side, bar, band)
    return None


def cross_price(side: Side, limit_price: int | None, bar: VenueBar) -> float | None:
    """Return the price an order crosses `bar` at (before rounding), or None if it does not."""
    if limit_price is None:
        return bar.open
    if side is Side.BUY:
        if bar.low > limit_price:
            return None
        return bar.open if bar.open <= limit_price else float(limit_price)
    if bar.high < limit_price:
        return None
    return bar.open if bar.open >= limit_price else float(limit_price)


def capped_qty(qty: int, bar: VenueBar, rules: FillRules) -> int:
    """Return how much of `qty` the volume cap lets fill on `bar` (the rest lapses)."""
    ratio, volume = rules.share_ratio, bar.volume
    if ratio is None or volume is None:
        return qty
    if volume <= 0:
        return 0
    return min(qty, max(1, volume * ratio[0] // ratio[1]))  # volume_cap, without the Decimal


def match(
    side: Side,
    limit_price: int | None,
    qty: int,
    bar: VenueBar,
    band: PriceBand | None,
    rules: FillRules,
) -> Match | NoFill:
    """Return the fill of an order for `qty` shares against `bar`, or why there is none.

    The price is rounded to the won against the trader (up for a buy, down for a sale), which
    leaves integer bars and quotes unchanged.
    """
    reason = blocked(side, bar, band, rules)
    if reason is not None:
        return reason
    ref = cross_price(side, limit_price, bar)
    if ref is None:
        return NoFill.NOT_REACHED
    fillable = capped_qty(qty, bar, rules)
    if fillable <= 0:
        return NoFill.ZERO_VOLUME
    price = math.ceil(ref) if side is Side.BUY else math.floor(ref)
    return Match(price, fillable)
