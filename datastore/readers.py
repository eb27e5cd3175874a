"""What a live session reads: the database first, the source only for what it cannot hold yet.

- `StoredMarketData` (a `tools.market_data.MarketData`): daily history comes from `market_data`.
  The first time a ticker's history is asked for on a day, the collector brings its stored bars
  up to the last closed session (incremental: a second session the same day fetches nothing).
  Today's bar, still moving, is built from the live quote the session took anyway; quotes and
  headlines go to the live source.
- `StoredCompanyFigures` (a `tools.company_figures.CompanyFigures`): KIS ratios from
  `fundamentals` through `FundamentalsRepository.known_by` (the point-in-time rule), refreshed
  from KIS only when a filing deadline has passed since the last fetch or the last fetch is
  older than the configured age.

Where the database cannot answer (the collector failed, a past date outside what is stored) the
reader asks the live source, so a session never loses data it would have had without the store.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TypeVar

from sqlalchemy.orm import Session

from core.clock import kst_today
from core.errors import TraderError
from datastore.collector.bars import BarOutcome, stored_bars
from datastore.collector.fundamentals import (
    FINANCIAL_RATIO,
    KIS,
    STABILITY_RATIO,
)
from datastore.collector.run import Collector
from db.engine import transaction
from db.fundamentals import FundamentalsRepository
from db.instruments import InstrumentRepository
from db.models import Fundamental
from tools.company_figures import KisRatios
from tools.kis.client import DAILY_CHART_PAGE_ROWS
from tools.kis.models import FinancialRatioRow, StabilityRatioRow
from tools.krx.calendar import is_trading_day
from tools.krx.rules import Market
from tools.market_data import (
    Bar,
    ListingMemory,
    MarketData,
    MarketQuote,
    QuoteAnswer,
    history_start,
)

log = logging.getLogger(__name__)


Row = tuple[date, int, int, int, int, int]

LISTING_REFRESH = timedelta(days=30)
"""How long a stored listing market is trusted before KIS is asked again (transfer listings)."""


@dataclass(frozen=True)
class StoredRows:
    """A ticker's stored bars read ahead, and whether the store was brought up to date."""

    trusted: bool
    rows: list[Row]


class StoredMarketData:
    """`MarketData` that reads daily history from the database, kept current by the collector."""

    def __init__(
        self,
        live: MarketData,
        collector: Collector,
        *,
        history_bars: int = DAILY_CHART_PAGE_ROWS,
        on_quote: Sequence[Callable[[MarketQuote], Awaitable[None]]] = (),
    ) -> None:
        """Quote through `live`; store and read history through `collector`'s database.

        Args:
            live: quotes, headlines, and the fallback for history the store cannot give.
            collector: brings stored bars up to date and owns the database.
            history_bars: the history a ticker's quote prepares (the market analyst's).
            on_quote: more preparation to start when a ticker is quoted (its ratios).
        """
        self.live = live
        self.collector = collector
        self.history_bars = history_bars
        self.on_quote = tuple(on_quote)
        self._current: dict[str, tuple[date, date] | None] = {}
        """Per ticker: (last closed session, since) it was brought up to, None if that failed."""
        self._locks: dict[str, asyncio.Lock] = {}
        self._quotes: dict[str, MarketQuote] = {}
        self._prepared: dict[tuple[str, date], asyncio.Task[StoredRows | None]] = {}

    async def quote(self, ticker: str) -> MarketQuote:
        """Quote live, keep the quote (it holds today's bar so far), and prepare the ticker.

        The preparation (bars brought up to date and read, `on_quote` hooks) runs while the
        session waits for its other quotes, so the analysts find the data ready.
        """
        quote = await self.live.quote(ticker)
        self._quoted(quote)
        return quote

    async def quotes(self, tickers: Sequence[str]) -> dict[str, QuoteAnswer]:
        """Quote a watchlist through the live source's `quotes` (one batch where it offers one).

        Each quote is kept and its ticker prepared, as `quote` does; a ticker's failure is its
        answer, never the others'.
        """
        memory = self.live if isinstance(self.live, ListingMemory) else None
        stored: dict[str, Market] = {}
        if memory is not None:
            stored = await asyncio.to_thread(self._stored_markets, tickers)
            memory.remember_markets(stored)
        answers = await self.live.quotes(tickers)
        for answer in answers.values():
            if isinstance(answer, MarketQuote):
                self._quoted(answer)
        if memory is not None:
            learned = {t: m for t, m in memory.known_markets().items() if t not in stored}
            if learned:
                await asyncio.to_thread(self._store_markets, learned)
        return answers

    def _stored_markets(self, tickers: Sequence[str]) -> dict[str, Market]:
        """The listing markets stored for these tickers within the refresh age."""
        since = self.collector.clock.now() - LISTING_REFRESH
        with self.collector.sessions() as session:
            stored = InstrumentRepository(session).fetched_since(tickers, since)
        return {ticker: Market(market) for ticker, market in stored.items()}

    def _store_markets(self, markets: dict[str, Market]) -> None:
        with transaction(self.collector.sessions) as session:
            InstrumentRepository(session).save(
                {t: m.value for t, m in markets.items()}, self.collector.clock.now()
            )

    def _quoted(self, quote: MarketQuote) -> None:
        self._quotes[quote.ticker] = quote
        key = (quote.ticker, self.collector.last_closed())
        if key not in self._prepared:
            self._prepared[key] = asyncio.create_task(self._prepare(quote.ticker, key[1]))

    async def _prepare(self, ticker: str, last_closed: date) -> StoredRows | None:
        """Bring the ticker's bars up to date and read them; never raises (logs instead)."""
        try:
            since = history_start(last_closed, self.history_bars)
            trusted = await self._bring_up_to_date(ticker, since)
            rows = await asyncio.to_thread(
                stored_bars, self.collector.sessions, ticker, last_closed, self.history_bars
            )
            for hook in self.on_quote:
                await hook(self._quotes[ticker])
        except Exception:  # a failed preparation only costs the analyst a direct read
            log.exception("%s: preparing stored data failed", ticker)
            return None
        return StoredRows(trusted, rows)

    async def news_titles(self, ticker: str, day: date) -> list[str]:
        """Headlines come from the live source."""
        return await self.live.news_titles(ticker, day)

    async def _bring_up_to_date(self, ticker: str, since: date) -> bool:
        """Collect the ticker's bars once per closed session; False when that failed."""
        last_closed = self.collector.last_closed()
        lock = self._locks.setdefault(ticker, asyncio.Lock())
        async with lock:
            done = self._current.get(ticker)
            if done is not None and done[0] == last_closed and done[1] <= since:
                return True
            try:
                outcome: BarOutcome = await self.collector.bars(ticker, since)
            except TraderError as exc:
                log.warning("%s: stored history not brought up to date: %s", ticker, exc)
                self._current[ticker] = None
                return False
            log.debug("%s: bars %s (%d written)", ticker, outcome.status, outcome.written)
            self._current[ticker] = (last_closed, since)
            return True

    async def _today_bar(self, ticker: str, today: date) -> Bar | None:
        """Today's bar so far from the session's quote (quoting once if none was taken)."""
        quote = self._quotes.get(ticker) or await self.quote(ticker)
        parts = (quote.open_krw, quote.high_krw, quote.low_krw, quote.volume)
        if any(p is None for p in parts):
            bars = await self.live.daily_bars(ticker, today, 1)
            return bars[-1] if bars and bars[-1].day == today else None
        if not quote.volume:
            return None  # before the open: no bar for today yet
        return Bar(
            day=today,
            open=quote.open_krw or quote.last_price_krw,
            high=max(quote.high_krw or 0, quote.last_price_krw),
            low=min(quote.low_krw or quote.last_price_krw, quote.last_price_krw),
            close=quote.last_price_krw,
            volume=quote.volume,
        )

    async def daily_bars(self, ticker: str, end: date, count: int) -> list[Bar]:
        """Return up to `count` bars ending at `end`: stored history, plus today's from the quote.

        Falls back to the live source when the store could not be brought up to date or
        holds too little for a past `end`.
        """
        today = kst_today(self.collector.clock)
        last_closed = self.collector.last_closed()
        prepared = self._prepared.get((ticker, last_closed))
        ready = await prepared if prepared is not None and end > last_closed else None
        if ready is not None and count <= self.history_bars:
            trusted, rows = ready.trusted, ready.rows[-count:]
        else:
            trusted = False
            if end > last_closed:
                trusted = await self._bring_up_to_date(ticker, history_start(last_closed, count))
            rows = await asyncio.to_thread(
                stored_bars, self.collector.sessions, ticker, min(end, last_closed), count
            )
        live_today = end >= today and is_trading_day(today)
        today_bar = await self._today_bar(ticker, today) if live_today else None
        wanted = count - (1 if today_bar is not None else 0)
        if len(rows) < wanted and not trusted:
            return await self.live.daily_bars(ticker, end, count)
        bars = [Bar(day=d, open=o, high=h, low=lo, close=c, volume=v) for d, o, h, lo, c, v in rows]
        if today_bar is not None:
            bars.append(today_bar)
        return bars[-count:]


R = TypeVar("R", FinancialRatioRow, StabilityRatioRow)


def _ratio_row(model: type[R], row: Fundamental | None) -> R | None:
    if row is None:
        return None
    return model.model_validate({**row.figures, "period": row.period})


def known_kis_ratios(session: Session, ticker: str, day: date) -> KisRatios:
    """A ticker's latest KIS ratios known on `day`, from `fundamentals` (point in time).

    The one reading of stored KIS ratios: a live session's (`StoredCompanyFigures`) and a
    replay's (`evals.backtest.stored_fundamentals.StoredKisRatios`).
    """
    rows = {
        r.kind: r for r in FundamentalsRepository(session).known_by(ticker, day) if r.source == KIS
    }
    return KisRatios(
        financial=_ratio_row(FinancialRatioRow, rows.get(FINANCIAL_RATIO)),
        stability=_ratio_row(StabilityRatioRow, rows.get(STABILITY_RATIO)),
    )


class StoredCompanyFigures:
    """KIS ratios from `fundamentals`, refreshed only when a new report can have appeared."""

    def __init__(self, collector: Collector) -> None:
        """Refresh through `collector` (its `fundamentals_max_age` and the filing deadlines)."""
        self.collector = collector
        self._checked: dict[str, date] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._today: dict[tuple[str, date], KisRatios] = {}

    async def prepare(self, quote: MarketQuote) -> None:
        """Refresh a quoted ticker if due and read today's ratios ahead.

        A `StoredMarketData` hook. ETFs have no company figures: nothing to prepare.
        """
        if quote.market is Market.ETF:
            return
        ticker = quote.ticker
        today = kst_today(self.collector.clock)
        await self._refresh(ticker)
        self._today[(ticker, today)] = await asyncio.to_thread(self._known, ticker, today)

    async def _refresh(self, ticker: str) -> None:
        today = kst_today(self.collector.clock)
        lock = self._locks.setdefault(ticker, asyncio.Lock())
        async with lock:
            if self._checked.get(ticker) == today:
                return
            try:
                await self.collector.kis_fundamentals_if_due(ticker)
            except TraderError as exc:
                log.warning("%s: KIS ratios not refreshed, stored ones used: %s", ticker, exc)
            self._checked[ticker] = today

    def _known(self, ticker: str, day: date) -> KisRatios:
        with self.collector.sessions() as session:
            return known_kis_ratios(session, ticker, day)

    async def kis_ratios(self, ticker: str, day: date) -> KisRatios:
        """The latest annual ratios known on `day` (refreshing the store first if due)."""
        await self._refresh(ticker)
        ready = self._today.get((ticker, day))
        if ready is not None:
            return ready
        return await asyncio.to_thread(self._known, ticker, day)
