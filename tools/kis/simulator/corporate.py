"""Corporate actions in the simulated market: a split or rights issue re-adjusts the past.

KIS's daily chart (`FID_ORG_ADJ_PRC=0`) serves prices adjusted for every action up to the day
it is asked. So the same day's close reads differently before and after a split: asked before
the effective day it is the price as traded; asked on or after, it is that price divided by the
split's factor. The simulator's generated path is the fully adjusted history; an action makes
the history served as of an earlier day `factor` times higher (volumes `factor` times lower),
so a collector that stored the old basis sees the wire data change and must rewrite it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from tools.kis.simulator.replay import DailyBar


@dataclass(frozen=True, slots=True)
class CorporateAction:
    """A split, bonus or rights issue of `ticker` taking effect on `effective` (the ex-date).

    `factor` is the old price over the adjusted one: 2 for a 2-for-1 split, about 1.1 for a
    rights issue at a discount. Bars before `effective` trade `factor` times higher than the
    adjusted history shows once the action has happened.
    """

    ticker: str
    effective: date
    factor: Decimal

    def __post_init__(self) -> None:
        if self.factor <= 0:
            raise ValueError("a corporate action's factor must be positive")


def _scale_price(value: int, factor: Decimal) -> int:
    return max(1, int((Decimal(value) * factor).to_integral_value(ROUND_HALF_UP)))


def scale(bar: DailyBar, factor: Decimal) -> DailyBar:
    """Return `bar` on a basis `factor` times higher (volume `factor` times lower)."""
    if factor == 1:
        return bar
    volume = int((Decimal(bar.volume) / factor).to_integral_value(ROUND_HALF_UP))
    return DailyBar(
        bar.day,
        _scale_price(bar.open, factor),
        _scale_price(bar.high, factor),
        _scale_price(bar.low, factor),
        _scale_price(bar.close, factor),
        max(volume, 1),
    )


def factor_as_of(actions: tuple[CorporateAction, ...], bar_day: date, as_of: date) -> Decimal:
    """The factor between the adjusted history and a bar of `bar_day` as served on `as_of`.

    Adjusted basis: only actions not yet effective on `as_of` (still in the future then) make
    the bar differ from the final adjusted path, and only for bars before them.
    """
    factor = Decimal(1)
    for action in actions:
        if bar_day < action.effective and as_of < action.effective:
            factor *= action.factor
    return factor


def raw_factor(actions: tuple[CorporateAction, ...], bar_day: date, as_of: date) -> Decimal:
    """The factor from a bar adjusted as of `as_of` back to its price as traded.

    The actions between the bar and `as_of` are the ones the adjusted chart has applied.
    """
    factor = Decimal(1)
    for action in actions:
        if bar_day < action.effective <= as_of:
            factor *= action.factor
    return factor
