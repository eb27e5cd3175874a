"""Fills: market orders at the next price, limit orders when the price crosses, in parts.

The fill rule, its realism rules and the costs are the KRX venue model's (`tools.krx.venue`);
this module keeps the simulator's books: reserved cash, orderable shares, executions.

An order placed or revised is tried against the current price (a bar at that price with the
current minute's volume). Every minute of the session an order may take at most
`liquidity_fraction` of that minute's simulated volume (the venue's volume cap, at least one
share), so orders that are large for the stock fill over several minutes. The venue's limit
lock applies per minute: no buy in a minute that opens and stays at the upper limit, no sell at
the lower. Resting orders are matched whenever the simulator handles a request (prices read,
time moved on): the matcher walks the minutes since it last looked at each order. Day orders
that are still unfilled when their day is over expire, as on KRX.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from core.clock import KST
from core.orders import Side
from tools.kis.simulator.config import SimulatorConfig
from tools.kis.simulator.market import MinuteBar, SimMarket, session_point
from tools.kis.simulator.store import Execution, Order, Store
from tools.krx import venue
from tools.krx.costs import CostModel
from tools.krx.venue import FillRules, Match, PriceBand, VenueBar

MAX_MINUTES_PER_SWEEP = 400
"""Minutes walked per order and request; a longer gap only looks at its most recent part."""


def abs_minute(instant: datetime) -> int:
    """Return the minute number of an instant (epoch seconds // 60)."""
    return int(instant.timestamp()) // 60


def minute_instant(minute: int) -> datetime:
    """Return the start of a minute number as an aware datetime."""
    return datetime.fromtimestamp(minute * 60, UTC)


class Matcher:
    """Matches open orders against the market and books the fills."""

    def __init__(self, cfg: SimulatorConfig, store: Store, market: SimMarket) -> None:
        """Bind the books, the market and the cost model."""
        self.cfg = cfg
        self.store = store
        self.market = market
        self.costs = CostModel(commission_rate=cfg.commission_rate)
        self.rules = FillRules(max_volume_share=cfg.liquidity_fraction)

    # --- money held by open orders --------------------------------------------------------------
    def buy_cost(self, qty: int, price: int) -> int:
        """Return what buying `qty` at `price` takes from cash, commission included."""
        return venue.buy_cost(qty, price, self.costs)

    def reserved_cash(self, cano: str, prdt: str) -> int:
        """Return the cash held by the unfilled part of open buy orders."""
        return sum(
            self.buy_cost(o.remaining, o.reserve_price)
            for o in self.store.orders(
                "cano=? AND prdt=? AND status='open' AND side='buy'", (cano, prdt)
            )
        )

    def available_cash(self, cano: str, prdt: str) -> int:
        """Return cash not held by open buy orders."""
        return (self.store.cash(cano, prdt) or 0) - self.reserved_cash(cano, prdt)

    def orderable_qty(self, cano: str, prdt: str, pdno: str) -> int:
        """Return shares held and not already offered by open sell orders."""
        held = self.store.position(cano, prdt, pdno).qty
        offered = sum(
            o.remaining
            for o in self.store.orders(
                "cano=? AND prdt=? AND pdno=? AND status='open' AND side='sell'",
                (cano, prdt, pdno),
            )
        )
        return held - offered

    # --- fills ----------------------------------------------------------------------------------
    def fill(self, order: Order, qty: int, price: int, at: datetime) -> Order:
        """Book one fill of `qty` at `price` and return the updated order."""
        qty = min(qty, order.remaining)
        if qty <= 0:
            return order
        kst = at.astimezone(KST)
        costs = venue.fill_costs(
            _side(order),
            qty,
            price,
            market=self.market.instruments[order.pdno].market,
            day=kst.date(),
            cost_model=self.costs,
        )
        commission, tax, cash_delta = costs.commission, costs.tax, costs.cash_delta
        execution = Execution(
            order.odno,
            order.pdno,
            order.side,
            qty,
            price,
            commission,
            tax,
            kst.strftime("%Y%m%d"),
            kst.strftime("%H%M%S"),
        )
        with self.store.transaction():
            self.store.book_fill(order, execution, cash_delta)
            updated = self.store.order(order.odno)
            assert updated is not None
            if updated.remaining == 0:
                self.store.update_order(order.odno, status="done")
                updated = self.store.order(order.odno)
                assert updated is not None
        return updated

    def match_now(self, order: Order, now: datetime) -> Order:
        """Try an order against the current price right after it is placed or revised."""
        quote = self.market.quote(order.pdno, now)
        bar = self.market.minute_bar(order.pdno, now)
        if quote.phase != "open" or quote.halted or bar is None:
            return order
        at_price = VenueBar(quote.price, quote.price, quote.price, quote.price, bar.volume)
        return self._match(order, at_price, PriceBand(quote.lower, quote.upper), now)

    def _match(self, order: Order, bar: VenueBar, band: PriceBand, at: datetime) -> Order:
        """Fill what the venue model lets `order` take from `bar`."""
        limit = None if order.is_market else order.price
        matched = venue.match(_side(order), limit, order.remaining, bar, band, self.rules)
        if isinstance(matched, Match):
            return self.fill(order, matched.qty, matched.price, at)
        return order

    def band(self, pdno: str, day: date) -> PriceBand:
        """Return the day's price limits (from the previous session's close)."""
        past = self.market.history(pdno, day, before=True)
        inst = self.market.instruments[pdno]
        base = past[-1].close if past else inst.base_price
        return venue.band_of(base, inst.market, day)

    def sweep(self, now: datetime) -> None:
        """Match every open order over the minutes since it was last looked at; expire old ones."""
        now_minute = abs_minute(now)
        today = now.astimezone(KST).date()
        for order in self.store.orders("status='open'"):
            order_day = datetime.strptime(order.ord_dt, "%Y%m%d").date()
            last_day = order_day if order_day < today else today
            end = min(now_minute, abs_minute(self._last_minute(last_day)))
            start = max(order.checked_minute + 1, end - MAX_MINUTES_PER_SWEEP + 1)
            bands: dict[date, PriceBand] = {}
            for minute in range(start, end + 1):
                if order.remaining == 0:
                    break
                instant = minute_instant(minute)
                point = session_point(instant, self.cfg.always_open)
                if point.index is None:
                    continue
                bars = self.market.minute_bars(order.pdno, point.day)
                if not bars:
                    continue
                band = bands.get(point.day)
                if band is None:
                    band = bands[point.day] = self.band(order.pdno, point.day)
                order = self._match(order, _venue_bar(bars[point.index]), band, instant)
            if order.remaining and order_day < today:
                self.store.update_order(order.odno, status="expired", checked_minute=end)
            elif order.checked_minute < end:
                self.store.update_order(order.odno, checked_minute=end)

    def _last_minute(self, day: date) -> datetime:
        """Return the last minute orders of `day` can trade (15:29 KST; 23:59 when always open)."""
        start = datetime(day.year, day.month, day.day, tzinfo=KST)
        if self.cfg.always_open:
            return start + timedelta(days=1, minutes=-1)
        return start + timedelta(hours=15, minutes=29)


def _side(order: Order) -> Side:
    return Side.BUY if order.side == "buy" else Side.SELL


def _venue_bar(bar: MinuteBar) -> VenueBar:
    return VenueBar(bar.open, bar.high, bar.low, bar.close, bar.volume)
