"""The served trading session with its clock on the harness's session morning (for `langgraph dev`).

Only today's session trades, so the served test needs "today" to be a day the seeded demo
market rates a buy on. `langgraph dev` builds the default context itself (no context is passed,
as in Studio); this module, loaded by the test's copy of `langgraph.json` in place of
`graphs/trading_session.py:graph`, gives that context a clock that starts at the harness's
session morning and runs at wall-clock speed, with a short executor lease. The graph is the
product's, unchanged. The module is loaded by file path in the server process, so it imports
only installed packages.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

from agents.context import SessionContext
from core.clock import KST, Clock
from graphs import deps
from graphs.trading_session import graph
from trader.settings import Settings

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

_open = deps.open_session_context


@asynccontextmanager
async def _on_session_morning(
    settings: Settings, *, demo: bool = False, clock: Clock | None = None
) -> AsyncIterator[SessionContext]:
    async with _open(settings, demo=demo, clock=clock or _FromSessionMorning()) as ctx:
        ctx.executor_lease_ttl = EXECUTOR_LEASE_TTL
        ctx.fill_timeout = FILL_TIMEOUT
        yield ctx


deps.open_session_context = _on_session_morning  # type: ignore[assignment]

__all__ = ["graph"]
