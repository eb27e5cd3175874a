"""The KRX venue model: one set of rules behind every simulated venue.

The KIS simulator, the paper broker and the backtest all ask this package whether an order may be
placed (`checks`), whether and at what price and quantity it fills against a bar or a quote
(`fills`), and what the fill costs (`costs`). Each keeps only its own bookkeeping (stores,
books, lots), so a backtest, a paper session and a simulated KIS session fill the same order the
same way. Pure functions and frozen dataclasses: no I/O, and the trading day is passed in.
"""

from tools.krx.venue.checks import (
    PriceBand,
    RejectCode,
    VenueRejection,
    band_of,
    check_order,
    check_price,
    check_qty,
)
from tools.krx.venue.costs import (
    FillCosts,
    buy_cost,
    commission,
    fill_costs,
    sell_tax,
    settles_on,
)
from tools.krx.venue.fills import (
    DEFAULT_MAX_VOLUME_SHARE,
    FillRules,
    Match,
    NoFill,
    VenueBar,
    blocked,
    capped_qty,
    cross_price,
    locked_limit,
    match,
    volume_cap,
)

__all__ = (
    "DEFAULT_MAX_VOLUME_SHARE",
    "FillCosts",
    "FillRules",
    "Match",
    "NoFill",
    "PriceBand",
    "RejectCode",
    "VenueBar",
    "VenueRejection",
    "band_of",
    "blocked",
    "buy_cost",
    "capped_qty",
    "check_order",
    "check_price",
    "check_qty",
    "commission",
    "cross_price",
    "fill_costs",
    "locked_limit",
    "match",
    "sell_tax",
    "settles_on",
    "volume_cap",
)
