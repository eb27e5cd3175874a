"""Run trading sessions from code: start, continue or resume a thread, and read where it stands.

The CLI (`trader session ...`, `trader approve`, `trader demo`) is a thin layer over this module.
A thread is one session (`agents.state.thread_id_for`); its checkpoints live in our database
through `db.checkpointer`, so any process can pick it up. Starting a thread that exists never
starts a second session: the caller gets the thread's state back (awaiting approval, finished,
or stopped part-way, which `proceed` continues).

Every run passes the runner's runtime context (the shell opens it from settings:
`trader.wiring.runner.open_runner`) because the context is not checkpointed; a resumed thread
must use the venue, server and account it started on, which the runs table records
(`agents.venue`): `trader.wiring.runner.resume_as_demo` and every run of `SessionRunner` refuse
another.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import partial
from typing import Any, Protocol

import sqlalchemy as sa
from langchain_core.runnables import RunnableConfig
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Command

from agents.context import SessionContext
from agents.executor import FILLS_KEY, ExecutorLease, FillProgress
from agents.state import ApprovalRequest, SessionInput, SessionState, SessionStatus
from agents.venue import check_venue
from core.errors import BusyError, ConfigurationError, OperationalError, TraderError
from db.checkpointer import open_async_checkpointer
from db.engine import create_db_engine, session_factory
from db.models import Order, Run, RunStatus
from graphs.nodes.approval import ApprovalResponse
from graphs.nodes.report import SessionReport
from graphs.trading_session import build_graph
from tools.krx.calendar import check_in_calendar

ProgressFn = Callable[[str, dict[str, Any]], None]
"""Called with (node name, the node's state update) as each node finishes."""
FillsFn = Callable[[FillProgress], None]
"""Called with the executor's progress (orders placed, filled) after each send and each poll."""

SessionGraph = CompiledStateGraph[SessionState, SessionContext, SessionInput, SessionState]


log = logging.getLogger(__name__)


def _ignore(node: str, update: dict[str, Any]) -> None:
    """The default progress callback: say nothing."""


class RunObserver(Protocol):
    """Told what every run of a runner does, whoever called it (the shell's notifications).

    Both calls must return quickly and should not raise; the runner logs and ignores a failure.
    """

    def node_finished(self, thread_id: str, node: str, update: dict[str, Any]) -> None:
        """A node of `thread_id` finished with this state update."""

    def run_stopped(self, view: ThreadView) -> None:
        """A run ended without an error: at the approval, or at the graph's end."""


@dataclass(frozen=True)
class ThreadView:
    """Where one thread stands, read from its latest checkpoint."""

    thread_id: str
    exists: bool
    next_nodes: tuple[str, ...] = ()
    """Nodes that run next; empty when the thread finished (or never started)."""
    status: SessionStatus | None = None
    """The state's `status`; None before `load_context` set one."""
    request: ApprovalRequest | None = None
    """The pending approval request, when the thread waits at the approval interrupt."""
    report: SessionReport | None = None
    """The session report, once the report node ran."""
    values: dict[str, Any] = field(default_factory=dict)

    @property
    def awaiting_approval(self) -> bool:
        """True when the thread is paused at the approval interrupt."""
        return self.request is not None and "approval" in self.next_nodes

    @property
    def finished(self) -> bool:
        """True when the graph ran to its end."""
        return self.exists and not self.next_nodes

    @property
    def stopped_part_way(self) -> bool:
        """True when the thread stopped before its end for another reason than approval.

        A crash or a kill between nodes leaves such a thread; `SessionRunner.proceed`
        continues it from its last checkpoint.
        """
        return self.exists and bool(self.next_nodes) and not self.awaiting_approval


def _config(thread_id: str) -> RunnableConfig:
    return {"configurable": {"thread_id": thread_id}}


async def read_thread(graph: SessionGraph, thread_id: str) -> ThreadView:
    """Return where `thread_id` stands (`exists=False` when it has no checkpoint)."""
    snapshot = await graph.aget_state(_config(thread_id))
    values: dict[str, Any] = dict(snapshot.values or {})
    if not values and not snapshot.next:
        return ThreadView(thread_id=thread_id, exists=False)
    next_nodes = tuple(snapshot.next)
    request = None
    if "approval" in next_nodes and values.get("approval_request"):
        request = ApprovalRequest.model_validate(values["approval_request"])
    report = SessionReport.model_validate(values["report"]) if values.get("report") else None
    return ThreadView(
        thread_id=thread_id,
        exists=True,
        next_nodes=next_nodes,
        status=SessionStatus(values["status"]) if values.get("status") else None,
        request=request,
        report=report,
        values=values,
    )


@asynccontextmanager
async def open_graph(database_url: str) -> AsyncIterator[SessionGraph]:
    """Yield the session graph compiled with a checkpointer on the database at `database_url`."""
    async with open_async_checkpointer(database_url) as saver:
        yield build_graph().compile(checkpointer=saver, name="trading_session")


class SessionRunner:
    """Runs one venue's sessions: a compiled, checkpointed graph and its runtime context."""

    def __init__(
        self, graph: SessionGraph, ctx: SessionContext, observer: RunObserver | None = None
    ) -> None:
        """Use `trader.wiring.runner.open_runner` rather than building one by hand."""
        self.graph = graph
        self.ctx = ctx
        self.observer = observer

    async def view(self, thread_id: str) -> ThreadView:
        """Return where `thread_id` stands."""
        return await read_thread(self.graph, thread_id)

    async def start(
        self, thread_id: str, session: SessionInput, progress: ProgressFn = _ignore
    ) -> ThreadView:
        """Run a new session on `thread_id` up to the approval (or to its end).

        Raises:
            ConfigurationError: the thread exists already (read it with `view` first), or
                the session date is outside the KRX calendar.
        """
        if (await self.view(thread_id)).exists:
            raise ConfigurationError(f"session {thread_id} exists already")
        if session.get("session_date"):
            # Refused before the thread exists: a date the calendar does not cover would
            # leave a thread that fails on every resume.
            try:
                day = date.fromisoformat(session["session_date"])
            except ValueError:
                raise ConfigurationError(
                    f"session_date must be YYYY-MM-DD, got {session['session_date']!r}"
                ) from None
            check_in_calendar(day)
        return await self._stream(thread_id, dict(session), progress, durability="async")

    async def proceed(
        self, thread_id: str, progress: ProgressFn = _ignore, fills: FillsFn | None = None
    ) -> ThreadView:
        """Continue a thread that stopped part-way (a crash) from its last checkpoint.

        The executor reconciles with the broker before it sends anything and never sends an
        order that may have reached the broker, so continuing a thread that died while trading
        does not send an order twice. A process killed while executing holds the session's
        executor lease until it lapses (`SessionContext.executor_lease_ttl`); until then this
        raises `ExecutorBusyError`. `fills` is told the executor's progress as it goes.
        """
        return await self._stream(thread_id, None, progress, durability="sync", fills=fills)

    async def resume(
        self,
        thread_id: str,
        response: ApprovalResponse,
        progress: ProgressFn = _ignore,
        fills: FillsFn | None = None,
    ) -> ThreadView:
        """Answer the approval interrupt and run the thread to its end (checkpoints in sync).

        `fills` is told the executor's progress (orders placed, filled) after each order sent
        and each poll, for a live progress line. Interrupted while following (Ctrl-C), the
        thread stops before the executor's end and `proceed` continues it: the executor
        reconciles with the broker and sends nothing twice.

        Two processes may both find the thread waiting and resume it at once; the executor's
        lease on the run lets one of them execute, and the other gets `ExecutorBusyError`.

        Raises:
            ConfigurationError: the thread is not waiting for approval.
            ExecutorBusyError: another process is executing this session; nothing was sent.
        """
        view = await self.view(thread_id)
        if not view.awaiting_approval:
            raise ConfigurationError(not_waiting_message(view))
        command: Command[Any] = Command(resume=response.model_dump(mode="json"))
        return await self._stream(thread_id, command, progress, durability="sync", fills=fills)

    async def check_venue(self, thread_id: str) -> None:
        """Refuse a thread recorded with another venue, server or account than this runner's.

        Raises:
            VenueMismatchError: continuing it would send its orders somewhere else.
        """
        if self.ctx.venue_server is not None:
            await asyncio.to_thread(
                check_venue, self.ctx.sessions, thread_id, self.ctx.venue_identity
            )

    async def _stream(
        self,
        thread_id: str,
        payload: Any,
        progress: ProgressFn,
        *,
        durability: Any,
        fills: FillsFn | None = None,
    ) -> ThreadView:
        # Before anything runs: a refusal here leaves the run's status as it is.
        await self.check_venue(thread_id)
        try:
            async with self._thread_lease(thread_id) as lease:
                async for mode, chunk in self.graph.astream(
                    payload,
                    _config(thread_id),
                    context=self.ctx,
                    stream_mode=["updates", "custom"] if fills else ["updates"],
                    durability=durability,
                ):
                    if lease is not None:
                        await lease.keep()
                    if not isinstance(chunk, dict):
                        continue
                    if mode == "custom":
                        if fills is not None and FILLS_KEY in chunk:
                            fills(FillProgress.model_validate(chunk[FILLS_KEY]))
                        continue
                    for node, update in chunk.items():
                        if node.startswith("__"):
                            continue  # the interrupt marker; the view below reports it
                        data = update if isinstance(update, dict) else {}
                        progress(node, data)
                        if self.observer is not None:
                            self._observe(
                                "node_finished",
                                partial(self.observer.node_finished, thread_id, node, data),
                            )
        except BusyError:
            # Another process is executing this session: it has not failed, and this process
            # changed nothing. Say so in one line; the run row is the other process's.
            raise
        except Exception as exc:
            # The checkpoint before the failing step is kept: the session can continue once
            # the cause is fixed. The runs table says it failed meanwhile.
            await self.ctx.recorder.set_run_status(thread_id, RunStatus.FAILED)
            if isinstance(exc, TraderError):
                raise SessionStoppedError(thread_id, exc) from exc
            raise
        view = await self.view(thread_id)
        if self.observer is not None:
            self._observe("run_stopped", partial(self.observer.run_stopped, view))
        return view

    @staticmethod
    def _observe(what: str, call: Callable[[], None]) -> None:
        try:
            call()
        except Exception:
            log.exception("the run observer failed (%s)", what)

    @asynccontextmanager
    async def _thread_lease(self, thread_id: str) -> AsyncIterator[ExecutorLease | None]:
        """Hold the run's lease while this process continues the thread (None: no run yet).

        Two processes continuing one thread at once (two resumes after a crash, say) would
        otherwise each analyse and propose on it, and approve orders the other never sends.
        The executor inside takes the same lease again under the same holder name.
        """
        run_id = await self.ctx.recorder.run_id(thread_id)
        if run_id is None:
            yield None
            return
        async with ExecutorLease(self.ctx, run_id, thread_id, self.ctx.lease_holder) as lease:
            yield lease


class SessionStoppedError(OperationalError):
    """A step of the session failed; the session can continue from its last checkpoint."""

    def __init__(self, thread_id: str, cause: TraderError) -> None:
        """Name the thread, the cause and the command that continues it."""
        super().__init__(
            f"session {thread_id} stopped: {cause}; once fixed, continue it with "
            f"`trader session resume {thread_id}`"
        )
        self.thread_id = thread_id


def not_waiting_message(view: ThreadView) -> str:
    """Explain why a thread cannot take an approval."""
    if not view.exists:
        return f"no session with thread id {view.thread_id}"
    if view.finished:
        return f"session {view.thread_id} is finished ({view.status}); nothing to approve"
    nodes = ", ".join(view.next_nodes)
    return f"session {view.thread_id} is not waiting for approval (next: {nodes})"


# --- the runs table ----------------------------------------------------------------------------


@dataclass(frozen=True)
class RunRow:
    """One line of the recent-runs listing."""

    thread_id: str
    session_date: date
    venue: str | None
    status: str
    orders: int
    tokens: int
    cost_usd: Decimal
    started_at: datetime


def thread_venue(database_url: str, thread_id: str) -> str | None:
    """Return the venue a thread's run was recorded with (None: no run row, or an old one)."""
    engine = create_db_engine(database_url)
    try:
        with session_factory(engine)() as session:
            return session.scalar(sa.select(Run.venue).where(Run.thread_id == thread_id))
    finally:
        engine.dispose()


def recent_runs(database_url: str, limit: int = 20) -> list[RunRow]:
    """Return the most recent runs, newest first, with their order counts."""
    engine = create_db_engine(database_url)
    orders = (
        sa.select(Order.run_id, sa.func.count(Order.id).label("n"))
        .group_by(Order.run_id)
        .subquery()
    )
    stmt = (
        sa.select(Run, sa.func.coalesce(orders.c.n, 0))
        .outerjoin(orders, orders.c.run_id == Run.id)
        .order_by(Run.started_at.desc(), Run.id.desc())
        .limit(limit)
    )
    try:
        with session_factory(engine)() as session:
            return [
                RunRow(
                    thread_id=run.thread_id,
                    session_date=run.session_date,
                    venue=run.venue,
                    status=run.status.value,
                    orders=int(count),
                    tokens=run.tokens_in + run.tokens_out,
                    cost_usd=run.cost_usd,
                    started_at=run.started_at,
                )
                for run, count in session.execute(stmt).all()
            ]
    finally:
        engine.dispose()
