"""A whole session on the live code path: settings alone point the KIS client at the simulator.

`TRADING_MODE=kis-real` with `KIS_BASE_URL` at a simulator served over real HTTP on loopback:
the same client, token cache, rate limiter, httpx connection pool and broker a real account
uses. (The other whole-graph tests use the in-process ASGI transport.)
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from langgraph.types import Command

from core.clock import FixedClock
from core.orders import OrderStatus
from db import migrate
from db.checkpointer import open_async_checkpointer
from db.models import Order
from graphs.trading_session import build_graph
from tests.graphs.session_harness import OPENED_AT, SESSION_DAY, TICKERS
from tools.kis.simulator import SimulatorConfig, SimulatorServer
from trader.settings import load_settings
from trader.wiring.context import open_session_context

pytestmark = pytest.mark.anyio

APP_KEY = "PShttp" + "k" * 30
APP_SECRET = "http-secret-" + "s" * 168
ACCOUNT = "87654321"


async def test_session_over_real_http_with_settings_alone(tmp_path: Path, sqlite_url: str) -> None:
    clock = FixedClock(OPENED_AT)
    sim_config = SimulatorConfig(
        mode="real", app_key=APP_KEY, app_secret=APP_SECRET, account_no=ACCOUNT,
        store_path=tmp_path / "sim.db", clock=clock, always_open=True,
    )  # fmt: skip
    await asyncio.to_thread(migrate.upgrade, sqlite_url)
    with SimulatorServer(sim_config, port=0) as sim:
        settings = load_settings(
            trading_mode="kis-real", kis_base_url=sim.base_url, kis_app_key=APP_KEY,
            kis_app_secret=APP_SECRET, kis_account_no=ACCOUNT, kis_real_account_confirm=ACCOUNT,
            database_url=sqlite_url, state_dir=tmp_path / "state",
            data_dir=tmp_path / "data", watchlist=",".join(TICKERS),
        )  # fmt: skip
        config = {"configurable": {"thread_id": "http-session"}}
        async with (
            open_session_context(settings, clock=clock) as ctx,
            open_async_checkpointer(sqlite_url) as saver,
        ):
            assert ctx.venue == "kis-real"
            graph = build_graph().compile(checkpointer=saver)
            paused = await graph.ainvoke(
                {"session_date": SESSION_DAY.isoformat()}, config, context=ctx
            )
            orders = paused["__interrupt__"][0].value["orders"]
            assert orders, paused.get("risk_report")
            done = await graph.ainvoke(
                Command(resume={"approve_all": True, "decided_by": "test"}),
                config,
                context=ctx,
                durability="sync",
            )
            rows = await asyncio.to_thread(
                lambda: ctx.sessions().query(Order).order_by(Order.id).all()
            )
        at_broker = sim.broker_orders()
    assert done["status"] == "done"
    assert {o["client_order_id"] for o in orders} == {r.client_order_id for r in rows}
    assert all(r.status is OrderStatus.FILLED and r.broker_order_no for r in rows)
    assert sorted(r.broker_order_no or "" for r in rows) == sorted(o.odno for o in at_broker)
