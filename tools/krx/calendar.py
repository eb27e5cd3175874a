"""The KRX trading calendar (exchange_calendars' XKRX), with the settlement date rule.

Building an exchange_calendars calendar costs about a second, so one instance is cached.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from typing import Any

import exchange_calendars as xcals
import pandas as pd

SETTLEMENT_LAG_DAYS = 2
"""KRX settles on T+2 trading days."""


@lru_cache(maxsize=1)
def krx_calendar() -> Any:
    """Return the cached XKRX calendar covering 1990 to two years ahead."""
    end = pd.Timestamp.today().normalize() + pd.DateOffset(years=2)
    return xcals.get_calendar("XKRX", start="1990-01-01", end=end.strftime("%Y-%m-%d"))


@lru_cache(maxsize=16_384)
def is_trading_day(day: date) -> bool:
    """Tell whether KRX trades on `day` (cached: sessions and backtests ask the same days)."""
    return bool(krx_calendar().is_session(pd.Timestamp(day)))


def next_trading_day(day: date) -> date:
    """Return the first trading day strictly after `day`."""
    cal = krx_calendar()
    ts = pd.Timestamp(day)
    if cal.is_session(ts):
        return cal.next_session(ts).date()  # type: ignore[no-any-return]
    return cal.date_to_session(ts, direction="next").date()  # type: ignore[no-any-return]


def settlement_date(trade_date: date) -> date:
    """Return T+2 in trading days for a trade on `trade_date`."""
    day = trade_date
    for _ in range(SETTLEMENT_LAG_DAYS):
        day = next_trading_day(day)
    return day
