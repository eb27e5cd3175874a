"""The trading session as LangGraph Studio and `langgraph dev` serve it (`langgraph.json`).

- `graph`: the session graph, compiled without a checkpointer (the server brings one). Runs from
  Studio or the SDK can only carry JSON, never the clients a `SessionContext` holds, so the
  served graph takes no context from its callers: its nodes take the default context, opened
  here from the settings by `ServedContext` on the first run and kept for the server's life
  (one demo simulator, KIS client and database engine for all its runs, as a CLI process has).
  Every node still checks that its thread belongs to this context's venue, server and account
  (`agents.context.session_context`), so Studio cannot resume a thread proposed elsewhere.
  The same `ServedContext` observes the served graph's nodes and sends the notifications the
  settings configure (`trader.wiring.notify.ServedNotifications`): a run started from Studio or
  by a LangGraph Server cron announces its pending approval, halts and fills as a CLI run does.
- `checkpointer`: our database (`DATABASE_URL`), so served threads are the CLI's threads.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver

from agents.context import SessionContext
from db.checkpointer import open_async_checkpointer
from graphs.runner import SessionGraph
from graphs.trading_session import ContextProvider, NodeObserver, build_graph
from trader.settings import Settings, load_settings
from trader.wiring.context import open_session_context, serves_demo
from trader.wiring.notify import ServedNotifications, open_dispatcher

GRAPH_NAME = "trading_session"

OpenContext = Callable[[Settings], AbstractAsyncContextManager[SessionContext]]
"""Opens the served graph's context from the settings (and closes it on exit)."""


def open_default_context(settings: Settings) -> AbstractAsyncContextManager[SessionContext]:
    """The context of a run that brings none: the configured venue, or the demo market.

    Paper trading without KIS keys serves the built-in demo market.
    """
    return open_session_context(settings, demo=serves_demo(settings))


class ServedContext:
    """The served graph's default context and notifications: opened on first use, then kept.

    Call it to get the context (it is a `ContextProvider`); it is also the served graph's node
    observer (`graphs.trading_session.NodeObserver`), sending through the notifications opened
    with the context. The settings are read when it opens, in a worker thread (reading `.env`
    must not block the server's event loop).
    """

    def __init__(self, open_context: OpenContext = open_default_context) -> None:
        """Open contexts with `open_context` (tests give theirs a clock of their own)."""
        self._open = open_context
        self._stack = AsyncExitStack()
        self._ctx: SessionContext | None = None
        self._notifications: ServedNotifications | None = None
        self._lock = asyncio.Lock()

    async def __call__(self) -> SessionContext:
        """Return the context, opening it (and the notifications) on the first call."""
        async with self._lock:
            if self._ctx is None:
                settings = await asyncio.to_thread(load_settings)
                async with AsyncExitStack() as opening:
                    # Entered first, left last: messages queued while the context closes go out.
                    dispatcher = await opening.enter_async_context(open_dispatcher(settings))
                    notifications = ServedNotifications(dispatcher, settings)
                    ctx = await opening.enter_async_context(self._open(settings))
                    ctx.on_needs_review = notifications.needs_review
                    # Opened: kept until `aclose` (a failure above closes what was opened).
                    self._stack = opening.pop_all()
                self._ctx, self._notifications = ctx, notifications
            return self._ctx

    def node_finished(self, thread_id: str, node: str, update: dict[str, Any]) -> None:
        """Tell the notifications a node's update (nothing before the context opened)."""
        if self._notifications is not None:
            self._notifications.node_finished(thread_id, node, update)

    async def aclose(self) -> None:
        """Close the context's clients and send queued messages (a later call opens anew)."""
        async with self._lock:
            self._ctx, self._notifications = None, None
            await self._stack.aclose()
            self._stack = AsyncExitStack()


def serve(default_context: ContextProvider, observer: NodeObserver | None = None) -> SessionGraph:
    """The session graph as a server runs it: its nodes on `default_context`'s context.

    A server hands the graph each run's JSON `context` (`{}` from Studio); the served graph
    therefore declares no context schema, or LangGraph would try to build a `SessionContext`
    out of that JSON (and Studio would ask for a form it cannot fill). `observer` is told each
    node's update (a `ServedContext`: the notifications).
    """
    builder = build_graph(default_context=default_context, observer=observer)
    compiled = builder.compile(name=GRAPH_NAME)
    return compiled.copy(update={"context_schema": None})


_served = ServedContext()
graph = serve(_served, observer=_served)


@asynccontextmanager
async def checkpointer() -> AsyncIterator[BaseCheckpointSaver[Any]]:
    """The checkpointer `langgraph dev` uses (named in `langgraph.json`): our database."""
    settings = await asyncio.to_thread(load_settings)
    async with open_async_checkpointer(settings.resolved_database_url) as saver:
        yield saver
