"""`trader approve`: answer a session's approval, from arguments or at an interactive prompt.

What happens to orders the approver does not name: they are approved only with `--all`; without
it they are rejected. So `--all --reject 2` trades every order but the second,
`--edit 1=5@71000` trades only the first (edited), and `--approve 1 --approve 3` trades those
two. This is the resume schema as is (`approve_all` plus per-order `decisions`), so the CLI,
Studio and the SDK mean the same thing by the same answer. How orders are named and edits read:
`trader.cli.approval_answer`; the terminal prompt: `trader.cli.approval_prompt`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from functools import partial
from typing import Annotated, Any

import typer
from rich.status import Status

from agents.executor import FillProgress
from core.errors import ConfigurationError
from db import migrate
from graphs.approval_view import order_whys
from graphs.nodes.approval import ApprovalResponse
from graphs.runner import ThreadView, not_waiting_message, open_graph, read_thread
from trader.cli import clock as cli_clock
from trader.cli import render
from trader.cli.approval_answer import build_response, check_approver, describe_response
from trader.cli.approval_prompt import (
    DecideLater,
    ask_approval,
    confirm_edits,
    stdin_is_terminal,
)
from trader.cli.approve_service import hand_to_service, print_handover
from trader.cli.console import cli_errors, console
from trader.cli.real_account import guard_real_database, refuse_auto_approval
from trader.settings import Settings, load_settings
from trader.wiring.runner import open_runner
from trader.wiring.runner import resume_as_demo as _resume_as_demo

EXIT_INTERRUPTED = 130

__all__ = ["EXIT_INTERRUPTED", "FollowLine", "approve", "follow", "settle", "stdin_is_terminal"]


# --- settling a waiting thread -------------------------------------------------------------


class FollowLine:
    """The live line under a resumed session: node lines above it, the fills in it."""

    def __init__(self, status: Status) -> None:
        """Update `status` (a `console.status`) as the session goes."""
        self.status = status

    def node(self, node: str, update: dict[str, Any]) -> None:
        """A node finished: print its line, and say what runs next."""
        render.print_progress(node, update)
        if node == "review":
            self.status.update("sending the approved orders…")

    def fills(self, progress: FillProgress) -> None:
        """The executor sent an order or polled its fills."""
        self.status.update(render.describe_fills(progress))


async def _resume(
    settings: Settings,
    line: FollowLine,
    *,
    demo: bool,
    thread_id: str,
    response: ApprovalResponse,
) -> ThreadView:
    async with open_runner(settings, demo=demo, clock=cli_clock.session_clock()) as runner:
        return await runner.resume(thread_id, response, line.node, line.fills)


Follow = Callable[[FollowLine], Coroutine[Any, Any, ThreadView]]
"""A resume or a continuation of a thread, told how to show its progress."""


def follow(thread_id: str, run: Follow, doing: str = "applying the answer…") -> ThreadView:
    """Run `run` (a resume or a continuation) under the live line; Ctrl-C leaves it resumable.

    Ctrl-C stops following: the thread keeps its last checkpoint (before the executor's end),
    the executor's lease is freed, and the command that continues it is printed (exit 130).
    """
    try:
        with console.status(doing) as status:
            return asyncio.run(run(FollowLine(status)))
    except KeyboardInterrupt:
        console.print()
        render.print_interrupted_while_executing(thread_id)
        raise typer.Exit(EXIT_INTERRUPTED) from None


def resume_with(
    settings: Settings, view: ThreadView, response: ApprovalResponse, *, demo: bool
) -> ThreadView:
    """Resume a waiting thread with an answer, showing progress; return the finished view.

    While the executor follows fills a live line shows the orders placed and filled; Ctrl-C
    stops following and leaves the session resumable (`follow`).
    """
    assert view.request is not None
    console.print(
        f"Resuming {view.thread_id}: {describe_response(view.request.orders, response)}.",
        highlight=False,
    )
    return follow(
        view.thread_id,
        partial(_resume, settings, demo=demo, thread_id=view.thread_id, response=response),
    )


def settle(
    settings: Settings,
    view: ThreadView,
    *,
    demo: bool,
    auto_approve: bool,
    auto_reason: str = "--auto-approve",
    decided_by: str = "cli",
) -> ThreadView:
    """Take a thread past its approval if someone (or --auto-approve) decides; show the result.

    In a terminal the person is asked; otherwise the thread stays waiting and the command
    that continues it is printed. Ctrl-C or `q` at the prompt also leaves it waiting.
    """
    if view.awaiting_approval and view.request is not None:
        request = view.request
        whys = order_whys(view.values)
        render.print_approval_request(request, whys)
        if auto_approve:
            refuse_auto_approval(settings, demo=demo, reason=auto_reason)
            console.print(f"Approving every order automatically ({auto_reason}).", highlight=False)
            response = ApprovalResponse(approve_all=True, decided_by=decided_by)
        elif stdin_is_terminal():
            try:
                response = ask_approval(request.orders, decided_by, whys)
                response = confirm_edits(settings, view, response, interactive=True)
            except (DecideLater, KeyboardInterrupt, EOFError) as exc:
                console.print()
                render.print_how_to_continue(view.thread_id)
                if isinstance(exc, KeyboardInterrupt):
                    raise typer.Exit(EXIT_INTERRUPTED) from None
                return view
        else:
            render.print_how_to_continue(view.thread_id)
            return view
        view = resume_with(settings, view, response, demo=demo)
    render.print_view(view)
    return view


# --- the command -----------------------------------------------------------------------------


async def _waiting_view(settings: Settings, thread_id: str) -> ThreadView:
    async with open_graph(settings.resolved_database_url) as graph:
        return await read_thread(graph, thread_id)


def approve(
    thread_id: Annotated[str, typer.Argument(help="The session's thread id.")],
    all_: Annotated[
        bool, typer.Option("--all", help="Approve every order not rejected or edited.")
    ] = False,
    approve_ids: Annotated[
        list[str] | None,
        typer.Option("--approve", help="Approve this order (row number or id prefix)."),
    ] = None,
    reject: Annotated[
        list[str] | None,
        typer.Option("--reject", help="Reject this order (row number or id prefix)."),
    ] = None,
    edit: Annotated[
        list[str] | None,
        typer.Option("--edit", help="Change an order: ID=QTY@PRICE, ID=QTY or ID=@PRICE."),
    ] = None,
    by: Annotated[
        str, typer.Option("--by", help="Who decides (stored with the approval).")
    ] = "cli",
) -> None:
    """Answer a waiting session's approval and run it to the end.

    Orders not named are approved only with --all; otherwise they are rejected. With
    SERVICE_FOLLOWS_FILLS=true the running service executes the answer and follows the fills:
    the command returns once the orders are placed.
    """
    with cli_errors():
        decided_by = check_approver(by)
        settings = load_settings()
        guard_real_database(settings, demo=False)
        migrate.upgrade(settings.resolved_database_url)
        view = asyncio.run(_waiting_view(settings, thread_id))
        if not view.awaiting_approval or view.request is None:
            raise ConfigurationError(not_waiting_message(view))
        response = build_response(
            view.request.orders,
            approve_all=all_,
            approve=approve_ids or (),
            reject=reject or (),
            edit=edit or (),
            decided_by=decided_by,
        )
        try:
            response = confirm_edits(settings, view, response, interactive=stdin_is_terminal())
        except (DecideLater, KeyboardInterrupt, EOFError) as exc:
            console.print()
            render.print_how_to_continue(view.thread_id)
            if isinstance(exc, KeyboardInterrupt):
                raise typer.Exit(EXIT_INTERRUPTED) from None
            return
        demo = _resume_as_demo(settings, thread_id)
        named = {d.client_order_id for d in response.decisions}
        if not all_ and any(o.client_order_id not in named for o in view.request.orders):
            console.print("Orders not named are rejected (add --all to approve them).")
        if settings.service_follows_fills:
            console.print(
                f"Handing {view.thread_id} to the service: "
                f"{describe_response(view.request.orders, response)}.",
                highlight=False,
            )
            handed = hand_to_service(settings, thread_id, response)
            if handed is not None:
                print_handover(settings, handed)
                return
            console.print(
                f"No service answers at {settings.service_public_url}: following the fills here.",
                highlight=False,
            )
        view = resume_with(settings, view, response, demo=demo)
        render.print_view(view)
