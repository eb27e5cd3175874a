"""The risk gate inside whole sessions, against the simulated KIS server over real HTTP.

The simulator replays hand-written daily bars (flat bars: the price is the same all day), so a
test states the exact prices. The account is built by trading on earlier days through the
session's own broker, then a session runs on SESSION_DAY. Two venues: the KIS account (the
simulator is the broker) and the paper broker (the simulator only quotes).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from langchain_core.runnables import RunnableConfig
from langgraph.types import Command

from agents.context import SessionContext
from core.clock import KST, FixedClock
from core.orders import OrderStatus, OrderType, PlacementStatus, Side
from db import migrate
from db.checkpointer import open_async_checkpointer
from db.models import Order
from graphs.trading_session import build_graph
from tools.broker import OrderRequest
from tools.kis.simulator import SimulatorConfig, SimulatorServer
from trader.settings import load_settings
from trader.wiring.context import open_session_context

pytestmark = pytest.mark.anyio

APP_KEY = "PSrisk" + "k" * 30
APP_SECRET = "risk-secret-" + "s" * 168
ACCOUNT = "87650001"
SAMSUNG = "005930"
SESSION_DAY = date(2026, 11, 24)  # a Tuesday
MONDAY = date(2026, 11, 23)
FRIDAY = date(2026, 11, 20)
VENUES = ("kis-real", "paper")


def _bars(path: Path, closes: dict[date, int]) -> Path:
    """A replay CSV of flat daily bars (open = high = low = close), heavy volume."""
    rows = ["date,open,high,low,close,volume"]
    rows += [f"{d:%Y%m%d},{c},{c},{c},{c},50000000" for d, c in sorted(closes.items())]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def _at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 10, 0, tzinfo=KST)


def _limit(cid: str, side: Side, qty: int, price: int) -> OrderRequest:
    return OrderRequest(
        client_order_id=cid,
        ticker=SAMSUNG,
        side=side,
        qty=qty,
        order_type=OrderType.LIMIT,
        limit_price=price,
    )


@asynccontextmanager
async def _venue(
    venue: str, tmp_path: Path, db_url: str, closes: dict[date, int], cash: int
) -> AsyncIterator[tuple[SessionContext, FixedClock, SimulatorServer]]:
    clock = FixedClock(_at(FRIDAY))
    sim_config = SimulatorConfig(
        mode="real", app_key=APP_KEY, app_secret=APP_SECRET, account_no=ACCOUNT,
        store_path=tmp_path / "sim.db", clock=clock, starting_cash_krw=cash,
        replay_csv=(_bars(tmp_path / f"{SAMSUNG}.csv", closes),), rate_limit_per_s=1e6,
    )  # fmt: skip
    await asyncio.to_thread(migrate.upgrade, db_url)
    with SimulatorServer(sim_config, port=0) as sim:
        settings = load_settings(
            trading_mode=venue, kis_base_url=sim.base_url, kis_app_key=APP_KEY,
            kis_app_secret=APP_SECRET, kis_account_no=ACCOUNT, kis_real_account_confirm=ACCOUNT,
            database_url=db_url,
            data_dir=tmp_path / "data", watchlist=SAMSUNG, starting_cash_krw=cash,
        )  # fmt: skip
        async with open_session_context(settings, clock=clock) as ctx:
            yield ctx, clock, sim


async def _session(
    ctx: SessionContext, db_url: str, thread: str, *, approve: bool = False
) -> dict[str, Any]:
    """Run the session to its approval (and, if `approve`, approve every order and finish)."""
    config: RunnableConfig = {"configurable": {"thread_id": thread}}
    async with open_async_checkpointer(db_url) as saver:
        graph = build_graph().compile(checkpointer=saver)
        out: dict[str, Any] = await graph.ainvoke(
            {"session_date": SESSION_DAY.isoformat()}, config, context=ctx
        )
        if approve:
            assert out.get("__interrupt__"), out.get("risk_report")
            out = await graph.ainvoke(
                Command(resume={"approve_all": True, "decided_by": "test"}),
                config,
                context=ctx,
                durability="sync",
            )
    return out


@pytest.mark.parametrize("venue", VENUES)
async def test_a_loss_after_yesterdays_sale_halts_buys(
    venue: str, tmp_path: Path, sqlite_url: str
) -> None:
    # Friday: buy 95 at 100,000 (9.5 M of 10 M). Monday: sell 20 at 100,000; the 2 M settle on
    # Wednesday. Tuesday: 5 % lower. 75 shares lose 375,000 of about 10 M: 3.75 %, beyond the
    # 3 % daily-loss halt. On the deposit the start of day was about 8 M, and the day read as
    # a gain of about 1.6 M.
    closes = {FRIDAY: 100_000, MONDAY: 100_000, SESSION_DAY: 95_000}
    async with _venue(venue, tmp_path, sqlite_url, closes, cash=10_000_000) as (ctx, clock, _):
        assert (await ctx.broker.place(_limit("fri-buy", Side.BUY, 95, 100_000))).status is (
            PlacementStatus.ACCEPTED
        )
        clock.set(_at(MONDAY))
        assert (await ctx.broker.place(_limit("mon-sell", Side.SELL, 20, 100_000))).status is (
            PlacementStatus.ACCEPTED
        )
        clock.set(_at(SESSION_DAY))
        account = await ctx.broker.account_snapshot()
        assert account.cash.deposit < account.cash.settled_d2  # Monday's proceeds are unsettled
        assert [(p.ticker, p.qty) for p in account.positions] == [(SAMSUNG, 75)]
        out = await _session(ctx, sqlite_url, f"halt-{venue}")
    halts = [d for d in out["risk_report"]["decisions"] if d["kind"] == "halt"]
    assert [d["code"] for d in halts] == ["daily_loss_halt"], out["risk_report"]
    assert not any(o["side"] == "buy" for o in out["risk_report"]["orders"])


@pytest.mark.parametrize("venue", VENUES)
async def test_a_stop_loss_sells_what_an_open_sell_order_leaves_and_the_broker_takes_it(
    venue: str, tmp_path: Path, sqlite_url: str
) -> None:
    # Friday: buy 100 at 100,000. Tuesday 09:30: a sell of 30 rests at 120,000 (its cancel
    # failed, say). At 10:00 the price is 90,000, 10 % below cost: the stop-loss triggers and
    # may sell the 70 shares the open order leaves, not the 100 held.
    closes = {FRIDAY: 100_000, MONDAY: 100_000, SESSION_DAY: 90_000}
    async with _venue(venue, tmp_path, sqlite_url, closes, cash=20_000_000) as (ctx, clock, _):
        assert (await ctx.broker.place(_limit("fri-buy", Side.BUY, 100, 100_000))).status is (
            PlacementStatus.ACCEPTED
        )
        clock.set(_at(SESSION_DAY).replace(minute=30, hour=9))
        assert (await ctx.broker.place(_limit("open-sell", Side.SELL, 30, 120_000))).status is (
            PlacementStatus.ACCEPTED
        )
        clock.set(_at(SESSION_DAY))
        account = await ctx.broker.account_snapshot()
        assert [(p.qty, p.sellable_qty) for p in account.positions] == [(100, 70)]
        out = await _session(ctx, sqlite_url, f"stop-{venue}", approve=True)
        after = await ctx.broker.account_snapshot()
        rows = await asyncio.to_thread(lambda: ctx.sessions().query(Order).all())
    (stop,) = out["risk_report"]["orders"]
    assert (stop["origin"], stop["side"], stop["qty"]) == ("stop_loss", "sell", 70)
    cut = [d for d in out["risk_report"]["decisions"] if d["code"] == "sellable_qty"]
    assert [(d["kind"], d["before"], d["after"]) for d in cut] == [("clamp", 100, 70)]
    assert any(
        "locked by open sell orders" in line for line in out["approval_request"]["risk_report"]
    )
    (row,) = rows
    assert (row.client_order_id, row.status) == (stop["client_order_id"], OrderStatus.FILLED)
    assert [(p.qty, p.sellable_qty) for p in after.positions] == [(30, 0)]
