"""A session runner opened from settings: the venue's context and the checkpointed graph."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from agents.context import DEMO_VENUE
from agents.venue import VenueMismatchError, mismatch, recorded_venue
from core.clock import Clock
from db.engine import create_db_engine, session_factory
from graphs.runner import SessionRunner, open_graph
from trader.settings import Settings
from trader.wiring.context import open_session_context
from trader.wiring.notify import SessionNotifications, open_dispatcher
from trader.wiring.venue import venue_for


@asynccontextmanager
async def open_runner(
    settings: Settings, *, demo: bool = False, clock: Clock | None = None
) -> AsyncIterator[SessionRunner]:
    """Open the runtime context of a venue and the checkpointed graph; close both on exit.

    The database must be migrated first (`db.migrate.upgrade`). The notifications the
    settings configure are wired in (`trader.wiring.notify`); on exit, queued ones are sent.
    """
    async with (
        open_dispatcher(settings) as dispatcher,
        open_session_context(settings, demo=demo, clock=clock) as ctx,
        open_graph(settings.resolved_database_url) as graph,
    ):
        # Notifications (off by default): a pending approval, fills and halts from the
        # runner's runs, an order handed to a person from the executor.
        notifications = SessionNotifications(dispatcher, settings)
        ctx.on_needs_review = notifications.needs_review
        yield SessionRunner(graph, ctx, observer=notifications)


def resume_as_demo(settings: Settings, thread_id: str, *, demo_requested: bool = False) -> bool:
    """Decide whether a thread continues on the demo market, from the venue it started on.

    Raises:
        VenueMismatchError: the thread started on another venue, server or account than the
            settings select (continuing it would send its orders somewhere else).
    """
    engine = create_db_engine(settings.resolved_database_url)
    try:
        recorded = recorded_venue(session_factory(engine), thread_id)
    finally:
        engine.dispose()
    if recorded is None:
        return demo_requested
    demo = recorded.name == DEMO_VENUE
    problem = mismatch(thread_id, recorded, venue_for(settings, demo=demo).identity)
    if problem:
        raise VenueMismatchError(problem)
    return demo
