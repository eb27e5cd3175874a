"""The simulated broker: fills intents at the next open under KRX rules, into the book.

Whether and how an intent fills is the KRX venue model's (`tools.krx.venue`): the tick grid and
the ±30 % band, the fill rule, the volume cap, the limit lock and the costs by date. This module
keeps the backtest's own part: sizing, slippage, and the cash and holdings checks; the book
(cash, lots, trades) is `evals.backtest.book`, the configuration `evals.backtest.broker_config`.

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
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from core.orders import Side
from evals.backtest.book import Book, Fill, Lot, Rejection, Trade
from evals.backtest.broker_config import BrokerConfig, CostMode
from evals.backtest.orders import OrderIntent
from tools.krx import venue
from tools.krx.rules import Market, round_to_tick
from tools.krx.venue import NoFill, VenueBar

__all__ = (
    "BarToday",
    "Book",
    "BrokerConfig",
    "CostMode",
    "Fill",
    "Lot",
    "Rejection",
    "SimulatedBroker",
    "Trade",
)


@dataclass(frozen=True, slots=True)
class BarToday(VenueBar):
    """The fill day's bar, as the venue model matches it, plus the band's base (previous close)."""

    prev_close: float | None = None


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
        side = intent.side
        held = self.book.positions.get(intent.ticker, 0)
        if intent.side is Side.SELL and held == 0:
            return self._reject(intent, decided_on, day, "no position to sell")
        if rules.skip_zero_volume and (bar.volume or 0) <= 0:
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
        locked = venue.locked_limit(side, bar, band) if rules.block_locked_limit else None
        if locked is not None:
            return self._reject(intent, decided_on, day, locked)
        ref = venue.cross_price(side, intent.limit_price, bar)
        if ref is None:
            return self._reject(intent, decided_on, day, NoFill.NOT_REACHED)
        price = self._fill_price(intent, ref, bar, day, market)
        if intent.side is Side.SELL:
            qty = held if intent.qty is None else intent.qty
            if qty > held:
                return self._reject(intent, decided_on, day, f"sell {qty} exceeds holding {held}")
            filled = venue.capped_qty(qty, bar, rules)
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
        filled = venue.capped_qty(qty, bar, rules)
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
