"""The backtest's book: cash, positions, FIFO lots, fills, trades and rejections.

The only place a backtest books money. Costs are the KRX venue model's (`tools.krx.venue`):
floored to the won in KRX mode, unrounded in parity mode (backtesting.py's arithmetic).
"""

from __future__ import annotations

import math
import sys
from collections import deque
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from core.orders import Side
from evals.backtest.broker_config import BrokerConfig, CostMode
from evals.backtest.orders import OrderIntent
from tools.krx import venue

_FULL = 1 - sys.float_info.epsilon
"""backtesting.py's "all of it" size (it keeps one epsilon back)."""


@dataclass(frozen=True, slots=True)
class Fill:
    """One execution at a day's open (or at a limit within the day's range)."""

    ticker: str
    side: Side
    qty: int
    price: int
    day: date
    decided_on: date
    commission: Decimal
    tax: Decimal
    intent: OrderIntent | None = None
    """The order that filled (its reason says why the strategy placed it)."""
    lapsed: int = 0
    """Shares of the order the volume cap left unfilled (a partial fill; day orders lapse)."""

    @property
    def value(self) -> int:
        """Traded value in KRW."""
        return self.qty * self.price


@dataclass(frozen=True, slots=True)
class Rejection:
    """An intent that did not fill, and why (day orders lapse; nothing carries over)."""

    ticker: str
    side: Side
    decided_on: date
    day: date | None
    reason: str
    intent: OrderIntent | None = None

    @classmethod
    def of(cls, intent: OrderIntent, decided_on: date, day: date | None, reason: str) -> Rejection:
        """The rejection of `intent`, decided on `decided_on`, on fill day `day`."""
        return cls(intent.ticker, intent.side, decided_on, day, reason, intent)


@dataclass(slots=True)
class Lot:
    """Shares bought in one fill that are still held."""

    qty: int
    price: int
    day: date
    decided_on: date
    commission: Decimal


@dataclass(frozen=True, slots=True)
class Trade:
    """A round trip (FIFO lots); `exit_*` is None while the position is still open."""

    ticker: str
    qty: int
    entry_decided_on: date
    entry_day: date
    entry_price: int
    exit_decided_on: date | None
    exit_day: date | None
    exit_price: int | None
    commission: Decimal
    tax: Decimal
    pnl: Decimal | None
    """Net of commission and tax; None while open."""


class Book:
    """Cash, positions, open lots and closed trades; the only place money is booked."""

    def __init__(self, config: BrokerConfig, cash: int) -> None:
        """Open a book with `cash` KRW."""
        self.config = config
        self.cash = Decimal(cash)
        self.cash_float = float(cash)
        self.positions: dict[str, int] = {}
        self.lots: dict[str, deque[Lot]] = {}
        self.trades: list[Trade] = []
        self.fills: list[Fill] = []
        self.rejections: list[Rejection] = []
        self.commission_paid = Decimal(0)
        self.tax_paid = Decimal(0)
        self.bought_value = 0
        self.sold_value = 0
        self._rate = config.commission_rate
        self._rate_float = float(config.commission_rate)
        self._fractional = config.cost_mode is CostMode.PARITY
        self._costs = config.cost_model

    # -- costs (the venue model's; fractional only in parity mode) -----------------------------

    def commission(self, value: int) -> Decimal:
        """Return the commission on a traded value."""
        return venue.commission(value, self._costs, exact=self._fractional)

    def tax(self, value: int, day: date, ticker: str) -> Decimal:
        """Return the sell tax on a sale executed on `day` (rate of its settlement date)."""
        market = self.config.market(ticker)
        return venue.sell_tax(value, day, market, self._costs, exact=self._fractional)

    def affordable_qty(self, price: int, cash_fraction: Decimal) -> int:
        """Return the most whole shares `cash_fraction` of the cash buys at `price` with costs."""
        if self._fractional:
            # backtesting.py: int(margin * size // (price + commission(size, price) / size)).
            size = _FULL if cash_fraction == 1 else float(cash_fraction)
            per_share = price + (size * price * self._rate_float) / size
            return int((self.cash_float * size) // per_share)
        budget = self.cash * cash_fraction
        qty = math.floor(budget / (Decimal(price) * (1 + self._rate)))
        while qty > 0 and qty * price + self.commission(qty * price) > budget:
            qty -= 1
        return max(qty, 0)

    # -- booking -----------------------------------------------------------------------------

    def _set_cash(self, cash: Decimal) -> None:
        self.cash = cash
        self.cash_float = float(cash)

    def buy(
        self,
        ticker: str,
        qty: int,
        price: int,
        day: date,
        decided_on: date,
        intent: OrderIntent | None = None,
        lapsed: int = 0,
    ) -> Fill:
        """Book a buy fill (the caller checked the cash)."""
        value = qty * price
        fee = self.commission(value)
        self._set_cash(self.cash - value - fee)
        self.positions[ticker] = self.positions.get(ticker, 0) + qty
        self.lots.setdefault(ticker, deque()).append(Lot(qty, price, day, decided_on, fee))
        self.commission_paid += fee
        self.bought_value += value
        fill = Fill(ticker, Side.BUY, qty, price, day, decided_on, fee, Decimal(0), intent, lapsed)
        self.fills.append(fill)
        return fill

    def sell(
        self,
        ticker: str,
        qty: int,
        price: int,
        day: date,
        decided_on: date,
        intent: OrderIntent | None = None,
        lapsed: int = 0,
    ) -> Fill:
        """Book a sell fill, closing lots first in, first out (the caller checked the qty)."""
        value = qty * price
        fee = self.commission(value)
        tax = self.tax(value, day, ticker)
        self._set_cash(self.cash + value - fee - tax)
        left = self.positions[ticker] - qty
        if left:
            self.positions[ticker] = left
        else:
            del self.positions[ticker]
        self.commission_paid += fee
        self.tax_paid += tax
        self.sold_value += value
        lots = self.lots[ticker]
        remaining = qty
        while remaining:
            lot = lots[0]
            take = min(lot.qty, remaining)
            share = Decimal(take) / Decimal(qty)
            entry_fee = lot.commission if take == lot.qty else lot.commission * take / lot.qty
            exit_fee, exit_tax = fee * share, tax * share
            pnl = Decimal(take * (price - lot.price)) - entry_fee - exit_fee - exit_tax
            self.trades.append(
                Trade(ticker, take, lot.decided_on, lot.day, lot.price, decided_on, day, price,
                      entry_fee + exit_fee, exit_tax, pnl)
            )  # fmt: skip
            if take == lot.qty:
                lots.popleft()
            else:
                lot.qty -= take
                lot.commission -= entry_fee
            remaining -= take
        fill = Fill(ticker, Side.SELL, qty, price, day, decided_on, fee, tax, intent, lapsed)
        self.fills.append(fill)
        return fill

    def cost_basis(self) -> dict[str, Decimal]:
        """Return, per held ticker, what its open lots cost (fill value plus commission)."""
        return {
            ticker: sum((Decimal(lot.qty * lot.price) + lot.commission for lot in lots), Decimal(0))
            for ticker, lots in self.lots.items()
            if lots
        }

    def open_trades(self) -> list[Trade]:
        """Return the lots still held as open trades (no exit, no PnL)."""
        return [
            Trade(t, lot.qty, lot.decided_on, lot.day, lot.price, None, None, None,
                  lot.commission, Decimal(0), None)
            for t, lots in self.lots.items() for lot in lots
        ]  # fmt: skip
