"""`trader demo`: a complete paper session on the built-in market, the README's first command.

It uses whatever is configured and nothing else: by default the SQLite file in `./data`, the
in-process KIS simulator with its seeded market over the default watchlist, and the rules
reasoner (an LLM when one is configured). In a terminal it asks for approval like
`trader session run`; without one it approves automatically and says so.

The demo is one session a day (thread `<portfolio>:<date>:demo`): running it again shows that
session's report; `--fresh` starts another one (`demo-2`, `demo-3`, ...) on the same market.
"""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Annotated

import typer

from agents.state import SessionInput, thread_id_for
from core.clock import kst_today
from db import migrate
from graphs.runner import open_graph, read_thread
from trader.cli import clock as cli_clock
from trader.cli.approval_prompt import stdin_is_terminal
from trader.cli.console import cli_errors
from trader.cli.session import DEMO_PHASE, parse_tickers, run_session
from trader.settings import Settings, load_settings


async def next_free_phase(settings: Settings, day: date) -> str:
    """The first of `demo-2`, `demo-3`, ... that has no thread yet today."""
    async with open_graph(settings.resolved_database_url) as graph:
        n = 2
        while (
            await read_thread(graph, thread_id_for(settings.portfolio, day, f"{DEMO_PHASE}-{n}"))
        ).exists:
            n += 1
        return f"{DEMO_PHASE}-{n}"


def demo(
    tickers: Annotated[
        str | None, typer.Option(help="Comma-separated tickers (default: WATCHLIST).")
    ] = None,
    fresh: Annotated[
        bool, typer.Option("--fresh", help="Start another demo session even if today's exists.")
    ] = False,
    auto_approve: Annotated[
        bool, typer.Option("--auto-approve", help="Approve without asking, even in a terminal.")
    ] = False,
) -> None:
    """Run a complete paper session on the built-in market and print its report."""
    with cli_errors():
        settings = load_settings()
        chosen = parse_tickers(tickers)
        day = kst_today(cli_clock.session_clock())
        phase = DEMO_PHASE
        if fresh:
            migrate.upgrade(settings.resolved_database_url)
            phase = asyncio.run(next_free_phase(settings, day))
        thread_id = thread_id_for(settings.portfolio, day, phase)
        session: SessionInput = {
            "portfolio": settings.portfolio,
            "session_date": day.isoformat(),
            "phase": phase,
        }
        if chosen is not None:
            session["tickers"] = chosen
        no_terminal = not stdin_is_terminal()
        run_session(
            settings,
            thread_id=thread_id,
            session=session,
            demo=True,
            auto_approve=auto_approve or no_terminal,
            auto_reason="no terminal to ask in"
            if no_terminal and not auto_approve
            else "--auto-approve",
            existing_hint="Run `trader demo --fresh` to watch another session.",
        )
