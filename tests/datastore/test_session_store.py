"""Sessions read the database first: settings alone, the KIS simulator over real HTTP.

A second session the same day asks KIS for no daily chart and no ratios; history read from the
store (plus today's bar from the quote) equals KIS's own chart; and a report that became known
after day t never reaches day t's fundamental analyst.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from agents.market_analyst import HISTORY_BARS
from core.errors import TraderError
from datastore.readers import StoredMarketData
from db.checkpointer import open_async_checkpointer
from db.fundamentals import FundamentalsRepository
from graphs.trading_session import build_graph
from tests.datastore.rig import Rig, running_rig
from tools.market_data import KISMarketData
from trader.settings import Settings, load_settings
from trader.wiring.context import open_session_context

pytestmark = pytest.mark.anyio

TICKERS = ("005930", "000660", "035420")


def settings_for(rig: Rig, db_url: str) -> Settings:
    """Settings of a real account whose KIS_BASE_URL is the simulator."""
    cfg = rig.sim.cfg
    return load_settings(
        trading_mode="kis-real", kis_base_url=rig.sim.base_url, kis_app_key=cfg.app_key,
        kis_app_secret=cfg.app_secret, kis_account_no=cfg.account_no,
        kis_real_account_confirm=cfg.account_no, database_url=db_url,
        state_dir=rig.tmp / "state", data_dir=rig.tmp / "data", watchlist=",".join(TICKERS),
    )  # fmt: skip


async def run_session(rig: Rig, db_url: str, thread: str, **session_input: Any) -> dict[str, Any]:
    """One session up to its approval (or its end), in a context of its own (a new process)."""
    settings = settings_for(rig, db_url)
    async with (
        open_session_context(settings, clock=rig.clock) as ctx,
        open_async_checkpointer(db_url) as saver,
    ):
        graph: Any = build_graph().compile(checkpointer=saver)
        config: Any = {"configurable": {"thread_id": thread}}
        out: dict[str, Any] = await graph.ainvoke(session_input, config, context=ctx)
        return out


def opinions(out: dict[str, Any], agent: str) -> dict[str, dict[str, Any]]:
    """The session's opinions of one agent, by ticker."""
    return {o["ticker"]: o for o in out["opinions"] if o["agent"] == agent}


async def test_a_warm_session_asks_kis_for_no_history_and_no_ratios(
    db_url: str, tmp_path: Path
) -> None:
    with running_rig(db_url, tmp_path) as rig:
        cold = await run_session(rig, db_url, "cold", phase="regular")
        cold_charts, cold_finance = rig.chart_calls(), rig.finance_calls()
        assert cold_charts == len(TICKERS)  # one page each: the last 100 closed sessions
        assert cold_finance == 2 * len(TICKERS)
        with rig.sessions() as session:
            assert all(
                FundamentalsRepository(session).known_by(t, date(2026, 3, 10)) for t in TICKERS
            )

        before_warm = dict(rig.sim.stats.requests_by_path)
        warm = await run_session(rig, db_url, "warm", phase="afternoon")
        assert rig.chart_calls() == cold_charts, "the warm session fetched daily bars"
        assert rig.finance_calls() == cold_finance, "the warm session fetched ratios"
        warm_paths = {
            path.rsplit("/", 1)[-1]: n - before_warm.get(path, 0)
            for path, n in rig.sim.stats.requests_by_path.items()
            if n > before_warm.get(path, 0)
        }
        # One multi-ticker quote for the watchlist and the balance: the listing markets and
        # PER/PBR come from the store (instruments, stored EPS/BPS), not from a call a ticker.
        assert set(warm_paths) <= {"intstock-multprice", "inquire-balance", "tokenP"}, warm_paths
        assert warm_paths.get("intstock-multprice") == 1
    # Same instant, same data: the warm session judges exactly as the cold one did.
    for agent in ("market_analyst", "fundamental"):
        assert opinions(warm, agent) == opinions(cold, agent)
        assert all(o["status"] == "ok" for o in opinions(warm, agent).values())


async def test_stored_history_and_the_quote_equal_the_live_chart(
    db_url: str, tmp_path: Path
) -> None:
    with running_rig(db_url, tmp_path) as rig:
        async with rig.client() as client:
            live = KISMarketData(client, news=False)
            stored = StoredMarketData(live, rig.collector(client))
            today = date(2026, 3, 10)
            for ticker in TICKERS:
                await stored.quote(ticker)
                charts = rig.chart_calls()
                from_store = await stored.daily_bars(ticker, today, HISTORY_BARS)
                assert rig.chart_calls() == charts + 1  # collected once, up to yesterday
                again = await stored.daily_bars(ticker, today, HISTORY_BARS)
                assert rig.chart_calls() == charts + 1  # then read from the database
                assert again == from_store
                assert from_store == await live.daily_bars(ticker, today, HISTORY_BARS)
                assert from_store[-1].day == today  # today's bar, built from the quote


async def test_a_report_known_after_day_t_never_reaches_day_t(db_url: str, tmp_path: Path) -> None:
    with running_rig(db_url, tmp_path) as rig:
        # Today (2026-03-10) KIS serves FY2025, first fetched today: known from today on.
        today = await run_session(rig, db_url, "today", phase="regular")
        yesterday = await run_session(
            rig, db_url, "yesterday", phase="regular", session_date="2026-03-09"
        )
        with rig.sessions() as session:
            repo = FundamentalsRepository(session)
            fy2025 = {r.kind: r for r in repo.known_by("005930", date(2026, 3, 10))}
            fy2024 = {r.kind: r for r in repo.known_by("005930", date(2026, 3, 9))}
    assert fy2025["financial_ratio"].period == "202512"
    assert fy2024["financial_ratio"].period == "202412"
    assert yesterday["status"] == "analysis_only"
    seen_today = opinions(today, "fundamental")["005930"]["evidence"]
    seen_yesterday = opinions(yesterday, "fundamental")["005930"]["evidence"]
    # Evidence holds numbers as JSON-safe text.
    assert float(seen_today["kis_period"]) == 202512
    assert float(seen_yesterday["kis_period"]) == 202412
    assert float(seen_yesterday["roe"]) == float(fy2024["financial_ratio"].figures["roe"])
    assert float(seen_today["roe"]) == float(fy2025["financial_ratio"].figures["roe"])
    assert seen_yesterday["roe"] != seen_today["roe"]


async def test_a_batch_quote_prepares_each_quoted_ticker(db_url: str, tmp_path: Path) -> None:
    with running_rig(db_url, tmp_path) as rig:
        async with rig.client() as client:
            stored = StoredMarketData(KISMarketData(client, news=False), rig.collector(client))
            answers = await stored.quotes(["005930", "999999", "000660"])
            assert isinstance(answers["999999"], TraderError)  # not listed: its own answer
            today = date(2026, 3, 10)
            for ticker in ("005930", "000660"):
                bars = await stored.daily_bars(ticker, today, HISTORY_BARS)
                assert len(bars) == HISTORY_BARS and bars[-1].day == today
        assert rig.chart_calls() == 2  # prepared once each; the unknown ticker cost none
