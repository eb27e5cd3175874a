"""Daily bars into `market_data`: only what the database lacks, rewritten when KIS re-adjusts.

KIS's daily chart (`FID_ORG_ADJ_PRC=0`) serves prices adjusted for splits and rights issues as
of the day it is asked, so a stored history can go stale: after a 2-for-1 split every stored
close is twice what KIS now serves. Each incremental fetch therefore starts `OVERLAP_BARS`
stored sessions back; if those overlapping bars differ from KIS's answer now, the ticker's
whole stored range is fetched again and rewritten (old rows deleted in the same transaction).

A ticker's writes are one transaction, after its fetch is complete: a run stopped midway
(Ctrl-C, a cancelled task) leaves every ticker either as it was or fully written, and a rerun
continues from what is stored. Upserts make a rewrite of a known bar harmless.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal, ParamSpec

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from core.clock import KST
from db.models import MarketBar
from db.repositories import MarketDataRepository
from tools.kis.client import KISClient
from tools.kis.models import DailyBar
from tools.krx.calendar import krx_calendar

P = ParamSpec("P")

OVERLAP_BARS = 5
"""Stored sessions fetched again with each increment, to notice a re-adjusted past."""
ADJUSTED = "adjusted"
SOURCE = "kis"
DAILY = "1d"
WRITE_CHUNK = 500
"""Rows per INSERT (SQLite allows 32,766 bound values; a bar has 11)."""

BarStatus = Literal["fetched", "up_to_date", "readjusted", "empty"]


@dataclass(frozen=True)
class BarOutcome:
    """What collecting one ticker's bars did."""

    ticker: str
    status: BarStatus
    written: int = 0
    """Bars written (new, corrected or rewritten)."""


@dataclass(frozen=True)
class StoredSpan:
    """The stored adjusted daily bars of a ticker: first and last day, and the last few bars."""

    first: date
    last: date
    tail: tuple[tuple[date, int, int, int, int], ...]
    """The last `OVERLAP_BARS` bars as (day, open, high, low, close), oldest first."""


async def write_in_thread(fn: Callable[P, None], *args: P.args, **kwargs: P.kwargs) -> None:
    """Run a write in a worker thread and let it finish even when the caller is cancelled.

    A thread cannot be stopped, so a cancelled run would otherwise return while a ticker's
    transaction still commits behind it; waiting keeps "stopped" meaning "nothing is writing".
    """
    task = asyncio.ensure_future(asyncio.to_thread(fn, *args, **kwargs))
    try:
        await asyncio.shield(task)
    except asyncio.CancelledError:
        await task
        raise


def last_closed_session(today: date) -> date:
    """The last KRX session strictly before `today`: the newest bar that can be final."""
    cal = krx_calendar()
    ts = pd.Timestamp(today)
    try:
        if cal.is_session(ts):
            return cal.previous_session(ts).date()  # type: ignore[no-any-return]
        return cal.date_to_session(ts, direction="previous").date()  # type: ignore[no-any-return]
    except (ValueError, KeyError, IndexError):
        # Outside the calendar's bounds: yesterday, and the chart simply has no bar for it.
        return today - timedelta(days=1)


def first_session_from(day: date) -> date:
    """The first KRX session on or after `day` (`day` itself outside the calendar)."""
    cal = krx_calendar()
    try:
        return cal.date_to_session(pd.Timestamp(day), direction="next").date()  # type: ignore[no-any-return]
    except (ValueError, KeyError, IndexError):
        return day


def bar_time(day: date) -> datetime:
    """A daily bar's `bar_time`: 09:00 KST of its session, in UTC."""
    return datetime.combine(day, time(9), KST).astimezone(UTC)


def _day_of(value: datetime) -> date:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(KST).date()


def _adjusted_daily(ticker: str) -> Any:
    return (
        (MarketBar.ticker == ticker)
        & (MarketBar.interval == DAILY)
        & (MarketBar.adjustment == ADJUSTED)
    )


def stored_span(session: Session, ticker: str) -> StoredSpan | None:
    """Return what is stored of a ticker's adjusted daily bars, or None when nothing is."""
    first = session.scalar(
        sa.select(sa.func.min(MarketBar.bar_time)).where(_adjusted_daily(ticker))
    )
    if first is None:
        return None
    tail_rows = session.execute(
        sa.select(
            MarketBar.bar_time,
            MarketBar.open_krw,
            MarketBar.high_krw,
            MarketBar.low_krw,
            MarketBar.close_krw,
        )
        .where(_adjusted_daily(ticker))
        .order_by(MarketBar.bar_time.desc())
        .limit(OVERLAP_BARS)
    ).all()
    tail = tuple(
        (_day_of(t), int(o), int(h), int(lo), int(c)) for t, o, h, lo, c in reversed(tail_rows)
    )
    return StoredSpan(first=_day_of(first), last=tail[-1][0], tail=tail)


def bar_rows(ticker: str, bars: Sequence[DailyBar], fetched_at: datetime) -> list[dict[str, Any]]:
    """The `market_data` rows of KIS's adjusted daily bars."""
    return [
        {
            "ticker": ticker,
            "interval": DAILY,
            "bar_time": bar_time(b.day),
            "open_krw": b.open,
            "high_krw": b.high,
            "low_krw": b.low,
            "close_krw": b.close,
            "volume": b.volume,
            "source": SOURCE,
            "adjustment": ADJUSTED,
            "fetched_at": fetched_at,
        }
        for b in bars
    ]


def write_bars(
    sessions: sessionmaker[Session],
    ticker: str,
    bars: Sequence[DailyBar],
    fetched_at: datetime,
    *,
    replace: bool = False,
) -> None:
    """Upsert a ticker's bars in one transaction; `replace` first deletes its stored bars."""
    rows = bar_rows(ticker, bars, fetched_at)
    with sessions.begin() as session:
        if replace:
            session.execute(
                sa.delete(MarketBar).where(MarketBar.ticker == ticker, MarketBar.interval == DAILY)
            )
        repo = MarketDataRepository(session)
        for i in range(0, len(rows), WRITE_CHUNK):
            repo.save_bars(rows[i : i + WRITE_CHUNK])


def overlap_differs(span: StoredSpan, fetched: Sequence[DailyBar]) -> bool:
    """Whether KIS now serves any stored overlap bar at other prices (the past re-adjusted)."""
    served = {b.day: (b.open, b.high, b.low, b.close) for b in fetched}
    for day, o, h, lo, c in span.tail:
        now = served.get(day)
        if now is not None and now != (o, h, lo, c):
            return True
    return False


async def collect_bars(
    client: KISClient,
    sessions: sessionmaker[Session],
    ticker: str,
    *,
    since: date,
    end: date,
    now: datetime,
) -> BarOutcome:
    """Bring a ticker's stored bars to cover `since`..`end`, fetching only what is missing.

    Raises:
        TraderError: KIS or the database failed (nothing of this ticker was written).
    """
    span = await asyncio.to_thread(_span, sessions, ticker)
    if span is None:
        chart = await client.daily_bars(ticker, since, end)
        if not chart.bars:
            return BarOutcome(ticker, "empty")
        await write_in_thread(write_bars, sessions, ticker, chart.bars, now)
        return BarOutcome(ticker, "fetched", len(chart.bars))
    written = 0
    if span.last < end:
        overlap_start = span.tail[0][0]
        chart = await client.daily_bars(ticker, overlap_start, end)
        if overlap_differs(span, chart.bars):
            return await _rewrite(client, sessions, ticker, min(since, span.first), end, now)
        fresh = [b for b in chart.bars if b.day > span.last]
        if fresh:
            await write_in_thread(write_bars, sessions, ticker, fresh, now)
            written += len(fresh)
    if first_session_from(since) < span.first:
        older = await client.daily_bars(ticker, since, span.first - timedelta(days=1))
        if older.bars:
            await write_in_thread(write_bars, sessions, ticker, older.bars, now)
            written += len(older.bars)
    return BarOutcome(ticker, "fetched" if written else "up_to_date", written)


async def _rewrite(
    client: KISClient,
    sessions: sessionmaker[Session],
    ticker: str,
    start: date,
    end: date,
    now: datetime,
) -> BarOutcome:
    chart = await client.daily_bars(ticker, start, end)
    await write_in_thread(write_bars, sessions, ticker, chart.bars, now, replace=True)
    return BarOutcome(ticker, "readjusted", len(chart.bars))


def _span(sessions: sessionmaker[Session], ticker: str) -> StoredSpan | None:
    with sessions() as session:
        return stored_span(session, ticker)


def stored_bars(
    sessions: sessionmaker[Session], ticker: str, end: date, count: int
) -> list[tuple[date, int, int, int, int, int]]:
    """The last `count` stored adjusted bars up to `end`, oldest first, as plain tuples."""
    limit = datetime.combine(end + timedelta(days=1), time(0), KST).astimezone(UTC)
    with sessions() as session:
        rows = session.execute(
            sa.select(
                MarketBar.bar_time,
                MarketBar.open_krw,
                MarketBar.high_krw,
                MarketBar.low_krw,
                MarketBar.close_krw,
                MarketBar.volume,
            )
            .where(_adjusted_daily(ticker), MarketBar.bar_time < limit)
            .order_by(MarketBar.bar_time.desc())
            .limit(count)
        ).all()
    return [
        (_day_of(t), int(o), int(h), int(lo), int(c), int(v))
        for t, o, h, lo, c, v in reversed(rows)
    ]
