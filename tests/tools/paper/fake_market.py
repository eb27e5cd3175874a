"""A `MarketData` whose quotes a test sets by hand, for driving the paper broker.

It answers only what it was told: a ticker nobody priced raises `LookupError`, as a real source
fails for an unknown code. It keeps no history and no news.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import date

from tools.krx.rules import Market
from tools.market_data import Bar, MarketQuote, QuoteAnswer


class FakeMarket:
    """Quotes set with `set`; every `quote` call is counted per ticker."""

    def __init__(self) -> None:
        self._quotes: dict[str, MarketQuote] = {}
        self.calls: dict[str, int] = {}

    def set(
        self,
        ticker: str,
        last: int,
        *,
        prev_close: int | None = None,
        market: Market | None = None,
        halted: bool = False,
        name: str | None = None,
        limits: tuple[int, int] | None = None,
    ) -> None:
        """Set a ticker's quote; unspecified fields keep their earlier value (or defaults).

        `limits`: the day's (lower, upper) limits as KIS announces them; None: not quoted.
        """
        old = self._quotes.get(ticker)
        lower, upper = limits if limits is not None else (None, None)
        self._quotes[ticker] = MarketQuote(
            ticker=ticker,
            name=name if name is not None else (old.name if old else ""),
            last_price_krw=last,
            prev_close_krw=prev_close or (old.prev_close_krw if old else last),
            market=market or (old.market if old else Market.KOSPI),
            halted=halted,
            lower_limit_krw=lower,
            upper_limit_krw=upper,
        )

    async def quote(self, ticker: str) -> MarketQuote:
        self.calls[ticker] = self.calls.get(ticker, 0) + 1
        await asyncio.sleep(0)  # a real source suspends on I/O; let other tasks run
        try:
            return self._quotes[ticker]
        except KeyError:
            raise LookupError(f"no quote for {ticker}") from None

    async def quotes(self, tickers: Sequence[str]) -> dict[str, QuoteAnswer]:
        # Each ticker through `quote`, so the per-ticker counts stay what tests read; an
        # unpriced ticker fails the batch as `quote` fails (LookupError is no TraderError).
        return {t: await self.quote(t) for t in dict.fromkeys(tickers)}

    async def daily_bars(self, ticker: str, end: date, count: int) -> list[Bar]:
        return []

    async def news_titles(self, ticker: str, day: date) -> list[str]:
        return []
