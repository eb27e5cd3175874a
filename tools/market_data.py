"""What the analysts and the risk gate read about the market, behind one small protocol.

`MarketData` is the only door the session graph uses for prices: live sessions read KIS
(`KISMarketData`, over the KIS client, so the real exchange, a virtual account or the
simulator), the backtester reads a point-in-time view of history. Keeping the door narrow is
what lets the backtest replay the very graph that trades.
"""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from decimal import Decimal
from typing import Protocol, runtime_checkable

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from tools.indicators import IndicatorSnapshot
from tools.kis.client import KISClient
from tools.kis.errors import KISError
from tools.krx.calendar import krx_calendar
from tools.krx.rules import Market

CALENDAR_DAYS_PER_BAR = 1.6
"""Calendar days spanned per trading day, generously (weekends and holidays)."""


class Bar(BaseModel):
    """One daily bar, integer KRW."""

    model_config = ConfigDict(frozen=True)

    day: date
    open: int
    high: int
    low: int
    close: int
    volume: int


class MarketQuote(BaseModel):
    """A ticker's state now: what the risk gate needs to size and price orders."""

    model_config = ConfigDict(frozen=True)

    ticker: str
    name: str = ""
    last_price_krw: int = Field(gt=0)
    prev_close_krw: int = Field(gt=0)
    """기준가: the base of today's ±30 % limits."""
    market: Market = Market.KOSPI
    halted: bool = False
    per: Decimal | None = None
    """Price / earnings, when the source quotes it (KIS inquire-price does)."""
    pbr: Decimal | None = None
    """Price / book value, when the source quotes it."""
    open_krw: int | None = None
    """Today's open so far, when the source quotes it (with high, low and volume: today's bar,
    so a reader of stored history needs no chart call for the day in progress)."""
    high_krw: int | None = None
    low_krw: int | None = None
    volume: int | None = None


@runtime_checkable
class MarketData(Protocol):
    """Prices for the session graph."""

    async def quote(self, ticker: str) -> MarketQuote:
        """Return the ticker's current price and limit base."""
        ...

    async def daily_bars(self, ticker: str, end: date, count: int) -> list[Bar]:
        """Return up to `count` daily bars ending at `end` (inclusive), oldest first."""
        ...

    async def news_titles(self, ticker: str, day: date) -> list[str]:
        """Return the day's headlines about the ticker (may be empty)."""
        ...


def history_start(end: date, count: int) -> date:
    """Return the first day of the `count` KRX sessions ending at `end` (inclusive).

    Falls back to a generous calendar-day estimate outside the calendar's bounds.
    """
    cal = krx_calendar()
    try:
        ts = pd.Timestamp(end)
        last = ts if cal.is_session(ts) else cal.date_to_session(ts, direction="previous")
        first: date = cal.sessions_window(last, -max(count, 1))[0].date()
    except (ValueError, IndexError, KeyError):
        # exchange_calendars raises its own errors (subclasses of ValueError/KeyError/IndexError)
        return end - timedelta(days=int(count * CALENDAR_DAYS_PER_BAR) + 10)
    return first


@runtime_checkable
class PrecomputedIndicators(Protocol):
    """An optional fast path a `MarketData` may offer: indicator rows computed once.

    The backtester computes every ticker's indicators once over its whole history (they are
    causal, so row t equals a recomputation on the history cut at t; tests/tools/
    test_indicators.py holds us to that) and the market analyst reads row t instead of
    recomputing from bars every day. Live market data does not offer it.
    """

    def indicator_snapshot(self, ticker: str, day: date) -> tuple[int, IndicatorSnapshot | None]:
        """Return the number of bars up to `day` and that day's indicators.

        The snapshot is None when fewer than `tools.indicators.MIN_BARS` bars are known.
        """
        ...


# ETFs trade on a 5-won tick and pay no sell tax; KIS's product type 300 does not tell them
# apart, so the security-group code of search-stock-info decides (EF = ETF).
_ETF_GROUPS = frozenset({"EF", "EN"})


class KISMarketData:
    """`MarketData` over the KIS client (real, virtual or simulated server)."""

    def __init__(self, client: KISClient, *, news: bool = True) -> None:
        """Read through `client`; `news=False` skips headlines (the virtual server has none)."""
        self._client = client
        self._news = news
        self._markets: dict[str, Market] = {}
        self._lock = asyncio.Lock()

    async def _market(self, ticker: str) -> Market:
        if ticker in self._markets:
            return self._markets[ticker]
        try:
            info = await self._client.stock_info(ticker)
        except KISError:
            # search-stock-info is real-server only; without it, assume KOSPI rules.
            market = Market.KOSPI
        else:
            market = Market.ETF if info.security_group in _ETF_GROUPS else Market.KOSPI
            if info.kosdaq_listed_on and not info.kospi_listed_on:
                market = Market.KOSDAQ
        async with self._lock:
            self._markets[ticker] = market
        return market

    async def quote(self, ticker: str) -> MarketQuote:
        """Read inquire-price (and, once per ticker, the instrument's market)."""
        q = await self._client.price(ticker)
        return MarketQuote(
            ticker=ticker,
            last_price_krw=q.price,
            prev_close_krw=q.base_price,
            market=await self._market(ticker),
            halted=bool(q.halted),
            per=q.per,
            pbr=q.pbr,
            open_krw=q.open,
            high_krw=q.high,
            low_krw=q.low,
            volume=q.volume,
        )

    async def daily_bars(self, ticker: str, end: date, count: int) -> list[Bar]:
        """Read the daily chart, paging back as far as `count` trading days need.

        The range starts on the exact KRX session `count` sessions back, so up to 100 bars
        (one KIS page) cost one call; a looser range would cost a second page.
        """
        start = history_start(end, count)
        chart = await self._client.daily_bars(ticker, start, end)
        bars = [
            Bar(day=b.day, open=b.open, high=b.high, low=b.low, close=b.close, volume=b.volume)
            for b in chart.bars
        ]
        return bars[-count:]

    async def news_titles(self, ticker: str, day: date) -> list[str]:
        """Read today's headlines (real server only; empty when disabled)."""
        if not self._news:
            return []
        rows = await self._client.news_titles(ticker, day=day)
        return [r.title for r in rows if r.day == day]
