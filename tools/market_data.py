"""What the analysts and the risk gate read about the market, behind one small protocol.

`MarketData` is the only door the session graph uses for prices: live sessions read KIS
(`KISMarketData`, over the KIS client, so the real exchange, a virtual account or the
simulator), the backtester reads a point-in-time view of history. Keeping the door narrow is
what lets the backtest replay the very graph that trades.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Protocol, Self, runtime_checkable

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from core.errors import TraderError
from tools.indicators import IndicatorSnapshot
from tools.kis.client import KISClient
from tools.kis.errors import KISError, KISRequestRejectedError, KISTemporaryError
from tools.kis.models import MultiQuote
from tools.krx.calendar import krx_calendar
from tools.krx.rules import Market
from tools.krx.venue import PriceBand, band_of

log = logging.getLogger(__name__)

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
    upper_limit_krw: int | None = Field(default=None, gt=0)
    """Today's upper limit (상한가) as the exchange set it, when the source says (KIS does);
    None: the risk gate computes it from the base price."""
    lower_limit_krw: int | None = Field(default=None, gt=0)
    """Today's lower limit (하한가), likewise."""
    open_krw: int | None = None
    """Today's open so far, when the source quotes it (with high, low and volume: today's bar,
    so a reader of stored history needs no chart call for the day in progress)."""
    high_krw: int | None = None
    low_krw: int | None = None
    volume: int | None = None

    def band(self, day: date) -> PriceBand:
        """The day's limits: the ones the source announced, else computed from the base price."""
        return band_of(
            self.prev_close_krw,
            self.market,
            day,
            lower=self.lower_limit_krw,
            upper=self.upper_limit_krw,
        )

    @model_validator(mode="after")
    def _limits_in_order(self) -> Self:
        lower, upper = self.lower_limit_krw, self.upper_limit_krw
        if lower is not None and upper is not None and lower > upper:
            raise ValueError(f"lower limit {lower} is above upper limit {upper}")
        return self


QuoteAnswer = MarketQuote | TraderError
"""One ticker's answer in a batch: its quote, or why it could not be quoted."""


@runtime_checkable
class MarketData(Protocol):
    """Prices for the session graph."""

    async def quote(self, ticker: str) -> MarketQuote:
        """Return the ticker's current price and limit base."""
        ...

    async def quotes(self, tickers: Sequence[str]) -> dict[str, QuoteAnswer]:
        """Quote a whole watchlist: one answer per distinct ticker, a failure as its error.

        One ticker's failure (a typo, a delisting) never fails the others.
        """
        ...

    async def daily_bars(self, ticker: str, end: date, count: int) -> list[Bar]:
        """Return up to `count` daily bars ending at `end` (inclusive), oldest first."""
        ...

    async def news_titles(self, ticker: str, day: date) -> list[str]:
        """Return the day's headlines about the ticker (may be empty)."""
        ...


async def quote_each(market: MarketData, tickers: Sequence[str]) -> dict[str, QuoteAnswer]:
    """`MarketData.quotes` by one `quote` per ticker, one after the other.

    For sources where a quote costs no call (the backtest's history) and as the fallback of
    sources whose batch call is not offered.
    """
    answers: dict[str, QuoteAnswer] = {}
    for ticker in dict.fromkeys(tickers):
        try:
            answers[ticker] = await market.quote(ticker)
        except TraderError as exc:
            answers[ticker] = exc
    return answers


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
class ListingMemory(Protocol):
    """An optional part of a `MarketData` that learns listing markets by asking the source.

    KIS tells a ticker's market (KOSPI, KOSDAQ, ETF: the tick table and the tax) only through a
    per-ticker query; a store that keeps the answers hands them back before the next session.
    """

    def known_markets(self) -> dict[str, Market]:
        """Return the listing markets learnt so far."""
        ...

    def remember_markets(self, markets: Mapping[str, Market]) -> None:
        """Take listing markets known from elsewhere."""
        ...


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
    """`MarketData` over the KIS client (real, virtual or simulated server).

    A watchlist is quoted with the multi-ticker quote (30 tickers a call) where the server
    offers it, else with one inquire-price per ticker; a server that refuses the multi-ticker
    quote once (the virtual server, an older gateway) is not asked again by this instance.
    """

    def __init__(self, client: KISClient, *, news: bool = True, concurrency: int = 8) -> None:
        """Read through `client`; `news=False` skips headlines (the virtual server has none).

        `concurrency` bounds the single quotes in flight when falling back to them (the
        client's rate limiter paces them either way).
        """
        self._client = client
        self._news = news
        self._markets: dict[str, Market] = {}
        self._lock = asyncio.Lock()
        self._concurrency = max(concurrency, 1)
        self.multi_quote_refused: str | None = None
        """Why the server refused the multi-ticker quote (None: not refused so far)."""

    def known_markets(self) -> dict[str, Market]:
        """The listing markets learnt so far (to be kept by whoever stores them)."""
        return dict(self._markets)

    def remember_markets(self, markets: Mapping[str, Market]) -> None:
        """Take listing markets known from elsewhere (a store), so KIS is not asked for them."""
        self._markets.update(markets)

    async def _market(self, ticker: str, board: str = "") -> Market:
        if ticker in self._markets:
            return self._markets[ticker]
        if "코스닥" in board:
            # Only the KOSPI board lists ETFs, so a KOSDAQ listing needs no further question.
            market = Market.KOSDAQ
        else:
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
            upper_limit_krw=q.upper_limit or None,
            lower_limit_krw=q.lower_limit or None,
            open_krw=q.open,
            high_krw=q.high,
            low_krw=q.low,
            volume=q.volume,
        )

    async def quotes(self, tickers: Sequence[str]) -> dict[str, QuoteAnswer]:
        """Quote the watchlist with the multi-ticker quote, falling back to single quotes.

        The multi-ticker quote carries the day's limits but no PER/PBR: those stay None.
        """
        wanted = list(dict.fromkeys(tickers))
        if not wanted:
            return {}
        if self.multi_quote_refused is None:
            try:
                rows = await self._client.prices(wanted)
            except KISTemporaryError as exc:
                log.warning("multi-ticker quote failed (%s); quoting one by one", exc)
            except KISError as exc:
                self.multi_quote_refused = str(exc)
                log.info("the server does not offer the multi-ticker quote (%s)", exc)
            else:
                # Rows are in; a ticker's listing market may still cost a call (once per ticker).
                return await self._bounded(wanted, lambda t: self._from_row(t, rows[t]))
        return await self._bounded(wanted, self._quote_or_error)

    async def _from_row(self, ticker: str, row: MultiQuote | KISError) -> QuoteAnswer:
        if isinstance(row, KISError):
            return row
        if row.price is None or row.price <= 0:  # `prices` answers only listed rows
            return KISRequestRejectedError(f"KIS sent no price for {ticker}")
        base = row.base_price or row.prev_close
        if not base:
            return KISRequestRejectedError(f"KIS sent no base price for {ticker}")
        return MarketQuote(
            ticker=ticker,
            name=row.name,
            last_price_krw=row.price,
            prev_close_krw=base,
            market=await self._market(ticker, row.market_name),
            halted="정지" in row.measure_name,
            upper_limit_krw=row.upper_limit or None,
            lower_limit_krw=row.lower_limit or None,
            open_krw=row.open,
            high_krw=row.high,
            low_krw=row.low,
            volume=row.volume,
        )

    async def _quote_or_error(self, ticker: str) -> QuoteAnswer:
        try:
            return await self.quote(ticker)
        except TraderError as exc:
            return exc

    async def _bounded(
        self, tickers: list[str], answer: Callable[[str], Awaitable[QuoteAnswer]]
    ) -> dict[str, QuoteAnswer]:
        """Answer every ticker, at most `concurrency` at a time (the limiter paces the calls)."""
        semaphore = asyncio.Semaphore(self._concurrency)

        async def one(ticker: str) -> QuoteAnswer:
            async with semaphore:
                return await answer(ticker)

        answers = await asyncio.gather(*(one(t) for t in tickers))
        return dict(zip(tickers, answers, strict=True))

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
