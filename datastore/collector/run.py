"""One collection run: tickers streamed through a bounded pool of workers, each ticker on its own.

Memory stays flat in the number of tickers: workers pull tickers from an iterator one at a
time, a ticker's bars live only while it is being written, and the run keeps counters, not
rows. Throughput: `concurrency` tickers are in flight, enough to keep the KIS client's rate
limiter busy (its slots, not the pool, set the pace). Each ticker commits on its own, so a
run stopped midway (Ctrl-C, a cancelled task) and started again loses and duplicates nothing.

Progress goes to a callback (the CLI draws a bar with it); this module never prints.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy.orm import Session, sessionmaker

from core.clock import Clock, kst_today
from core.errors import TraderError
from datastore.collector import econ as econ_collect
from datastore.collector.bars import (
    BarOutcome,
    collect_bars,
    last_closed_session,
    write_in_thread,
)
from datastore.collector.fundamentals import (
    fetch_dart_reports,
    fetch_kis_ratios,
    last_kis_fetch_day,
    needs_refresh,
    save_kis_fetch,
    save_rows,
    stored_dart_years,
)
from tools.econ.snapshot import EconSnapshots
from tools.kis.client import KISClient

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CollectOptions:
    """What a run collects."""

    since: date
    """The first day of history wanted (bars; DART years from its year on)."""
    bars: bool = True
    fundamentals: bool = True
    """KIS financial and stability ratios."""
    dart: bool = True
    """OpenDART annual reports (needs an econ source)."""
    econ: bool = True
    """ECOS and FRED observations (once per run, not per ticker)."""


@dataclass(frozen=True)
class TickerDone:
    """One ticker finished (the progress callback's event)."""

    ticker: str
    bars: BarOutcome | None
    fundamentals: int
    error: str | None = None


@dataclass
class CollectReport:
    """What a run did, in counts."""

    tickers: int = 0
    bars_written: int = 0
    fundamentals_written: int = 0
    econ_written: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    readjusted: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    requests: int = 0
    """KIS requests sent (from the client's counter)."""
    rate_limited: int = 0
    """EGW00201 answers received."""
    elapsed_s: float = 0.0

    @property
    def requests_per_s(self) -> float:
        """KIS requests per second over the run."""
        return self.requests / self.elapsed_s if self.elapsed_s > 0 else 0.0


Progress = Callable[[TickerDone], None]


class Collector:
    """Fetches what the database lacks from KIS (and the econ sources) and stores it."""

    def __init__(
        self,
        client: KISClient,
        sessions: sessionmaker[Session],
        *,
        clock: Clock,
        econ: EconSnapshots | None = None,
        concurrency: int = 8,
        fundamentals_max_age: timedelta = timedelta(days=30),
    ) -> None:
        """Collect through `client` into `sessions`' database; `concurrency` tickers at once.

        A ticker's KIS ratios are fetched again only when a filing deadline passed since the
        last fetch or that fetch is `fundamentals_max_age` old.
        """
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.client = client
        self.sessions = sessions
        self.clock = clock
        self.econ = econ
        self.concurrency = concurrency
        self.fundamentals_max_age = fundamentals_max_age

    def last_closed(self) -> date:
        """The newest session whose bar is final (the one before today, KST)."""
        return last_closed_session(kst_today(self.clock))

    async def bars(self, ticker: str, since: date) -> BarOutcome:
        """Bring one ticker's stored bars up to the last closed session (incremental)."""
        end = self.last_closed()
        return await collect_bars(
            self.client,
            self.sessions,
            ticker,
            since=min(since, end),
            end=end,
            now=self.clock.now(),
        )

    async def kis_fundamentals(self, ticker: str) -> int:
        """Fetch and store one ticker's KIS ratios; return the rows written.

        The fetch is noted even when KIS has nothing (an ETF), so the refresh rule does not ask
        again on the next run.
        """
        now = self.clock.now()
        rows = await fetch_kis_ratios(
            self.client, ticker, fetched_at=now, fetched_on=kst_today(self.clock)
        )
        await write_in_thread(save_kis_fetch, self.sessions, ticker, rows, now)
        return len(rows)

    async def kis_fundamentals_if_due(self, ticker: str) -> int | None:
        """Refresh one ticker's KIS ratios when a new report can have appeared.

        Returns the rows written, or None when the stored ones are current.
        """
        last = await asyncio.to_thread(last_kis_fetch_day, self.sessions, ticker)
        if not needs_refresh(last, kst_today(self.clock), self.fundamentals_max_age):
            return None
        return await self.kis_fundamentals(ticker)

    async def _dart(self, ticker: str, since: date) -> int:
        if self.econ is None:
            return 0
        today = kst_today(self.clock)
        stored = await asyncio.to_thread(stored_dart_years, self.sessions, ticker)
        years = [y for y in range(since.year, today.year) if y not in stored]
        if not years:
            return 0
        rows = await fetch_dart_reports(self.econ, ticker, years, fetched_at=self.clock.now())
        await write_in_thread(save_rows, self.sessions, rows)
        return len(rows)

    async def _ticker(self, ticker: str, options: CollectOptions) -> TickerDone:
        outcome: BarOutcome | None = None
        written = 0
        try:
            if options.bars:
                outcome = await self.bars(ticker, options.since)
            if options.fundamentals:
                written += await self.kis_fundamentals_if_due(ticker) or 0
            if options.dart:
                written += await self._dart(ticker, options.since)
        except TraderError as exc:
            return TickerDone(ticker, outcome, written, error=str(exc))
        return TickerDone(ticker, outcome, written)

    async def _econ(self, options: CollectOptions, report: CollectReport) -> None:
        if self.econ is None or not options.econ:
            return
        today = kst_today(self.clock)
        now = self.clock.now()
        for name, work in (
            ("ecos", econ_collect.collect_ecos),
            ("fred", econ_collect.collect_fred),
        ):
            try:
                report.econ_written += await work(
                    self.econ, self.sessions, since=options.since, today=today, now=now
                )
            except TraderError as exc:
                report.failed[name] = str(exc)

    async def run(
        self,
        tickers: Iterable[str],
        options: CollectOptions,
        *,
        progress: Progress | None = None,
    ) -> CollectReport:
        """Collect every ticker (streamed, `concurrency` at a time) and the econ series.

        A ticker that fails is reported and skipped; the others carry on. Cancelling the
        task (or Ctrl-C) stops the workers; what each finished ticker wrote stays.
        """
        report = CollectReport()
        started = time.perf_counter()
        sent0, limited0 = self.client.http.sent, self.client.http.rate_limited
        source: Iterator[str] = iter(tickers)

        async def worker() -> None:
            for ticker in source:  # a shared iterator: each ticker is taken by one worker
                done = await self._ticker(ticker, options)
                _count(report, done)
                if progress is not None:
                    progress(done)

        try:
            await self._econ(options, report)
            async with asyncio.TaskGroup() as group:
                for _ in range(self.concurrency):
                    group.create_task(worker())
        finally:
            report.elapsed_s = time.perf_counter() - started
            report.requests = self.client.http.sent - sent0
            report.rate_limited = self.client.http.rate_limited - limited0
        return report


def _count(report: CollectReport, done: TickerDone) -> None:
    report.tickers += 1
    report.fundamentals_written += done.fundamentals
    if done.bars is not None:
        report.bars_written += done.bars.written
        report.statuses[done.bars.status] += 1
        if done.bars.status == "readjusted":
            report.readjusted.append(done.ticker)
    if done.error is not None:
        report.failed[done.ticker] = done.error
        report.statuses["failed"] += 1


def default_since(today: date, years: int) -> date:
    """The first day of `years` years of history before `today`."""
    return today - timedelta(days=365 * years + years // 4)
