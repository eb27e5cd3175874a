"""The graph served to Studio (`trader.studio`), driven in-process the way the server drives it.

A server's runs carry JSON (`context={}` from Studio and the SDK), never a `SessionContext`:
the served graph declares no context schema, and its nodes take the default context that
`ServedContext` opens from the settings on the first run and keeps for the next ones. The
product graph, run without a context, refuses to start.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from langchain_core.runnables import RunnableConfig
from langgraph.types import Command

from agents.context import SessionContext
from core.clock import FixedClock
from core.errors import ConfigurationError
from db import migrate
from db.checkpointer import open_async_checkpointer
from db.models import Run, RunStatus
from graphs.trading_session import build_graph
from tests.graphs.served import rows
from tests.graphs.session_harness import OPENED_AT, SESSION_DAY, TICKERS
from trader.settings import Settings
from trader.studio import ServedContext, serve
from trader.wiring.context import open_session_context, serves_demo

pytestmark = pytest.mark.anyio


async def test_the_session_graph_refuses_a_run_without_its_context() -> None:
    graph = build_graph().compile()
    with pytest.raises(ConfigurationError, match="without its SessionContext"):
        await graph.ainvoke({"session_date": SESSION_DAY.isoformat()})


async def test_served_runs_bring_json_and_run_on_the_default_context_opened_once(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    migrate.upgrade(db_url)
    # The served context reads the settings from the environment, as `langgraph dev` does.
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("WATCHLIST", ",".join(TICKERS))
    opened: list[Settings] = []

    @asynccontextmanager
    async def on_session_morning(settings: Settings) -> AsyncIterator[SessionContext]:
        opened.append(settings)
        demo = serves_demo(settings)  # paper without KIS keys: the demo market
        async with open_session_context(settings, demo=demo, clock=FixedClock(OPENED_AT)) as ctx:
            yield ctx

    default = ServedContext(on_session_morning)
    try:
        async with open_async_checkpointer(db_url) as saver:
            served = serve(default)
            assert served.context_schema is None, "the server's JSON must not become a context"
            graph = served.copy(update={"checkpointer": saver})  # what the server does
            config: RunnableConfig = {"configurable": {"thread_id": str(uuid.uuid4())}}

            out = await graph.ainvoke({}, config, context={})
            assert out["status"] == "awaiting_approval"
            assert out["tickers"] == list(TICKERS)  # the WATCHLIST setting
            out = await graph.ainvoke(
                Command(resume={"approve_all": True, "decided_by": "studio"}),
                config,
                context={},
            )
            assert out["status"] == "done"
    finally:
        await default.aclose()

    assert len(opened) == 1, "one context for every run of the server"
    assert opened[0].database_url == db_url
    (run,) = rows(db_url, Run)
    assert run["venue"] == "demo"
    assert run["status"] == RunStatus.COMPLETED
