"""The graph served to Studio (`trader.studio`), driven in-process the way the server drives it.

A server's runs carry JSON (`context={}` from Studio and the SDK), never a `SessionContext`:
the served graph declares no context schema, and its nodes take the default context that
`ServedContext` opens from the settings on the first run and keeps for the next ones. The
product graph, run without a context, refuses to start.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
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
from tests.tools.notify.receiver import running_receiver
from trader.settings import Settings
from trader.studio import ServedContext, serve
from trader.wiring.context import open_session_context, serves_demo

pytestmark = pytest.mark.anyio


def served_environment(monkeypatch: pytest.MonkeyPatch, db_url: str, tmp_path: Path) -> None:
    """Settings in the environment, as `langgraph dev` gives them to the served context."""
    migrate.upgrade(db_url)
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("WATCHLIST", ",".join(TICKERS))


@asynccontextmanager
async def on_session_morning(
    opened: list[Settings], settings: Settings
) -> AsyncIterator[SessionContext]:
    """The served context on the harness's session morning; `opened` records each opening."""
    opened.append(settings)
    demo = serves_demo(settings)  # paper without KIS keys: the demo market
    async with open_session_context(settings, demo=demo, clock=FixedClock(OPENED_AT)) as ctx:
        yield ctx


async def test_the_session_graph_refuses_a_run_without_its_context() -> None:
    graph = build_graph().compile()
    with pytest.raises(ConfigurationError, match="without its SessionContext"):
        await graph.ainvoke({"session_date": SESSION_DAY.isoformat()})


async def test_served_runs_bring_json_and_run_on_the_default_context_opened_once(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    served_environment(monkeypatch, db_url, tmp_path)
    opened: list[Settings] = []
    default = ServedContext(partial(on_session_morning, opened))
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


async def test_a_served_run_announces_its_pending_approval_once_and_then_its_fills(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No runner watches a Studio or LangGraph Server run: the served graph's own observer tells
    # the configured channels, here a Slack-compatible webhook on a local receiver.
    served_environment(monkeypatch, db_url, tmp_path)
    monkeypatch.setenv("SERVICE_PUBLIC_URL", "http://trader.example:8000")
    with running_receiver() as receiver:
        monkeypatch.setenv("NOTIFY_WEBHOOK_URL", f"{receiver.base_url}/hooks/served")
        default = ServedContext(partial(on_session_morning, []))
        thread = str(uuid.uuid4())
        try:
            async with open_async_checkpointer(db_url) as saver:
                served = serve(default, observer=default)
                graph = served.copy(update={"checkpointer": saver})
                config: RunnableConfig = {"configurable": {"thread_id": thread}}
                out = await graph.ainvoke({}, config, context={})
                assert out["status"] == "awaiting_approval"
                orders = len(out["approval_request"]["orders"])
                # Sent in the background on this loop: wait for it off the loop.
                [pending] = await asyncio.to_thread(receiver.wait_for, 1)
                out = await graph.ainvoke(
                    Command(resume={"approve_all": True, "decided_by": "studio"}),
                    config,
                    context={},
                )
                assert out["status"] == "done"
        finally:
            await default.aclose()  # sends what is still queued
        texts = [body["text"] for body in receiver.bodies()]

    request_thread = out["approval_request"]["thread_id"]
    assert pending.path == "/hooks/served"
    assert texts[0].startswith(f"Session {request_thread}: {orders} order(s) wait for approval")
    assert texts[0].endswith(f"Decide: http://trader.example:8000/sessions/{request_thread}")
    # Resuming re-runs no risk manager: the approval is announced once; the fills follow.
    assert sum("wait for approval" in text for text in texts) == 1
    assert any(
        text.startswith(f"Session {request_thread}: ") and "filled" in text for text in texts
    )


class BrokenObserver:
    """An observer whose every call fails (a notifier bug)."""

    def __init__(self) -> None:
        self.calls = 0

    def node_finished(self, thread_id: str, node: str, update: dict[str, object]) -> None:
        self.calls += 1
        raise RuntimeError("observer bug")


async def test_a_failing_observer_is_logged_and_the_session_goes_on(
    db_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    served_environment(monkeypatch, db_url, tmp_path)
    default = ServedContext(partial(on_session_morning, []))
    broken = BrokenObserver()
    try:
        async with open_async_checkpointer(db_url) as saver:
            graph = serve(default, observer=broken).copy(update={"checkpointer": saver})
            config: RunnableConfig = {"configurable": {"thread_id": str(uuid.uuid4())}}
            out = await graph.ainvoke({}, config, context={})
    finally:
        await default.aclose()
    assert out["status"] == "awaiting_approval"
    assert broken.calls >= 4  # load_context, both analysts, signals, risk_manager
    assert "the risk_manager node's observer failed: RuntimeError" in caplog.text
