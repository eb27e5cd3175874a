"""The simulated broker: fills intents at the next open under KRX rules, books costs and lots.

Whether and how an intent fills is the KRX venue model's (`tools.krx.venue`): the tick grid and
the ±30 % band, the fill rule, the volume cap, the limit lock and the costs by date. This module
keeps the backtest's own part: sizing, slippage, cash and holdings checks, and the book.

Two cost modes:

- `CostMode.KRX` (default): commission floored to the won, the sell-side transaction tax at the
  rate of the trade's settlement date (T+2), whole shares, limit prices on the tick grid, the
  ±30 % band, no fill on a zero-volume bar, no buy into a bar locked at its upper limit (no sell
  at the lower one) unless it trades away from it, and a fill capped at `max_volume_share` of
  the bar's volume (the rest lapses). Cash stays whole KRW.
- `CostMode.PARITY`: backtesting.py's arithmetic (commission = qty × price × rate, fractional KRW
  kept, its all-in sizing formula), no tax, no tick/limit checks, no volume cap and no limit
  lock unless asked for. Used to prove the engine against independent libraries.
"""

from __future__ import annotations

import math
import sys
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum

from evals.backtest.orders import OrderIntent, Side
from evals.backtest.slippage import NoSlippage, SlippageModel
from tools.broker import Side as VenueSide
from tools.krx import venue
from tools.krx.costs import DEFAULT_COMMISSION_RATE, CostModel
from tools.krx.rules import Market, round_to_tick
from tools.krx.venue import DEFAULT_MAX_VOLUME_SHARE, FillRules, NoFill, VenueBar

_FULL = 1 - sys.float_info.epsilon
"""backtesting.py's "all of it" size (it keeps one epsilon back)."""


class CostMode(StrEnum):
    """How costs are rounded and which KRX rules apply by default."""

    KRX = "krx"
    PARITY = "parity"


@dataclass(frozen=True, slots=True)
class BrokerConfig:
    """Costs and market rules of the simulated broker."""

    cost_mode: CostMode = CostMode.KRX
    commission_rate: Decimal = DEFAULT_COMMISSION_RATE
    charge_tax: bool = True
    enforce_ticks: bool = True
    enforce_price_limits: bool = True
    block_locked_limit: bool = True
    skip_zero_volume: bool = True
    max_volume_share: Decimal | None = DEFAULT_MAX_VOLUME_SHARE
    """Share of a bar's volume one fill may take (the rest lapses); None: no cap. Why a tenth:
    `tools.krx.venue.fills.DEFAULT_MAX_VOLUME_SHARE`."""
    slippage: SlippageModel = field(default_factory=NoSlippage)
    markets: Mapping[str, Market] = field(default_factory=dict)
    default_market: Market = Market.KOSPI

    @classmethod
    def parity(cls, commission_rate: Decimal = DEFAULT_COMMISSION_RATE) -> BrokerConfig:
        """Return backtesting.py's settings: fractional commission, no tax, no KRX checks."""
        return cls(
            cost_mode=CostMode.PARITY,
            commission_rate=commission_rate,
            charge_tax=False,
            enforce_ticks=False,
            enforce_price_limits=False,
            block_locked_limit=False,
            max_volume_share=None,
        )

    def market(self, ticker: str) -> Market:
        """Return the listing market of `ticker`."""
        return self.markets.get(ticker, self.default_market)

    @property
    def fill_rules(self) -> FillRules:
        """The venue model's realism rules this configuration turns on."""
        return FillRules(
            max_volume_share=self.max_volume_share,
            block_locked_limit=self.block_locked_limit,
            skip_zero_volume=self.skip_zero_volume,
        )

    @property
    def cost_model(self) -> CostModel:
        """The venue model's costs at this configuration's rate."""
        return CostModel(commission_rate=self.commission_rate, charge_tax=self.charge_tax)


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


@dataclass(frozen=True, slots=True)
class BarToday:
    """The fill day's bar plus the previous close (the base of the daily price band)."""

    open: float
    high: float
    low: float
    close: float
    volume: int
    prev_close: float | None


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


_VENUE_SIDE = {Side.BUY: VenueSide.BUY, Side.SELL: VenueSide.SELL}


class SimulatedBroker:
    """Turns intents decided on one day into fills at the next day's bar."""

    def __init__(self, config: BrokerConfig, book: Book) -> None:
        """Fill into `book` under `config`."""
        self.config = config
        self.book = book
        self.rules = config.fill_rules

    def execute(self, intent: OrderIntent, decided_on: date, day: date, bar: BarToday) -> None:
        """Fill `intent` on `day`'s bar, or record why it cannot be filled."""
        cfg, rules = self.config, self.rules
        market = cfg.market(intent.ticker)
        side = _VENUE_SIDE[intent.side]
        held = self.book.positions.get(intent.ticker, 0)
        if intent.side is Side.SELL and held == 0:
            return self._reject(intent, decided_on, day, "no position to sell")
        if rules.skip_zero_volume and bar.volume <= 0:
            return self._reject(intent, decided_on, day, NoFill.ZERO_VOLUME)
        band = None
        if (
            (cfg.enforce_price_limits or rules.block_locked_limit)
            and bar.prev_close is not None
            and bar.prev_close >= 1
        ):
            band = venue.band_of(int(bar.prev_close), market, day)
        if intent.limit_price is not None:
            refused = venue.check_price(
                intent.limit_price,
                market,
                day,
                band if cfg.enforce_price_limits else None,
                ticks=cfg.enforce_ticks,
            )
            if refused is not None:
                return self._reject(intent, decided_on, day, refused.reason)
        traded = VenueBar(bar.open, bar.high, bar.low, bar.close, bar.volume)
        locked = venue.locked_limit(side, traded, band) if rules.block_locked_limit else None
        if locked is not None:
            return self._reject(intent, decided_on, day, locked)
        ref = venue.cross_price(side, intent.limit_price, traded)
        if ref is None:
            return self._reject(intent, decided_on, day, NoFill.NOT_REACHED)
        price = self._fill_price(intent, ref, bar, day, market)
        if intent.side is Side.SELL:
            qty = held if intent.qty is None else intent.qty
            if qty > held:
                return self._reject(intent, decided_on, day, f"sell {qty} exceeds holding {held}")
            filled = venue.capped_qty(qty, traded, rules)
            self.book.sell(intent.ticker, filled, price, day, decided_on, intent, qty - filled)
            return None
        if intent.qty is None:
            qty = self.book.affordable_qty(price, intent.cash_fraction)
            if qty == 0:
                return self._reject(intent, decided_on, day, "cash buys no whole share")
        else:
            qty = intent.qty
            need = Decimal(qty * price) + self.book.commission(qty * price)
            if need > self.book.cash:
                return self._reject(intent, decided_on, day, "insufficient cash")
        filled = venue.capped_qty(qty, traded, rules)
        self.book.buy(intent.ticker, filled, price, day, decided_on, intent, qty - filled)
        return None

    def _fill_price(
        self, intent: OrderIntent, ref: float, bar: BarToday, day: date, market: Market
    ) -> int:
        """Slip the venue's crossing price, keep it in the bar and the limit, snap it to a tick."""
        buy = intent.side is Side.BUY
        limit = intent.limit_price
        raw = self.config.slippage.apply(intent.side, ref, day, market)
        if raw != ref:  # keep a slipped price inside what the day actually traded
            raw = min(raw, bar.high) if buy else max(raw, bar.low)
            if limit is not None:
                raw = min(raw, float(limit)) if buy else max(raw, float(limit))
        price = math.ceil(raw) if buy else math.floor(raw)
        if self.config.enforce_ticks and price >= 1:
            price = round_to_tick(price, market, day, up=buy)
        return max(price, 1)

    def _reject(self, intent: OrderIntent, decided_on: date, day: date | None, reason: str) -> None:
        self.book.rejections.append(Rejection.of(intent, decided_on, day, str(reason)))
