"""Run the trading-session graph the way the CLI does, for whole-graph tests.

The demo venue (the in-process KIS simulator as market and broker), our migrated database, the
foundation's async checkpointer, and a `FixedClock` on a trading morning, so that prices,
signals and the approval expiry are the same on every run.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from langchain_core.runnables import RunnableConfig
from langgraph.pregel import Pregel
from langgraph.types import Command
from sqlalchemy.orm import Session

from agents.context import SessionContext
from agents.state import thread_id_for
from core.clock import KST, FixedClock
from db import migrate
from db.checkpointer import open_async_checkpointer
from db.engine import transaction
from db.models import Base
from graphs.trading_session import build_graph
from trader.settings import Settings
from trader.wiring.context import open_session_context

SESSION_DAY = date(2026, 11, 24)
"""A Tuesday, a KRX trading day."""
OPENED_AT = datetime(2026, 11, 24, 10, 0, tzinfo=KST)
TICKERS = ("000660", "051910", "069500")
"""Three tickers the seeded demo market rates a buy on SESSION_DAY (two stocks and an ETF)."""

T = TypeVar("T")


@dataclass
class Harness:
    """One session thread on one database, with the objects a test inspects."""

    graph: Pregel[Any, Any, Any, Any]
    settings: Settings
    """What `ctx` was opened from."""
    ctx: SessionContext
    clock: FixedClock
    url: str
    thread_id: str

    @property
    def config(self) -> RunnableConfig:
        return {"configurable": {"thread_id": self.thread_id}}

    async def trigger(self, **session_input: Any) -> dict[str, Any]:
        """Start (or trigger again) the session with this input."""
        session_input.setdefault("session_date", SESSION_DAY.isoformat())
        out: dict[str, Any] = await self.graph.ainvoke(session_input, self.config, context=self.ctx)
        return out

    async def resume(self, value: Any) -> dict[str, Any]:
        """Answer the approval, as the CLI does (durable before the executor sends)."""
        out: dict[str, Any] = await self.graph.ainvoke(
            Command(resume=value), self.config, context=self.ctx, durability="sync"
        )
        return out

    async def query(self, read: Callable[[Session], T]) -> T:
        """Run a read on our database off the event loop (the checkpointer shares it)."""

        def run() -> T:
            with transaction(self.ctx.sessions) as session:
                return read(session)

        return await asyncio.to_thread(run)

    async def rows(self, model: type[Base]) -> list[Any]:
        """Every row of a table, detached, in id order."""

        def read(session: Session) -> list[Any]:
            rows = list(session.scalars(sa.select(model).order_by(model.id)))  # type: ignore[attr-defined]
            session.expunge_all()
            return rows

        return await self.query(read)


@asynccontextmanager
async def open_harness(db_url: str, data_dir: Path) -> AsyncIterator[Harness]:
    """Migrate `db_url`, open the demo venue in `data_dir`, and compile the graph."""
    await asyncio.to_thread(migrate.upgrade, db_url)
    settings = Settings(data_dir=data_dir, database_url=db_url, watchlist=TICKERS)
    clock = FixedClock(OPENED_AT)
    async with AsyncExitStack() as stack:
        ctx = await stack.enter_async_context(
            open_session_context(settings, demo=True, clock=clock)
        )
        saver = await stack.enter_async_context(open_async_checkpointer(db_url))
        yield Harness(
            graph=build_graph().compile(checkpointer=saver),
            settings=settings,
            ctx=ctx,
            clock=clock,
            url=db_url,
            thread_id=thread_id_for(settings.portfolio, SESSION_DAY),
        )
