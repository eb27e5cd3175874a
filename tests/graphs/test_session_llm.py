"""The whole session graph in LLM mode, on the demo venue, with the scripted chat model.

The demo venue is the in-process KIS simulator (market and broker) plus the econ twin; the
analysts' tools really call them. The chat model is `agents.fake_llm.ScriptedChatModel`, which
asks for one data tool per ticker and then submits an opinion following the rules reading.
Each test runs to the approval interrupt, approves everything, and checks what reached the
model, the opinions, the token accounting on the run row, and the orders.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from langgraph.types import Command

from agents.fake_llm import ScriptedChatModel
from agents.llm import UsageMeter
from db import migrate
from db.checkpointer import open_async_checkpointer
from db.models import Run
from graphs.trading_session import build_graph
from tools.kis.simulator.instruments import DEFAULT_UNIVERSE
from trader.settings import DEFAULT_WATCHLIST, Settings
from trader.wiring.context import open_session_context

pytestmark = pytest.mark.anyio

ANALYSTS = ("market_analyst", "fundamental")
ALL_TICKERS = tuple(i.ticker for i in DEFAULT_UNIVERSE)
DATA_TOOLS = {"news_titles", "intraday_bars", "growth_and_profit", "macro_calendar"}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _settings(tmp_path: Path, url: str, **overrides: Any) -> Settings:
    return Settings(data_dir=tmp_path / "data", database_url=url, **overrides)


async def _run_session(
    settings: Settings,
    fake: ScriptedChatModel,
    tickers: tuple[str, ...],
    *,
    concurrency: int | None = None,
) -> tuple[dict[str, Any], Run, UsageMeter]:
    """Run one session to the end (approving everything); return its state, run row and meter."""
    url = settings.resolved_database_url
    migrate.upgrade(url)
    async with (
        open_session_context(settings, demo=True) as base,
        open_async_checkpointer(url) as saver,
    ):
        meter = UsageMeter(model_name="fake-model", token_budget=settings.llm_token_budget)
        ctx = dataclasses.replace(
            base,
            llm=fake,
            usage=meter,
            fill_poll_interval_s=0.2,
            # The simulated market moves with the wall clock: an order may rest unfilled. The
            # executor then cancels it at the timeout; keep that short.
            fill_timeout=timedelta(seconds=4),
            analyst_concurrency=concurrency or base.analyst_concurrency,
        )
        graph = build_graph().compile(checkpointer=saver)
        config: Any = {"configurable": {"thread_id": "llm-session"}}
        out = await graph.ainvoke({"tickers": list(tickers)}, config, context=ctx)
        if "__interrupt__" in out:
            out = await graph.ainvoke(
                Command(resume={"approve_all": True, "decided_by": "test"}),
                config,
                context=ctx,
                durability="sync",
            )
        with ctx.sessions() as session:
            run = session.scalars(sa.select(Run)).one()
            session.expunge(run)
    return out, run, meter


def _opinions(out: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(o["agent"], o["ticker"]): o for o in out["opinions"]}


def _assert_tokens_on_run(run: Run, fake: ScriptedChatModel, meter: UsageMeter) -> None:
    assert fake.total_input_tokens > 0
    assert run.tokens_in == fake.total_input_tokens == meter.usage.input_tokens
    assert run.tokens_out == fake.total_output_tokens == meter.usage.output_tokens


async def _assert_llm_session(settings: Settings) -> None:
    fake = ScriptedChatModel()
    out, run, meter = await _run_session(settings, fake, DEFAULT_WATCHLIST)

    opinions = _opinions(out)
    for ticker in DEFAULT_WATCHLIST:
        for agent in ANALYSTS:
            opinion = opinions[(agent, ticker)]
            assert opinion["status"] == "ok", opinion
            assert opinion["rationale"].startswith("[fake-model] follows the rules reading")
            calls = fake.calls_for(ticker, agent)
            assert [c.answer for c in calls] == ["tool_call", "submit"]
            # The second call read the result of the tool the first one asked for.
            asked = calls[0].tool_calls[0]["name"]
            assert [r.name for r in calls[1].tool_results] == [asked]
            assert not calls[1].tool_results[0].content.startswith("error")
    offered = {name for c in fake.calls for name in c.tools_offered}
    assert offered == DATA_TOOLS | {"submit_opinion"}
    executed = {r.name for c in fake.calls for r in c.tool_results}
    assert executed == DATA_TOOLS
    per_ticker = Counter((c.agent, c.ticker) for c in fake.calls)
    assert max(per_ticker.values()) <= 2

    _assert_tokens_on_run(run, fake, meter)
    assert run.status == "completed"
    executions = out["report"]["executions"]
    assert executions, "an LLM-mode session that follows the rules should trade"
    for execution in executions:
        assert execution["broker_order_id"], execution
        assert execution["status"] in {"filled", "partially_filled", "cancelled"}, execution


async def test_llm_session_on_sqlite(tmp_path: Path, sqlite_url: str) -> None:
    await _assert_llm_session(_settings(tmp_path, sqlite_url))


@pytest.mark.postgres
async def test_llm_session_on_postgres(tmp_path: Path, pg_url: str) -> None:
    await _assert_llm_session(_settings(tmp_path, pg_url))


async def test_llm_failures_mark_only_their_tickers(tmp_path: Path, sqlite_url: str) -> None:
    failures: dict[str, Any] = {"035420": "error", "051910": "nonsense", "005380": "invalid"}
    expected = {"035420": "llm_failed", "051910": "llm_unparseable", "005380": "llm_unparseable"}
    fake = ScriptedChatModel(failures=failures)
    out, run, meter = await _run_session(_settings(tmp_path, sqlite_url), fake, ALL_TICKERS)

    opinions = _opinions(out)
    for (agent, ticker), opinion in opinions.items():
        assert opinion["status"] == expected.get(ticker, "ok"), (agent, ticker, opinion)
        if ticker in expected:
            assert opinion["stance"] is None and opinion["conviction"] is None
    assert "conviction" in opinions[("fundamental", "005380")]["rationale"]
    signals = {s["ticker"]: s for s in out["signals"]}
    for ticker in expected:
        assert signals[ticker]["status"] == expected[ticker]
        # The failing answer ends the conversation: no retry into an invented default.
        for agent in ANALYSTS:
            calls = fake.calls_for(ticker, agent)
            assert len(calls) <= 2
            assert calls[-1].answer == {"error": "error", "nonsense": "nonsense"}.get(
                failures[ticker], "invalid"
            )
    orders = {o["ticker"] for o in out["risk_report"]["orders"]}
    assert orders, "the tickers without scripted failures should still trade"
    assert not orders & set(expected)
    assert {e["ticker"] for e in out["report"]["executions"]} == orders
    _assert_tokens_on_run(run, fake, meter)


async def test_token_budget_stops_the_model(tmp_path: Path, sqlite_url: str) -> None:
    budget = 6_000
    settings = _settings(tmp_path, sqlite_url, llm_token_budget=budget)
    fake = ScriptedChatModel()
    out, run, meter = await _run_session(settings, fake, ALL_TICKERS, concurrency=1)

    statuses = Counter(o["status"] for o in out["opinions"])
    assert set(statuses) == {"ok", "budget_exhausted"}, statuses
    assert statuses["ok"] >= 1 and statuses["budget_exhausted"] >= len(ALL_TICKERS)
    for opinion in out["opinions"]:
        if opinion["status"] == "budget_exhausted":
            assert "budget" in opinion["rationale"]
    # Calls stop once the budget is spent: beyond the calls that reached it, only those
    # already admitted (one per analyst at concurrency 1) may have run.
    spent, needed = 0, 0
    for call in fake.calls:
        if spent >= budget:
            break
        spent += call.input_tokens + call.output_tokens
        needed += 1
    assert needed <= len(fake.calls) <= needed + len(ANALYSTS)
    assert meter.usage.total_tokens >= budget
    _assert_tokens_on_run(run, fake, meter)
