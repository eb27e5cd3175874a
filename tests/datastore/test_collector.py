"""The collector against the KIS simulator over HTTP, on SQLite and PostgreSQL.

Incremental fetching, a split re-adjusting the served past, an interrupted run resumed, and
the day each company figure counts as known.
"""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from datastore.collector import CollectOptions, TickerDone
from db.fundamentals import FundamentalsRepository
from tests.datastore.rig import TUESDAY_1030, running_rig
from tools.kis.simulator.corporate import CorporateAction
from tools.krx.calendar import krx_calendar

pytestmark = pytest.mark.anyio

SINCE = date(2025, 6, 2)
BARS_ONLY = CollectOptions(since=SINCE, fundamentals=False, dart=False, econ=False)


def sessions_between(start: date, end: date) -> list[date]:
    """KRX sessions from `start` to `end`, inclusive (what a complete history holds)."""
    cal = krx_calendar()
    return [ts.date() for ts in cal.sessions_in_range(pd.Timestamp(start), pd.Timestamp(end))]


async def test_a_second_collect_fetches_nothing_and_a_new_day_one_page(
    db_url: str, tmp_path: Path
) -> None:
    with running_rig(db_url, tmp_path) as rig:
        async with rig.client() as client:
            collector = rig.collector(client)
            first = await collector.run(["005930"], BARS_ONLY)
            expected = sessions_between(SINCE, date(2026, 3, 9))
            assert sorted(rig.closes("005930")) == expected
            assert first.statuses["fetched"] == 1 and first.bars_written == len(expected)
            calls = rig.chart_calls()
            assert calls == -(-len(expected) // 100)  # 100 bars a page

            again = await collector.run(["005930"], BARS_ONLY)
            assert rig.chart_calls() == calls, "the second collect asked KIS again"
            assert again.statuses["up_to_date"] == 1 and again.bars_written == 0

            rig.clock.advance(timedelta(days=1))  # Wednesday: Tuesday's bar is final
            newer = await collector.run(["005930"], BARS_ONLY)
        assert rig.chart_calls() == calls + 1
        assert newer.bars_written == 1
        stored = rig.closes("005930")
        assert max(stored) == date(2026, 3, 10) and len(stored) == len(expected) + 1
        assert rig.row_count()[0] == rig.row_count()[1]


async def test_a_split_rewrites_the_stored_history(db_url: str, tmp_path: Path) -> None:
    split = CorporateAction("005930", effective=date(2026, 3, 11), factor=Decimal(2))
    with running_rig(db_url, tmp_path, corporate_actions=(split,)) as rig:
        async with rig.client() as client:
            collector = rig.collector(client)
            await collector.run(["005930", "000660"], BARS_ONLY)
            before = rig.closes("005930")
            other_before = rig.closes("000660")

            rig.clock.set(TUESDAY_1030 + timedelta(days=2))  # Thursday, the split happened
            report = await collector.run(["005930", "000660"], BARS_ONLY)
            # What KIS serves now, asked independently of the collector.
            served = await client.daily_bars("005930", SINCE, date(2026, 3, 11))
        after = rig.closes("005930")
        assert report.readjusted == ["005930"]
        assert after == {b.day: b.close for b in served.bars}
        # Every stored day before the split is on the new basis: about half the old close.
        for day, close in before.items():
            assert abs(after[day] * 2 - close) <= 2, day
        other_after = rig.closes("000660")  # no action: kept, and extended by two days
        assert {d: c for d, c in other_after.items() if d in other_before} == other_before
        assert len(other_after) == len(other_before) + 2
        assert rig.row_count()[0] == rig.row_count()[1]


async def test_an_interrupted_collection_resumes_without_loss_or_duplicates(
    db_url: str, tmp_path: Path
) -> None:
    tickers = [f"SY{n:04d}" for n in range(1, 11)]
    with running_rig(db_url, tmp_path, synthetic_instruments=10) as rig:
        async with rig.client() as client:
            collector = rig.collector(client, concurrency=3)
            done: list[str] = []
            task: asyncio.Task[object] | None = None

            def stop_after_four(event: TickerDone) -> None:
                done.append(event.ticker)
                if len(done) == 4 and task is not None:
                    task.cancel()  # what Ctrl-C does to `asyncio.run`'s main task

            task = asyncio.create_task(collector.run(tickers, BARS_ONLY, progress=stop_after_four))
            with pytest.raises(asyncio.CancelledError):
                await task
            full = len(sessions_between(SINCE, date(2026, 3, 9)))
            counts = {t: len(rig.closes(t)) for t in tickers}
            # Each ticker is either complete or untouched: no half-written history.
            assert set(counts.values()) <= {0, full}, counts
            missing = [t for t, n in counts.items() if n == 0]
            assert 0 < len(missing) < len(tickers)

            pages = -(-full // 100)
            calls = rig.chart_calls()
            report = await collector.run(tickers, BARS_ONLY)
        assert rig.chart_calls() - calls == pages * len(missing)
        assert report.statuses == {
            "fetched": len(missing),
            "up_to_date": len(tickers) - len(missing),
        }
        assert all(len(rig.closes(t)) == full for t in tickers)
        rows, distinct = rig.row_count()
        assert rows == distinct == full * len(tickers)


async def test_kis_ratios_are_known_from_the_deadline_or_the_day_fetched(
    db_url: str, tmp_path: Path
) -> None:
    options = CollectOptions(since=SINCE, bars=False, dart=False, econ=False)
    with running_rig(db_url, tmp_path) as rig:
        async with rig.client() as client:
            collector = rig.collector(client)
            await collector.run(["005930"], options)
            calls = rig.finance_calls()
            await collector.run(["005930"], options)  # nothing due: not fetched again
            assert rig.finance_calls() == calls
            rig.clock.set(TUESDAY_1030 + timedelta(days=70))  # past the Q1 deadline (May 15)
            await collector.run(["005930"], options)
            assert rig.finance_calls() == calls + 2
        with rig.sessions() as session:
            repo = FundamentalsRepository(session)
            assert repo.last_asked("005930", "kis") is not None
            # The simulator serves FY2025 from 2026-03-01, before its 90-day deadline
            # (2026-03-31): known from the day it was first fetched, not the deadline.
            latest = {r.kind: r for r in repo.known_by("005930", date(2026, 3, 10))}
            assert latest["financial_ratio"].period == "202512"
            assert latest["financial_ratio"].known_on == date(2026, 3, 10)
            assert latest["financial_ratio"].known_basis == "fetched"
            earlier = {r.kind: r for r in repo.known_by("005930", date(2026, 3, 9))}
            assert earlier["financial_ratio"].period == "202412"
            assert earlier["financial_ratio"].known_on == date(2025, 3, 31)
            assert earlier["financial_ratio"].known_basis == "deadline"
            assert earlier["stability_ratio"].period == "202412"


async def test_a_ticker_without_ratios_is_not_asked_again_until_a_report_can_be_due(
    db_url: str, tmp_path: Path
) -> None:
    options = CollectOptions(since=SINCE, bars=False, dart=False, econ=False)
    with running_rig(db_url, tmp_path) as rig:
        async with rig.client() as client:
            collector = rig.collector(client)
            first = await collector.run(["069500"], options)  # an ETF: KIS has no statements
            calls = rig.finance_calls()
            assert calls == 2 and first.fundamentals_written == 0
            await collector.run(["069500"], options)
            assert rig.finance_calls() == calls, "the empty answer was asked for again"
            rig.clock.set(TUESDAY_1030 + timedelta(days=70))  # past the Q1 deadline
            await collector.run(["069500"], options)
            assert rig.finance_calls() == calls + 2
        with rig.sessions() as session:
            repo = FundamentalsRepository(session)
            assert repo.known_by("069500", date(2026, 6, 1)) == []
            assert repo.last_asked("069500", "kis") is not None
