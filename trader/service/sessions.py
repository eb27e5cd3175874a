"""Sessions through the service: trigger today's, read one, answer its approval.

Every path is the CLI's: `trader.wiring.runner.open_runner` opens the venue's context and the
checkpointed graph, and `SessionRunner` starts, continues or resumes the thread. Each call opens
its own runner, so each holds the run's lease under its own name: two approvals of one session
arriving at once (two browsers) execute once, and the other gets `ExecutorBusyError` (409).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from functools import partial
from typing import Any, cast

from agents.executor import FillProgress
from agents.state import (
    SessionInput,
    SessionState,
    read_risk_report,
    read_signals,
    thread_id_for,
)
from core.clock import Clock, kst_today
from core.errors import ConfigurationError
from db.account_marker import guard_database
from graphs.nodes.approval import ApprovalResponse
from graphs.nodes.review import changed_edits
from graphs.runner import ThreadView, not_waiting_message, open_graph, read_thread
from tools.krx.costs import CostModel
from tools.market_data import Bar, KISMarketData
from trader.service.errors import NotFoundError, NotWaitingError
from trader.service.models import Handover, OrderProposal, PendingApproval, SessionView
from trader.service.progress import ProgressHub
from trader.service.tasks import drain
from trader.settings import Settings, TradingMode
from trader.wiring.context import kis_client_for
from trader.wiring.runner import open_runner, resume_as_demo
from trader.wiring.venue import venue_for

REGULAR_PHASE = "regular"
"""The phase of today's session, as `trader session run` names it."""
DEMO_PHASE = "demo"
"""The phase of a session on the built-in market, as `trader demo` names it."""
APPROVER_MAX_LENGTH = 64
HANDOVER_WAIT_S = 30.0
"""How long `hand_over` waits for the orders to be placed before it answers anyway."""

log = logging.getLogger(__name__)


def session_view(view: ThreadView) -> SessionView:
    """The API's view of a thread: signals, proposed orders with their risk notes, approval."""
    state = cast(SessionState, view.values)
    risk = read_risk_report(state)

    def proposal(order: Any) -> OrderProposal:
        notes = [
            d for d in risk.decisions_for(order.ticker) if d.side is None or d.side is order.side
        ]
        return OrderProposal(order=order, risk=notes)

    approval = None
    if view.awaiting_approval and view.request is not None:
        request = view.request
        approval = PendingApproval(
            orders=[proposal(o) for o in request.orders],
            risk_report=request.risk_report,
            expires_at=request.expires_at,
            resume_schema=request.resume_schema,
        )
    notice = view.values.get("notice")
    return SessionView(
        thread_id=view.thread_id,
        status=view.status.value if view.status else None,
        next_nodes=list(view.next_nodes),
        awaiting_approval=view.awaiting_approval,
        finished=view.finished,
        stopped_part_way=view.stopped_part_way,
        signals=read_signals(state),
        proposed=[proposal(o) for o in risk.orders],
        risk_report=risk.lines(),
        buys_halted=risk.buys_halted,
        approval=approval,
        report=view.report,
        notice=str(notice) if notice else None,
    )


def check_answer(settings: Settings, view: ThreadView, response: ApprovalResponse) -> None:
    """The rules `trader approve` applies to an answer before anything is resumed.

    Raises:
        ConfigurationError: nothing decided, an unknown or repeated order, a blank or
            unprintable approver, or an edit the risk rules would change (nobody is asked here).
    """
    assert view.request is not None
    name = response.decided_by.strip()
    if not name or not name.isprintable() or len(name) > APPROVER_MAX_LENGTH:
        raise ConfigurationError("decided_by must name who decides in printable characters")
    if not (response.approve_all or response.decisions):
        raise ConfigurationError("say what to do: approve_all, or a decision per order")
    known = {o.client_order_id for o in view.request.orders}
    seen: set[str] = set()
    for named in response.decisions:
        if named.client_order_id not in known:
            raise ConfigurationError(
                f"order {named.client_order_id!r} is not one of this approval's orders"
            )
        if named.client_order_id in seen:
            raise ConfigurationError(f"order {named.client_order_id!r} is named more than once")
        seen.add(named.client_order_id)
    changed = [
        f"{c.order.client_order_id} ({c.order.ticker}): {c.line.note}"
        for c in changed_edits(
            view.values,
            response,
            limits=settings.risk_limits,
            cost_model=CostModel(commission_rate=settings.commission_rate),
        )
    ]
    if changed:
        raise ConfigurationError(
            "the risk rules change an edit, so nothing was sent: "
            + "; ".join(changed)
            + ". Edit again with an orderable price and quantity."
        )


class SessionService:
    """The session operations of one app: its settings and the clock sessions run on."""

    def __init__(
        self, settings: Settings, clock: Callable[[], Clock], *, demo: bool = False
    ) -> None:
        """Serve `settings`; `clock()` gives each operation its clock (tests pin the day).

        With `demo`, triggered sessions trade on the built-in market (as `trader demo`).
        """
        self.settings = settings
        self.clock = clock
        self.demo = demo
        self.progress = ProgressHub()
        """Each step of the runs this service runs, for `GET /api/sessions/{id}/events`."""
        self._trigger_lock = asyncio.Lock()
        self._background: set[asyncio.Task[ThreadView]] = set()
        """Handed-over approvals still following their fills (`hand_over`)."""

    def guard_real_database(self) -> None:
        """Refuse a real account's service on another database than its marker names."""
        if self.settings.trading_mode is TradingMode.KIS_REAL:
            guard_database(
                self.settings.state_dir,
                venue_for(self.settings, demo=False).account,
                self.settings.resolved_database_url,
                self.clock().now(),
                claim=False,
            )

    async def read(self, thread_id: str) -> ThreadView:
        """The thread's view.

        Raises:
            NotFoundError: no such session.
        """
        async with open_graph(self.settings.resolved_database_url) as graph:
            view = await read_thread(graph, thread_id)
        if not view.exists:
            raise NotFoundError(f"no session with thread id {thread_id}")
        return view

    def today_thread_id(self) -> str:
        """The thread id a trigger runs now (the page subscribes to it before triggering)."""
        phase = DEMO_PHASE if self.demo else REGULAR_PHASE
        return thread_id_for(self.settings.portfolio, kst_today(self.clock()), phase)

    async def trigger(self) -> tuple[ThreadView, bool]:
        """Start today's session of the settings' portfolio (or show it); (view, started).

        As `trader session run`: the thread id comes from the portfolio, the date and the
        phase, so a second trigger shows the session instead of trading twice; one that
        stopped part-way continues. The session stops at its approval.
        """
        clock = self.clock()
        day = kst_today(clock)
        phase = DEMO_PHASE if self.demo else REGULAR_PHASE
        thread_id = thread_id_for(self.settings.portfolio, day, phase)
        session: SessionInput = {
            "portfolio": self.settings.portfolio,
            "session_date": day.isoformat(),
            "phase": phase,
        }
        # One trigger at a time in this process: two clicks start one session.
        async with self._trigger_lock:
            demo = await asyncio.to_thread(
                partial(resume_as_demo, self.settings, thread_id, demo_requested=self.demo)
            )
            async with open_runner(self.settings, demo=demo, clock=clock) as runner:
                view = await runner.view(thread_id)
                if view.exists and not view.stopped_part_way:
                    return view, False
                with self.progress.run(thread_id) as report:
                    if view.exists:
                        view = await runner.proceed(thread_id, report.node, report.fills)
                    else:
                        view = await runner.start(thread_id, session, report.node)
                    report.stopped(view)
                    return view, True

    async def approve(
        self,
        thread_id: str,
        response: ApprovalResponse,
        *,
        on_fills: Callable[[FillProgress], None] | None = None,
    ) -> ThreadView:
        """Answer the thread's approval and run it to its end, as `trader approve` does.

        `on_fills` is told each executor report too (`hand_over` waits for the orders placed).

        Raises:
            NotFoundError: no such session.
            NotWaitingError: the session is not waiting for approval (answered already).
            ExecutorBusyError: another request is executing this session; nothing was sent.
            ConfigurationError: the answer breaks `trader approve`'s rules.
        """
        view = await self.read(thread_id)
        if not view.awaiting_approval or view.request is None:
            raise NotWaitingError(not_waiting_message(view))
        check_answer(self.settings, view, response)
        response = response.model_copy(update={"decided_by": response.decided_by.strip()})
        demo = await asyncio.to_thread(resume_as_demo, self.settings, thread_id)
        async with open_runner(self.settings, demo=demo, clock=self.clock()) as runner:
            try:
                with self.progress.run(thread_id) as report:

                    def fills(progress: FillProgress) -> None:
                        report.fills(progress)
                        if on_fills is not None:
                            on_fills(progress)

                    view = await runner.resume(thread_id, response, report.node, fills)
                    report.stopped(view)
                    return view
            except ConfigurationError as exc:
                # Answered by another request since the check above.
                now = await runner.view(thread_id)
                if not now.awaiting_approval:
                    raise NotWaitingError(not_waiting_message(now)) from exc
                raise

    async def hand_over(
        self, thread_id: str, response: ApprovalResponse, *, wait_s: float = HANDOVER_WAIT_S
    ) -> Handover:
        """Answer the approval, return once its orders are placed; the service follows fills.

        What `trader approve` calls when `SERVICE_FOLLOWS_FILLS` is set, so the terminal is
        free while the fills come in. The answer is checked first (the same errors as
        `approve`); then `approve` runs in the background and this returns when the executor
        has sent every order it will send (`FillProgress.waiting` is 0), when the session ends,
        or after `wait_s` (orders waiting for KIS order reception are still to be sent then).

        Raises:
            NotFoundError, NotWaitingError, ExecutorBusyError, ConfigurationError: as
                `approve`, when the answer is refused before anything is sent.
        """
        view = await self.read(thread_id)
        if not view.awaiting_approval or view.request is None:
            raise NotWaitingError(not_waiting_message(view))
        check_answer(self.settings, view, response)
        placed = asyncio.Event()
        last: list[FillProgress] = []

        def on_fills(progress: FillProgress) -> None:
            last[:] = [progress]
            if progress.waiting == 0:
                placed.set()

        run = asyncio.create_task(self.approve(thread_id, response, on_fills=on_fills))
        self._background.add(run)
        run.add_done_callback(partial(self._background_done, thread_id))
        waiter = asyncio.create_task(placed.wait())
        try:
            await asyncio.wait({run, waiter}, timeout=wait_s, return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiter.cancel()
        progress = last[0] if last else None
        if run.done():
            # A refusal that raced the check above (another approval) is the caller's error.
            return Handover(
                thread_id=thread_id,
                finished=True,
                progress=progress,
                session=session_view(run.result()),
            )
        return Handover(thread_id=thread_id, finished=False, progress=progress, session=None)

    def _background_done(self, thread_id: str, task: asyncio.Task[ThreadView]) -> None:
        self._background.discard(task)
        if task.cancelled():
            log.warning("following %s stopped with the service; it stays resumable", thread_id)
        elif (exc := task.exception()) is not None:
            log.warning("the approval of %s handed to the service failed: %s", thread_id, exc)

    async def drain(self, timeout_s: float) -> None:
        """Wait (a bounded time) for handed-over approvals still following their fills.

        Those still running then are cancelled: their sessions stay resumable (`trader
        session resume`), as after Ctrl-C in the terminal.
        """
        await drain(self._background, timeout_s)

    async def bars(self, ticker: str, days: int) -> list[Bar]:
        """Up to `days` daily bars of `ticker` ending today, oldest first.

        Read through the market a triggered session reads: the built-in market with `demo`
        (or paper without KIS keys), otherwise the configured KIS account's quotes.
        """
        clock = self.clock()
        async with kis_client_for(self.settings, demo=self.demo, clock=clock) as kis:
            market = KISMarketData(kis, news=False)
            return await market.daily_bars(ticker, kst_today(clock), days)
