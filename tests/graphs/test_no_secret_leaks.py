"""No secret reaches a log line, a database row, a checkpoint, an HTTP answer, a trace or an error.

Two whole sessions in LLM mode (the scripted fake chat model), with LangSmith tracing on against
a local sink, and distinctive fake secrets configured for everything: one on the demo market
(the paper venue's built-in market), one on `kis-real` against the KIS simulator over HTTP
with the economic-data twin over HTTP too. Then every place a secret could end up is searched.
"""

from __future__ import annotations

import base64
import dataclasses
import logging
import os
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from langchain_core.tracers.langchain import wait_for_all_tracers
from langgraph.types import Command
from langsmith import utils as ls_utils

from agents.fake_llm import ScriptedChatModel
from core.clock import FixedClock
from core.errors import TraderError
from db import migrate
from db.checkpointer import open_async_checkpointer
from db.engine import create_db_engine
from graphs.trading_session import build_graph
from tests.graphs.leak_capture import ResponseRecorder, TraceSink
from tests.graphs.session_harness import OPENED_AT, TICKERS
from tools.econ.simulator.app import EconSimulator
from tools.econ.simulator.state import SimulatorKeys, SimulatorState
from tools.kis.simulator import SimulatorConfig, SimulatorServer
from tools.kis.simulator.app import app_for_state
from tools.kis.simulator.state import build_state
from tools.loopback import BackgroundServer
from trader.observability import export_langsmith
from trader.settings import Settings, TradingMode, load_settings
from trader.wiring.context import kis_client_for, open_session_context

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

SECRETS = {
    "KIS_APP_KEY": "PSleakKISappKEYq7Rw2".ljust(36, "Z"),
    "KIS_APP_SECRET": ("LEAKkisSECRETx9" * 13)[:180],
    "KIS_ACCOUNT_NO": "58203917",
    "OPENAI_API_KEY": "sk-leak-openai-Vb83kQ1m",
    "LANGSMITH_API_KEY": "lsv2_leak_langsmith_P4t7Hs",
    "ECOS_API_KEY": "LEAKECOS7Q2W9E4R1T6Y",
    "FRED_API_KEY": "f7e1ea4c0b9d2a6b5c3e8f1d0a9b7c6e",
    "DART_API_KEY": "d4a7e1c9b2f6038e5a1d7c4b9e2f6a0d3c8b5e17",
}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(autouse=True)
def forget_tracing() -> Iterator[None]:
    """LangSmith caches the environment it read; without this, tests that run after this one
    in the same process keep tracing to its trace sink after the sink has stopped."""
    yield
    wait_for_all_tracers()
    ls_utils.get_env_var.cache_clear()


@pytest.fixture
def served() -> Iterator[list[BackgroundServer]]:
    servers: list[BackgroundServer] = []
    yield servers
    for server in servers:
        server.stop()


def _serve(servers: list[BackgroundServer], app: Any, name: str) -> str:
    server = BackgroundServer(app, name=name)
    port = server.start()
    servers.append(server)
    return f"http://127.0.0.1:{port}"


def _find(haystack: str | bytes, where: str) -> list[str]:
    found = []
    for name, secret in SECRETS.items():
        needle: str | bytes = secret.encode() if isinstance(haystack, bytes) else secret
        if needle in haystack:  # type: ignore[operator]
            found.append(f"{name} in {where}")
    return found


async def _session(settings: Settings, *, demo: bool, thread_id: str, clock: Any) -> None:
    url = settings.resolved_database_url
    async with (
        open_session_context(settings, demo=demo, clock=clock) as base,
        open_async_checkpointer(url) as saver,
    ):
        ctx = dataclasses.replace(
            base,
            llm=ScriptedChatModel(),
            fill_poll_interval_s=0.2,
            fill_timeout=timedelta(seconds=4),
        )
        graph = build_graph().compile(checkpointer=saver)
        config: Any = {"configurable": {"thread_id": thread_id}}
        out = await graph.ainvoke({"tickers": list(TICKERS)}, config, context=ctx)
        assert "__interrupt__" in out, out.get("status")
        done = await graph.ainvoke(
            Command(resume={"approve_all": True, "decided_by": "leak-test"}),
            config,
            context=ctx,
            durability="sync",
        )
        assert done["status"] == "done", done.get("status")


async def test_no_secret_anywhere(
    tmp_path: Path,
    sqlite_url: str,
    served: list[BackgroundServer],
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    caplog.set_level(logging.DEBUG)
    clock = FixedClock(OPENED_AT)
    sink = TraceSink()
    trace_url = _serve(served, sink.app(), "trace-sink")
    econ = EconSimulator(
        SimulatorState(
            SimulatorKeys(
                ecos=SECRETS["ECOS_API_KEY"],
                fred=SECRETS["FRED_API_KEY"],
                dart=SECRETS["DART_API_KEY"],
            ),
            today=OPENED_AT.date(),
        )
    )
    econ_urls = econ.base_urls(_serve(served, econ.app(), "econ-sim"))
    kis_state = build_state(
        SimulatorConfig(
            app_key=SECRETS["KIS_APP_KEY"],
            app_secret=SECRETS["KIS_APP_SECRET"],
            account_no=SECRETS["KIS_ACCOUNT_NO"],
            store_path=tmp_path / "kis-sim.db",
            clock=clock,
            always_open=True,
        )
    )
    kis_answers = ResponseRecorder(app_for_state(kis_state))
    kis_url = _serve(served, kis_answers, "kis-sim")

    await _to_thread(migrate.upgrade, sqlite_url)
    settings = load_settings(
        trading_mode="kis-real",
        kis_base_url=kis_url,
        kis_app_key=SECRETS["KIS_APP_KEY"],
        kis_app_secret=SECRETS["KIS_APP_SECRET"],
        kis_account_no=f"{SECRETS['KIS_ACCOUNT_NO']}-01",
        kis_real_account_confirm=f"{SECRETS['KIS_ACCOUNT_NO']}-01",
        llm_provider="openai",
        openai_api_key=SECRETS["OPENAI_API_KEY"],
        langsmith_tracing=True,
        langsmith_api_key=SECRETS["LANGSMITH_API_KEY"],
        langsmith_endpoint=trace_url,
        langsmith_project="leak-test",
        ecos_api_key=SECRETS["ECOS_API_KEY"],
        fred_api_key=SECRETS["FRED_API_KEY"],
        dart_api_key=SECRETS["DART_API_KEY"],
        ecos_base_url=econ_urls.ecos,
        fred_base_url=econ_urls.fred,
        dart_base_url=econ_urls.dart,
        database_url=sqlite_url,
        data_dir=tmp_path / "data",
    )
    for name in (
        "LANGSMITH_TRACING",
        "LANGSMITH_API_KEY",
        "LANGSMITH_ENDPOINT",
        "LANGSMITH_PROJECT",
    ):
        monkeypatch.setenv(name, "")
    export_langsmith(settings, os.environ)

    paper = settings.model_copy(update={"trading_mode": TradingMode.PAPER})
    await _session(paper, demo=True, thread_id="leak-demo", clock=None)
    await _session(settings, demo=False, thread_id="leak-real", clock=clock)

    # Errors a user meets: a refused key pair, a bad setting next to the secrets.
    errors: list[str] = []
    with SimulatorServer(SimulatorConfig(clock=clock)) as other:
        wrong = settings.model_copy(update={"kis_base_url": other.base_url})
        client = kis_client_for(wrong, demo=False, clock=clock)
        try:
            with pytest.raises(TraderError) as refused:
                await client.price("005930")
            errors.append(str(refused.value) + repr(refused.value))
        finally:
            await client.aclose()
    with pytest.raises(TraderError) as invalid:
        load_settings(**{k.lower(): v for k, v in SECRETS.items()}, kis_account_product_code="x")
    errors.append(str(invalid.value))

    wait_for_all_tracers()

    leaks: list[str] = []
    for record in caplog.records:
        leaks += _find(record.getMessage() + (record.exc_text or ""), f"log {record.name}")
    out, err = capfd.readouterr()
    leaks += _find(out + err, "captured output")
    engine = create_db_engine(sqlite_url)
    tables = sa.MetaData()
    tables.reflect(engine)
    rows = blobs = 0
    with engine.connect() as conn:
        for table in tables.sorted_tables:
            for row in conn.execute(sa.select(table)):
                rows += 1
                for column, value in row._mapping.items():
                    where = f"db {table.name}.{column}"
                    if isinstance(value, bytes | memoryview):
                        blobs += 1
                        leaks += _find(bytes(value), where)
                    elif value is not None:
                        leaks += _find(str(value), where)
    engine.dispose()
    for body in kis_answers.bodies:
        leaks += _find(_kis_answer_text(body), "a KIS simulator answer")
    for body in sink.bodies:
        leaks += _find(body, "a trace")
    for text in errors:
        leaks += _find(text, "an exception")

    # What was searched was really there.
    assert rows > 50 and blobs > 10, (rows, blobs)
    # The real-account session's answers: its token, quotes, the finance pages the data layer
    # stored, and the orders (a second session of the day would need far fewer).
    answered = b"\n".join(kis_answers.bodies)
    assert len(kis_answers.bodies) > 10
    for field in (b'"access_token"', b'"inter2_prpr"', b'"stac_yymm"', b'"ODNO"'):
        assert field in answered, field
    assert sink.bodies and any(b"leak-demo" in b or b"market_analyst" in b for b in sink.bodies)
    assert caplog.records
    assert sorted(set(leaks)) == []


FK100_ECHO = re.compile(r'"ctx_area_fk100"\s*:\s*"[^"]*"')
ACCESS_TOKEN = re.compile(r'"access_token"\s*:\s*"([^"]+)"')


def _kis_answer_text(body: bytes) -> str:
    """An answer as text, with its tokens' claims decoded and the fk100 echo left out.

    KIS echoes the caller's own query, account number first, in `ctx_area_fk100` of the
    paged account inquiries; the simulator keeps that wire format (kis-api.md §4), so that one
    field is not searched. Every other byte of every answer is.
    """
    text = FK100_ECHO.sub('"ctx_area_fk100":""', body.decode("utf-8", errors="replace"))
    for token in ACCESS_TOKEN.findall(text):
        for part in token.split(".")[:2]:
            text += base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)).decode(errors="replace")
    return text


async def _to_thread(fn: Any, *args: Any) -> Any:
    import asyncio

    return await asyncio.to_thread(fn, *args)
