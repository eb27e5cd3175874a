"""The served trading session with its clock on the harness's session morning (for `langgraph dev`).

Only today's session trades, so the served test needs "today" to be a day the seeded demo
market rates a buy on. `langgraph dev` runs the graph without a context (as for Studio), so
the served graph's nodes take the default context `trader.studio` opens from the settings; this
module, loaded by the test's copy of `langgraph.json` in place of `trader/studio.py:graph`,
serves the same graph (`trader.studio.serve`) with a default context whose clock starts at the
harness's session morning and runs at wall-clock speed, with a short executor lease. The module
is loaded by file path in the server process, so it imports only installed packages.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

from agents.context import SessionContext
from core.clock import KST
from trader.settings import Settings
from trader.studio import ServedContext, serve
from trader.wiring.context import open_session_context, serves_demo

SESSION_MORNING = datetime(2026, 11, 24, 10, 0, tzinfo=KST)
"""`tests.graphs.session_harness.OPENED_AT` (not imported: tests is not an installed package)."""


class _FromSessionMorning:
    def __init__(self) -> None:
        self._origin = time.monotonic()

    def now(self) -> datetime:
        elapsed = timedelta(seconds=time.monotonic() - self._origin)
        return SESSION_MORNING.astimezone(UTC) + elapsed


EXECUTOR_LEASE_TTL = timedelta(seconds=5)
"""Short, so that a test continuing a thread after killing the server waits seconds, not the
minute a killed executor's lease holds by default."""

FILL_TIMEOUT = timedelta(seconds=8)
"""Short, so that an order in doubt is handed to a person within seconds."""


@asynccontextmanager
async def _on_session_morning(settings: Settings) -> AsyncIterator[SessionContext]:
    demo = serves_demo(settings)
    async with open_session_context(settings, demo=demo, clock=_FromSessionMorning()) as ctx:
        ctx.executor_lease_ttl = EXECUTOR_LEASE_TTL
        ctx.fill_timeout = FILL_TIMEOUT
        yield ctx


_served = ServedContext(_on_session_morning)
graph = serve(_served, observer=_served)
