"""Slippage models: how far from the reference price (the open, or a limit) an order fills.

A model moves the price against the trader; the broker then snaps it to a whole won (or to
the tick grid in KRX mode) and keeps it inside the bar's range.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Protocol

from core.orders import Side
from tools.krx.rules import Market, tick_size


class SlippageModel(Protocol):
    """Turns a reference price into the price actually paid or received."""

    def apply(self, side: Side, price: float, day: date, market: Market) -> float:
        """Return the slipped price (higher for buys, lower for sells)."""
        ...


@dataclass(frozen=True, slots=True)
class NoSlippage:
    """Fill exactly at the reference price (the parity setting)."""

    def apply(self, side: Side, price: float, day: date, market: Market) -> float:
        """Return `price` unchanged."""
        return price


@dataclass(frozen=True, slots=True)
class BpsSlippage:
    """A fixed fraction of the price against the trader, in basis points."""

    bps: Decimal

    def apply(self, side: Side, price: float, day: date, market: Market) -> float:
        """Return the price moved by `bps` basis points against the trader."""
        move = price * float(self.bps) / 10_000
        return price + move if side is Side.BUY else price - move


@dataclass(frozen=True, slots=True)
class TickSlippage:
    """A whole number of ticks against the trader (the tick of the reference price)."""

    ticks: int = 1

    def apply(self, side: Side, price: float, day: date, market: Market) -> float:
        """Return the price moved by `ticks` ticks against the trader."""
        if price < 1:
            return price
        move = self.ticks * tick_size(int(price), market, day)
        return price + move if side is Side.BUY else max(price - move, 1.0)
