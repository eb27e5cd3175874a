"""When the paper broker's market is open, and how an order fills against a quote.

The session: the market is open during the KRX regular session of a trading day, as the XKRX
calendar of `tools.krx.calendar` gives it (09:00-15:30 KST; 10:00 on the year's first session,
10:00-16:30 on an exam day).
Demos and tests may keep it open at any hour (`always_open`); the KRX day is then the KST date.

The fill is the KRX venue model's (`tools.krx.venue`), against the quote taken as a bar at its
last price:

- a market order fills at the last price; a limit buy when last <= limit, a limit sell when
  last >= limit, at the last price (a marketable limit gets the better price);
- a halted quote never fills anything;
- the limit lock (on by default, `PAPER_FILL_RULES`): a buy while the last price sits at the
  day's upper limit does not fill (a sell at the lower limit neither); the order rests and
  lapses with the day if the price never leaves the limit, as a backtest's would;
- a quote carries no volume, so there is no volume cap: an order fills whole.

Costs are the venue model's too (`tools.krx.venue.fill_costs`): integer KRW commission on both
sides, and on a sale the tax of the settlement date (T+2 trading days; ETFs exempt).
"""

from __future__ import annotations

from datetime import date, datetime

from core.clock import KST
from core.orders import OrderType, Side
from tools.krx import venue
from tools.krx.calendar import session_hours
from tools.krx.venue import FillRules, Match, VenueBar
from tools.market_data import MarketQuote

PAPER_FILL_RULES = FillRules(max_volume_share=None)
"""The venue's rules as the paper broker applies them: the limit lock and the halt, no volume
cap (a quote has no volume to take a share of)."""


def krx_day(now: datetime) -> date:
    """Return the KRX (KST) date of an instant."""
    return now.astimezone(KST).date()


def market_open(now: datetime, *, always_open: bool = False) -> bool:
    """Tell whether orders can trade at `now`."""
    if always_open:
        return True
    hours = session_hours(krx_day(now))
    return hours is not None and hours[0] <= now < hours[1]


def fill(
    side: Side,
    order_type: OrderType,
    limit_price: int,
    qty: int,
    quote: MarketQuote,
    day: date,
    rules: FillRules = PAPER_FILL_RULES,
) -> Match | None:
    """Return how an order for `qty` fills against `quote` on KRX date `day`, or None."""
    bar = VenueBar.at_price(quote.last_price_krw, halted=quote.halted)
    band = quote.band(day)
    limit = limit_price if order_type is OrderType.LIMIT else None
    matched = venue.match(side, limit, qty, bar, band, rules)
    return matched if isinstance(matched, Match) else None
