"""`trader session run | status | resume`: trigger a trading session and follow it.

A session's thread id comes from the portfolio, the date and the phase, so triggering the same
session twice never trades twice: the second trigger shows the existing thread (its pending
approval, or its report) instead. Demo sessions (`--demo`, `trader demo`) run on the built-in
market under the phase `demo`, beside the day's regular session.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date
from functools import partial
from typing import Annotated

import typer

from agents.state import SessionInput, thread_id_for
from core.clock import kst_today
from core.errors import ConfigurationError
from db import migrate
from graphs.runner import ProgressFn, ThreadView, open_graph, read_thread, recent_runs
from tools.krx.calendar import OutsideCalendarError, check_in_calendar
from tools.krx.tickers import FORM, bad_tickers, normalise_ticker
from trader.cli import clock as cli_clock
from trader.cli import render
from trader.cli.approve import EXIT_INTERRUPTED, FollowLine, follow, settle
from trader.cli.console import cli_errors, console
from trader.cli.real_account import guard_real_database, refuse_auto_approval
from trader.settings import Settings, load_settings
from trader.wiring.runner import open_runner, resume_as_demo

app = typer.Typer(help="Run trading sessions and see where they stand.", no_args_is_help=True)

DEMO_PHASE = "demo"
REGULAR_PHASE = "regular"
ANALYSIS_PHASE = "analysis"
"""The phase of a session for another date than today: analysed and reported, never traded."""


def parse_tickers(text: str | None) -> list[str] | None:
    """`005930,000660` -> ['005930', '000660']; None keeps the WATCHLIST setting.

    Raises:
        ConfigurationError: the list is empty or names a malformed code (a well-formed code the
            broker does not know is the session's to report, not an error here).
    """
    if text is None:
        return None
    given = [t for t in text.split(",") if t.strip()]
    if not given:
        raise ConfigurationError("--tickers is empty")
    bad = bad_tickers(given)
    if bad:
        raise ConfigurationError(f"--tickers {', '.join(map(repr, bad))}: a KRX ticker is {FORM}")
    return [normalise_ticker(t) for t in given]


def parse_day(text: str | None) -> date:
    """The session date: `--date YYYY-MM-DD`, or today in KRX time.

    Raises:
        ConfigurationError: not a date, or a date the KRX calendar does not cover.
    """
    if text is None:
        return kst_today(cli_clock.session_clock())
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise ConfigurationError(f"--date must be YYYY-MM-DD, got {text!r}") from None
    try:
        return check_in_calendar(day)
    except OutsideCalendarError as exc:
        raise ConfigurationError(f"--date {exc}") from None


def phase_for(day: date, *, demo: bool) -> str:
    """The phase of a session on `day`: today's trades; another date's is analysis only.

    A separate phase gives another date its own thread, so analysing it never uses up the
    session of that day.
    """
    phase = DEMO_PHASE if demo else REGULAR_PHASE
    if day == kst_today(cli_clock.session_clock()):
        return phase
    return f"{DEMO_PHASE}-{ANALYSIS_PHASE}" if demo else ANALYSIS_PHASE


def _say(text: str) -> None:
    console.print(text, highlight=False)


async def start_session(
    settings: Settings,
    *,
    demo: bool,
    thread_id: str,
    session: SessionInput,
    progress: ProgressFn = render.print_progress,
    say: Callable[[str], None] = _say,
) -> tuple[ThreadView, bool]:
    """Start the thread, or continue one that stopped part-way; (view, started or continued).

    It stops at the approval and leaves it pending: answering is `trader approve`'s (or a
    terminal's) business. The scheduler starts its runs through here, with log lines for
    `progress` and `say`.
    """
    async with open_runner(settings, demo=demo, clock=cli_clock.session_clock()) as runner:
        view = await runner.view(thread_id)
        if not view.exists:
            say(f"Starting session [bold]{thread_id}[/] ({runner.ctx.venue})")
            return await runner.start(thread_id, session, progress), True
        if view.stopped_part_way:
            say(f"Session {thread_id} stopped before {', '.join(view.next_nodes)}; continuing it.")
            return await runner.proceed(thread_id, progress), True
        return view, False


def prepare_session(settings: Settings, thread_id: str, *, demo: bool) -> bool:
    """Refuse a real account's foreign database, migrate, and tell the venue to continue on.

    Returns whether the thread runs on the demo market (a thread keeps the venue it began on).
    """
    guard_real_database(settings, demo=demo)
    migrate.upgrade(settings.resolved_database_url)
    return resume_as_demo(settings, thread_id, demo_requested=demo)


def session_input(
    settings: Settings, day: date, phase: str, tickers: list[str] | None = None
) -> SessionInput:
    """The graph's input for the portfolio's session of `day` in `phase`."""
    session: SessionInput = {
        "portfolio": settings.portfolio,
        "session_date": day.isoformat(),
        "phase": phase,
    }
    if tickers is not None:
        session["tickers"] = tickers
    return session


def run_session(
    settings: Settings,
    *,
    thread_id: str,
    session: SessionInput,
    demo: bool,
    auto_approve: bool,
    auto_reason: str = "--auto-approve",
    existing_hint: str = "",
) -> ThreadView:
    """Migrate, then start (or re-show) a session, take it through approval, show the result."""
    # A real account: refused before anything is analysed, or a database created elsewhere.
    if auto_approve:
        refuse_auto_approval(settings, demo=demo, reason=auto_reason)
    demo = prepare_session(settings, thread_id, demo=demo)
    try:
        view, ran = asyncio.run(
            start_session(settings, demo=demo, thread_id=thread_id, session=session)
        )
    except KeyboardInterrupt:
        console.print(
            f"\nInterrupted. Session {thread_id} keeps its last finished step; "
            "run the same command again to continue it.",
            highlight=False,
        )
        raise typer.Exit(EXIT_INTERRUPTED) from None
    if not ran:
        state = "is waiting for approval" if view.awaiting_approval else f"exists ({view.status})"
        console.print(
            f"Session [bold]{thread_id}[/] {state}: showing it instead of trading again."
            + (f" {existing_hint}" if existing_hint else ""),
            highlight=False,
        )
    return settle(settings, view, demo=demo, auto_approve=auto_approve, auto_reason=auto_reason)


@app.command("run")
def run(
    tickers: Annotated[
        str | None, typer.Option(help="Comma-separated tickers (default: WATCHLIST).")
    ] = None,
    demo: Annotated[
        bool, typer.Option("--demo", help="Trade on the built-in market (KIS simulator).")
    ] = False,
    auto_approve: Annotated[
        bool, typer.Option("--auto-approve", help="Approve every proposed order without asking.")
    ] = False,
    day: Annotated[
        str | None, typer.Option("--date", help="Session date YYYY-MM-DD (default: today, KST).")
    ] = None,
) -> None:
    """Run today's session: analyse, propose orders, ask for approval, execute, report."""
    with cli_errors():
        settings = load_settings()
        session_day = parse_day(day)
        phase = phase_for(session_day, demo=demo)
        thread_id = thread_id_for(settings.portfolio, session_day, phase)
        session = session_input(settings, session_day, phase, parse_tickers(tickers))
        run_session(
            settings, thread_id=thread_id, session=session, demo=demo, auto_approve=auto_approve
        )


@app.command("status")
def status(
    thread_id: Annotated[
        str | None, typer.Argument(help="A thread id; omit it for the recent sessions.")
    ] = None,
    limit: Annotated[int, typer.Option(help="How many recent sessions to list.", min=1)] = 20,
) -> None:
    """List recent sessions, or show one: its pending approval or its report."""
    with cli_errors():
        settings = load_settings()
        migrate.upgrade(settings.resolved_database_url)
        if thread_id is None:
            rows = recent_runs(settings.resolved_database_url, limit)
            if not rows:
                console.print("No sessions yet. Start one with: trader demo", highlight=False)
                return
            console.print(render.runs_table(rows))
            return
        view = asyncio.run(_read(settings, thread_id))
        if not view.exists:
            raise ConfigurationError(f"no session with thread id {thread_id}")
        render.print_view(view)


async def _read(settings: Settings, thread_id: str) -> ThreadView:
    async with open_graph(settings.resolved_database_url) as graph:
        return await read_thread(graph, thread_id)


async def _proceed(
    settings: Settings, line: FollowLine, *, demo: bool, thread_id: str
) -> ThreadView:
    async with open_runner(settings, demo=demo, clock=cli_clock.session_clock()) as runner:
        return await runner.proceed(thread_id, line.node, line.fills)


@app.command("resume")
def resume(
    thread_id: Annotated[str, typer.Argument(help="The thread id of a session that stopped.")],
) -> None:
    """Continue a session that stopped part-way (a crash); approvals go through `trader approve`."""
    with cli_errors():
        settings = load_settings()
        guard_real_database(settings, demo=False)
        migrate.upgrade(settings.resolved_database_url)
        view = asyncio.run(_read(settings, thread_id))
        if not view.exists:
            raise ConfigurationError(f"no session with thread id {thread_id}")
        demo = resume_as_demo(settings, thread_id)
        if view.stopped_part_way:
            # Under the live line (fills while the executor follows them); Ctrl-C leaves it
            # resumable again.
            view = follow(
                thread_id,
                partial(_proceed, settings, demo=demo, thread_id=thread_id),
                "continuing…",
            )
        settle(settings, view, demo=demo, auto_approve=False)
