"""Resuming a session through the runner: one executor per session, nothing sent on a later day.

The demo venue (the KIS simulator in-process) on both engines.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from agents.state import thread_id_for
from core.clock import FixedClock
from core.errors import ExecutorBusyError
from core.orders import OrderStatus
from db import migrate
from db.engine import transaction
from db.models import Order, Run, RunStatus
from db.repositories import RunRepository
from graphs.nodes.approval import ApprovalResponse
from tests.graphs.session_harness import OPENED_AT, SESSION_DAY, TICKERS, open_harness
from trader.settings import Settings
from trader.wiring.runner import open_runner

pytestmark = pytest.mark.anyio


async def test_a_resume_while_another_process_executes_sends_nothing_and_fails_nothing(
    db_url: str, tmp_path: Path
) -> None:
    await asyncio.to_thread(migrate.upgrade, db_url)
    settings = Settings(data_dir=tmp_path / "data", database_url=db_url, watchlist=TICKERS)
    thread = thread_id_for(settings.portfolio, SESSION_DAY)
    clock = FixedClock(OPENED_AT)
    async with open_runner(settings, demo=True, clock=clock) as runner:
        runner.ctx.fill_timeout = timedelta(seconds=1)  # the clock stands still: do not wait
        runner.ctx.fill_poll_interval_s = 0.5
        view = await runner.start(thread, {"session_date": SESSION_DAY.isoformat()})
        assert view.awaiting_approval

        def run_row() -> Run:
            with runner.ctx.sessions() as session:
                return session.scalars(sa.select(Run).where(Run.thread_id == thread)).one()

        def lease_elsewhere() -> None:
            run = run_row()
            with transaction(runner.ctx.sessions) as session:
                now = clock.now()
                until = now + timedelta(seconds=60)
                taken = RunRepository(session).take_executor_lease(
                    run.id, "studio-host:77:beefcafe", now=now, until=until
                )
                assert taken

        def orders() -> list[Order]:
            with runner.ctx.sessions() as session:
                return list(session.scalars(sa.select(Order)))

        await asyncio.to_thread(lease_elsewhere)  # another process is executing the session
        with pytest.raises(ExecutorBusyError, match="another process is executing"):
            await runner.resume(thread, ApprovalResponse(approve_all=True, decided_by="cli"))
        assert (await asyncio.to_thread(run_row)).status is not RunStatus.FAILED
        # Refused before anything ran: the answer was not taken, the session still waits.
        assert {o.status for o in await asyncio.to_thread(orders)} == {OrderStatus.PROPOSED}
        assert (await runner.view(thread)).awaiting_approval
        assert await runner.ctx.broker.executions(SESSION_DAY) == []

        clock.advance(timedelta(seconds=61))  # that process died; its lease lapsed
        view = await runner.resume(thread, ApprovalResponse(approve_all=True, decided_by="cli"))
        assert view.finished and view.status == "done"
        rows = await asyncio.to_thread(orders)
        assert {o.status for o in rows} <= {OrderStatus.FILLED, OrderStatus.CANCELLED}
        at_broker = [
            e
            for e in await runner.ctx.broker.executions(SESSION_DAY)
            if not e.original_broker_order_id
        ]
        assert sorted(e.broker_order_id for e in at_broker) == sorted(
            o.broker_order_no or "" for o in rows
        )
        run = await asyncio.to_thread(run_row)
        assert (run.executor_holder, run.executor_lease_until) == (None, None)


async def test_a_session_resumed_on_a_later_day_sends_nothing(db_url: str, tmp_path: Path) -> None:
    async with open_harness(db_url, tmp_path / "data") as h:
        h.ctx.fill_timeout = timedelta(seconds=1)
        h.ctx.approval_ttl = timedelta(days=3)  # the approval itself has not expired
        out = await h.trigger()
        assert out["status"] == "awaiting_approval"
        h.clock.advance(timedelta(days=1))  # resumed the next morning

        out = await h.resume({"approve_all": True, "decided_by": "late"})

        # The answer came on another day than the session's: review expires every order
        # before the executor is reached (the executor's own guard for a crash between
        # approval and execution is tested in tests/agents/test_executor_safety.py).
        assert "executions" not in out
        assert {line["decision"] for line in out["review"]} == {"expired"}
        assert all(SESSION_DAY.isoformat() in line["note"] for line in out["review"])
        assert await h.ctx.broker.executions(SESSION_DAY) == []
        assert await h.ctx.broker.executions(SESSION_DAY + timedelta(days=1)) == []
        assert {o.status for o in await h.rows(Order)} == {OrderStatus.EXPIRED}
