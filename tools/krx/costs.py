"""KRX trading costs: broker commission and the sell-side securities transaction tax.

Booked money is integer KRW. Rates are `Decimal`. Fees and taxes are floored to the won, which
is what Korean brokers charge (a configurable rounding would go here if a broker differs).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_FLOOR, Decimal

from tools.krx.rules import Market

DEFAULT_COMMISSION_RATE = Decimal("0.00015")
"""Typical online brokerage commission per side (0.015 %), exchange fees included."""

# Sell-side transaction tax (증권거래세 + 농어촌특별세 on KOSPI), keyed by the first settlement
# date the rate applies to. Source: ../shared/reference/backtest-anchors.md section 5.
_TAX_SCHEDULE: tuple[tuple[date, Decimal], ...] = (
    (date(1900, 1, 1), Decimal("0.0030")),
    (date(2019, 6, 3), Decimal("0.0025")),
    (date(2021, 1, 1), Decimal("0.0023")),
    (date(2023, 1, 1), Decimal("0.0020")),
    (date(2024, 1, 1), Decimal("0.0018")),
    (date(2025, 1, 1), Decimal("0.0015")),
    (date(2026, 1, 1), Decimal("0.0020")),
)
_KONEX_TAX = Decimal("0.0010")


def transaction_tax_rate(settlement_date: date, market: Market = Market.KOSPI) -> Decimal:
    """Return the sell-side tax rate in force on a settlement date.

    The law keys the rate on the settlement (transfer) date, T+2, not the trade date: a sell
    executed on the last two trading days of a year pays the next year's rate. ETFs are exempt.
    """
    if market is Market.ETF:
        return Decimal(0)
    if market is Market.KONEX:
        return _KONEX_TAX
    rate = _TAX_SCHEDULE[0][1]
    for start, value in _TAX_SCHEDULE:
        if settlement_date >= start:
            rate = value
    return rate


def floor_krw(amount: Decimal) -> int:
    """Floor a Decimal amount to whole won."""
    return int(amount.to_integral_value(rounding=ROUND_FLOOR))


@dataclass(frozen=True, slots=True)
class CostModel:
    """Commission and tax for one account; immutable, shared by paper broker and backtester."""

    commission_rate: Decimal = DEFAULT_COMMISSION_RATE
    charge_tax: bool = True

    def commission(self, value_krw: int) -> int:
        """Return the commission on a traded value (either side), floored to the won."""
        return floor_krw(self.exact_commission(value_krw))

    def exact_commission(self, value_krw: int) -> Decimal:
        """Return the commission on a traded value before flooring (backtest parity mode)."""
        return Decimal(value_krw) * self.commission_rate

    def tax(self, value_krw: int, settlement_date: date, market: Market = Market.KOSPI) -> int:
        """Return the transaction tax on a sale's value, floored to the won."""
        return floor_krw(self.exact_tax(value_krw, settlement_date, market))

    def exact_tax(
        self, value_krw: int, settlement_date: date, market: Market = Market.KOSPI
    ) -> Decimal:
        """Return the transaction tax on a sale's value before flooring (backtest parity mode)."""
        if not self.charge_tax:
            return Decimal(0)
        return Decimal(value_krw) * transaction_tax_rate(settlement_date, market)
