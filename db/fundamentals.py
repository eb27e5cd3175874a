"""Company figures with the day each became known: the point-in-time store of the data layer.

The collector writes what KIS and OpenDART report; live sessions and backtests read through
`FundamentalsRepository.known_by`, the one place the point-in-time rule is applied, so a
report published after day t can never reach day t's decision whichever caller asks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from db.models import Fundamental, FundamentalFetch
from db.upsert import upsert


class FundamentalsRepository:
    """Fundamentals keyed by (ticker, source, kind, period); a rewrite updates the figures."""

    def __init__(self, session: Session) -> None:
        """Work inside the caller's session."""
        self.session = session

    def save(self, rows: Sequence[Mapping[str, Any]]) -> None:
        """Write rows; a known report keeps the earliest `known_on` it was ever given.

        A restated report (an amendment, a corrected ratio) replaces the figures, but the day
        the period first became known stays: the earlier figures were known then, and moving
        the date later would hide the period from decisions that did see it. Callers that
        restate pass the new figures' own `known_on` through a new period or kind.
        """
        upsert(
            self.session,
            Fundamental,
            rows,
            key=("ticker", "source", "kind", "period"),
            update=("figures", "fetched_at"),
        )

    def known_by(self, ticker: str, day: date) -> list[Fundamental]:
        """Return, per (source, kind), the latest period known on `day` (`known_on <= day`)."""
        stmt = (
            sa.select(Fundamental)
            .where(Fundamental.ticker == ticker, Fundamental.known_on <= day)
            .order_by(Fundamental.source, Fundamental.kind, Fundamental.period.desc())
        )
        latest: dict[tuple[str, str], Fundamental] = {}
        for row in self.session.scalars(stmt):
            latest.setdefault((row.source, row.kind), row)
        return list(latest.values())

    def record_fetch(self, ticker: str, source: str, rows: int, fetched_at: datetime) -> None:
        """Note that `source` was asked for `ticker` at `fetched_at` and answered `rows` rows."""
        upsert(
            self.session,
            FundamentalFetch,
            [{"ticker": ticker, "source": source, "rows": rows, "fetched_at": fetched_at}],
            key=("ticker", "source"),
            update=("rows", "fetched_at"),
        )

    def last_asked(self, ticker: str, source: str) -> datetime | None:
        """When `source` was last asked for `ticker` (None: never, or before fetches were noted).

        Falls back to the newest stored row's fetch time, so a database collected before
        fetches were recorded does not refetch everything once.
        """
        noted = self.session.scalar(
            sa.select(FundamentalFetch.fetched_at).where(
                FundamentalFetch.ticker == ticker, FundamentalFetch.source == source
            )
        )
        if noted is not None:
            return noted
        row = self.latest_fetch(ticker, source)
        return None if row is None else row.fetched_at

    def latest_fetch(self, ticker: str, source: str) -> Fundamental | None:
        """Return the most recently fetched row of a ticker from a source (for refresh ages)."""
        stmt = (
            sa.select(Fundamental)
            .where(Fundamental.ticker == ticker, Fundamental.source == source)
            .order_by(Fundamental.fetched_at.desc())
            .limit(1)
        )
        return self.session.scalars(stmt).first()
