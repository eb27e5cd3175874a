"""The runtime context of a session: every dependency a node needs, none of it in state.

The session graph declares it as its context schema, and LangGraph passes it to every node as
`runtime.context` (`graph.invoke(..., context=ctx)`). It is not checkpointed, so every resume
must pass it again. The shell builds it from the settings
(`trader.wiring.context.open_session_context`) for the CLI and for the graph it serves to
Studio (`trader.studio`); nothing below the shell reads settings.
Nodes call `session_context(runtime)`, which checks the thread's venue before they act.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

from langchain_core.language_models import BaseChatModel
from langgraph.runtime import Runtime
from sqlalchemy.orm import Session, sessionmaker

from agents.llm import UsageMeter
from agents.recorder import NullRecorder, Recorder
from agents.risk.limits import RiskLimits
from agents.venue import VenueIdentity, check_venue
from agents.venue_hours import KrxHours, VenueHours
from core.clock import Clock, SystemClock
from core.errors import ConfigurationError
from tools.broker import Broker
from tools.company_figures import CompanyFigures
from tools.econ.source import EconSource
from tools.kis.client import KISClient
from tools.krx.calendar import is_trading_day
from tools.krx.costs import CostModel
from tools.market_data import MarketData

DEMO_VENUE = "demo"
"""The venue of the built-in market: the in-process KIS simulator, always open."""

log = logging.getLogger("graphs.needs_review")


@dataclass(frozen=True)
class NeedsReview:
    """An order the executor handed to a person: what to look at, and why."""

    thread_id: str
    client_order_id: str
    ticker: str
    reason: str
    """The row's `reason`: what could not be settled and what to check at the broker."""


NeedsReviewHook = Callable[[NeedsReview], None]
"""Called once per order the executor marks `needs_review` (after the row is written).

It must not raise and should return quickly (hand slow work, such as a chat message, to a
queue); the executor logs and ignores a hook that fails."""


def log_needs_review(item: NeedsReview) -> None:
    """The default hook: a warning in the log (chat notifications plug in here later)."""
    log.warning(
        "order %s (%s) of session %s needs review: %s",
        item.client_order_id,
        item.ticker,
        item.thread_id,
        item.reason,
    )


def new_holder() -> str:
    """A lease holder name unique to one process's context: host, process id and a nonce."""
    host = socket.gethostname()[:40] or "host"
    return f"{host}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass(kw_only=True)
class SessionContext:
    """Per-run dependencies of the trading-session graph."""

    market: MarketData
    """Quotes and daily bars (KIS, the simulator, or the backtester's point-in-time view)."""
    broker: Broker
    """The only thing the executor places orders with."""
    sessions: sessionmaker[Session]
    """Our database (signals, orders, approvals, runs)."""
    venue: str
    """Where orders go, for the report and the runs table: kis-real, kis-virtual, paper, demo."""
    venue_server: str | None = None
    """The server of the venue (`agents.venue`); None where nothing is recorded (backtests).
    Set, every node checks that its thread was proposed on this server and account."""
    account_fingerprint: str | None = None
    """The account's fingerprint (`trader.accounts.account_fingerprint`), never the number."""
    portfolio: str
    """The portfolio a session trades when its input names none (`PORTFOLIO`)."""
    watchlist: tuple[str, ...] = ()
    """The tickers a session analyses when its input names none (`WATCHLIST`)."""
    starting_cash_krw: int
    """The cash a portfolio starts with when its book is first recorded (`STARTING_CASH_KRW`)."""
    clock: Clock = field(default_factory=SystemClock)
    llm: BaseChatModel | None = None
    """None: the deterministic rules reasoners."""
    kis: KISClient | None = None
    """For the KIS finance endpoints the fundamental analyst reads (None in backtests)."""
    company_figures: CompanyFigures | None = None
    """Stored KIS ratios as of a day (the data layer's `fundamentals` table); None: the
    fundamental analyst asks KIS's finance endpoints directly, every session."""
    econ: EconSource | None = None
    """Macro data and annual reports as of a date: ECOS, FRED and OpenDART live, recorded files
    in backtests (None: the fundamental analyst works without macro and company figures)."""
    limits: RiskLimits = field(default_factory=RiskLimits)
    cost_model: CostModel = field(default_factory=CostModel)
    usage: UsageMeter = field(default_factory=UsageMeter)
    analyst_concurrency: int = 8
    """Tickers analysed at once within one analyst node (each may call KIS and the LLM)."""
    llm_max_tool_calls: int = 2
    """Tool calls an analyst's LLM may make per ticker before it must answer."""
    approval_ttl: timedelta = timedelta(hours=2)
    """How long a proposal may wait for approval (capped at the day's close)."""
    fill_timeout: timedelta = timedelta(minutes=5)
    """How long the executor follows an order's fills before it stops waiting."""
    fill_poll_interval_s: float = 2.0
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    executor_lease_ttl: timedelta = timedelta(seconds=60)
    lease_holder: str = field(default_factory=new_holder)
    """Who this context is when it holds a run's lease: the runner holds it for a whole
    continuation of a thread, and the executor inside takes it again under the same name."""
    """How long the executor lease on a run lasts unless renewed. The executor renews it before
    each order and each poll, so it only needs to outlast one broker call; a process that dies
    holding it blocks a resume of the session for at most this long."""
    on_needs_review: NeedsReviewHook = log_needs_review
    """Told about every order handed to a person (`needs_review`); logs a warning by default."""
    overlap_io: bool = True
    """Run per-ticker work concurrently (live I/O). Backtests, whose data never waits, turn it
    off: a task per ticker per replayed day is pure overhead there."""
    recorder: Recorder = field(default_factory=NullRecorder)
    """Where the session's records go: our database live (`graphs.recorder.DatabaseRecorder`,
    set by `trader.wiring`); by default nowhere (backtests, unit tests)."""
    venue_hours: VenueHours = field(default_factory=KrxHours)
    """When the venue trades: KRX hours, or always open for the built-in demo market."""
    order_window_wait: timedelta = timedelta(hours=1)
    """How long the executor waits for the venue to take orders (a run approved at 08:10
    waits for reception at 08:30); an order whose window opens later, or after the approval
    expires, is refused for its time instead (`rejected`, never sent)."""
    is_trading_day: Callable[[date], bool] = is_trading_day
    """Whether KRX trades on a day: the XKRX calendar live; in backtests, whether the data
    has bars that day (old histories include Saturday sessions the calendar lacks)."""
    peak_equity_krw: int | None = None
    """Backtests: the simulated book's high-water mark (live runs keep it in the database)."""
    checked_threads: set[str] = field(default_factory=set)
    """Threads whose recorded venue this context matched (each is checked once)."""

    @property
    def venue_identity(self) -> VenueIdentity:
        """The venue, server and account fingerprint this context trades on."""
        return VenueIdentity(self.venue, self.venue_server, self.account_fingerprint)


async def session_context(runtime: Runtime[SessionContext]) -> SessionContext:
    """Return the run's context, once the thread is known to belong to its venue.

    Raises:
        ConfigurationError: the run brought no context (the graph was invoked without one).
        VenueMismatchError: the thread was proposed on another venue, server or account than
            the context's (checked once per thread and context, before the node does anything).
    """
    ctx = runtime.context
    if not isinstance(ctx, SessionContext):
        raise ConfigurationError(
            "the trading session ran without its SessionContext: pass `context=` to every "
            "invoke and resume (the graph served to Studio brings its own, `trader.studio`)"
        )
    await _check_thread_venue(ctx, runtime)
    return ctx


async def _check_thread_venue(ctx: SessionContext, runtime: Runtime[SessionContext]) -> None:
    """Refuse to work on a thread recorded with another venue (Studio and SDK resumes too)."""
    if ctx.venue_server is None:
        return
    info = runtime.execution_info
    thread_id = info.thread_id if info else None
    if not thread_id or thread_id in ctx.checked_threads:
        return
    await asyncio.to_thread(check_venue, ctx.sessions, thread_id, ctx.venue_identity)
    ctx.checked_threads.add(thread_id)
