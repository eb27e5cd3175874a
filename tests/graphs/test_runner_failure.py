"""A step that fails stops the session with one clear error; the session continues once fixed."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import pytest

from agents.state import thread_id_for
from core.clock import FixedClock
from db import migrate
from db.models import Run, RunStatus
from graphs.runner import SessionStoppedError
from tests.graphs.failing_broker import FlakyAccountBroker
from tests.graphs.session_harness import OPENED_AT, SESSION_DAY, TICKERS
from trader.settings import Settings
from trader.wiring.runner import open_runner

pytestmark = pytest.mark.anyio


async def test_failed_step_marks_the_run_and_the_session_continues(
    tmp_path: Path, sqlite_url: str
) -> None:
    await asyncio.to_thread(migrate.upgrade, sqlite_url)
    settings = Settings(data_dir=tmp_path, database_url=sqlite_url, watchlist=TICKERS)
    thread = thread_id_for(settings.portfolio, SESSION_DAY)
    async with open_runner(settings, demo=True, clock=FixedClock(OPENED_AT)) as runner:
        flaky = FlakyAccountBroker(runner.ctx.broker)
        runner.ctx = dataclasses.replace(runner.ctx, broker=flaky)
        with pytest.raises(SessionStoppedError) as info:
            await runner.start(thread, {"session_date": SESSION_DAY.isoformat()})
        message = str(info.value)
        assert "unavailable" in message and f"trader session resume {thread}" in message

        def status() -> RunStatus:
            with runner.ctx.sessions() as session:
                return session.query(Run).filter_by(thread_id=thread).one().status

        assert await asyncio.to_thread(status) is RunStatus.FAILED

        flaky.down = False
        view = await runner.proceed(thread)
        assert view.awaiting_approval
        assert await asyncio.to_thread(status) is RunStatus.AWAITING_APPROVAL
