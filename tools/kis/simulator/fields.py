"""Formatting of KIS field values: every value is a string, rates with fixed decimals."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal


def sign(price: int, prev: int, upper: int | None = None, lower: int | None = None) -> str:
    """Return prdy_vrss_sign: 1 상한, 2 상승, 3 보합, 4 하한, 5 하락."""
    if upper is not None and price >= upper and price > prev:
        return "1"
    if lower is not None and price <= lower and price < prev:
        return "4"
    if price > prev:
        return "2"
    if price < prev:
        return "5"
    return "3"


def rate(numerator: int | Decimal, denominator: int | Decimal, places: int = 2) -> str:
    """Return numerator / denominator × 100 with `places` decimals ("0.00" when undefined)."""
    exp = Decimal(1).scaleb(-places)
    if not denominator:
        return format(Decimal(0).quantize(exp), "f")
    value = Decimal(numerator) * 100 / Decimal(denominator)
    return format(value.quantize(exp, rounding=ROUND_HALF_UP), "f")


def dec(value: int | Decimal, places: int = 2) -> str:
    """Return a number with a fixed count of decimals."""
    return format(Decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP), "f")


def ratio(numerator: int | Decimal, denominator: int | Decimal, places: int = 2) -> str:
    """Return numerator / denominator with `places` decimals ("0.00" when undefined)."""
    if not denominator:
        return dec(0, places)
    return dec(Decimal(numerator) / Decimal(denominator), places)
