"""Listing markets by ticker: what `KISMarketData` would otherwise ask KIS every session."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from db.models import Instrument
from db.upsert import upsert


class InstrumentRepository:
    """Instruments keyed by ticker; a rewrite updates the market and the fetch time."""

    def __init__(self, session: Session) -> None:
        """Work inside the caller's session."""
        self.session = session

    def save(self, markets: Mapping[str, str], fetched_at: datetime) -> None:
        """Record each ticker's market as fetched at `fetched_at`."""
        rows = [
            {"ticker": ticker, "market": market, "fetched_at": fetched_at}
            for ticker, market in markets.items()
        ]
        upsert(self.session, Instrument, rows, key=("ticker",), update=("market", "fetched_at"))

    def fetched_since(self, tickers: Iterable[str], since: datetime) -> dict[str, str]:
        """Return the markets of those tickers fetched at or after `since`."""
        wanted = list(dict.fromkeys(tickers))
        if not wanted:
            return {}
        stmt = sa.select(Instrument.ticker, Instrument.market).where(
            Instrument.ticker.in_(wanted), Instrument.fetched_at >= since
        )
        return {ticker: market for ticker, market in self.session.execute(stmt)}
