"""`trader approve`: answer a session's approval, from arguments or at an interactive prompt.

Orders are named by their row number in the proposed-orders table (1, 2, ...) or by a unique
prefix of their client order id (`mat-3fa2b1c0…`, with or without `mat-`). Row numbers win when
a token could be both.

What happens to orders the approver does not name: they are approved only with `--all`; without
it they are rejected. So `--all --reject 2` trades every order but the second,
`--edit 1=5@71000` trades only the first (edited), and `--approve 1 --approve 3` trades those
two. This is the resume schema as is (`approve_all` plus per-order `decisions`), so the CLI,
Studio and the SDK mean the same thing by the same answer.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated

import typer
from rich.markup import escape
from rich.prompt import Prompt

from agents.risk.models import ProposedOrder
from core.errors import ConfigurationError
from db import migrate
from graphs.nodes.approval import Action, ApprovalResponse, OrderDecision, preview_review
from graphs.runner import ThreadView, not_waiting_message, open_graph, read_thread
from tools.krx.costs import CostModel
from trader.cli import clock as cli_clock
from trader.cli import render
from trader.cli.console import cli_errors, console
from trader.cli.real_account import guard_real_database, refuse_auto_approval
from trader.settings import Settings, load_settings
from trader.wiring.runner import open_runner
from trader.wiring.runner import resume_as_demo as _resume_as_demo

EXIT_INTERRUPTED = 130


def stdin_is_terminal() -> bool:
    """True when a person can answer prompts (tests replace this to drive the prompt)."""
    return sys.stdin.isatty()


# --- naming orders -------------------------------------------------------------------------


MIN_ID_PREFIX = 4
"""Characters of an order id (after `mat-`) that name it: fewer would match by accident."""


def resolve_order(token: str, orders: Sequence[ProposedOrder]) -> ProposedOrder:
    """Find the order a token names: a row number (1-based) or a client-id prefix.

    A token of digits shorter than `MIN_ID_PREFIX` is always a row number, so a row that does
    not exist is an error rather than an id that happens to start with those digits. An id
    prefix needs at least `MIN_ID_PREFIX` characters after `mat-` and must match one order.

    Raises:
        ConfigurationError: no order, or more than one, matches.
    """
    text = token.strip()
    if not text:
        raise ConfigurationError("an empty order id was given")
    rows = f"1..{len(orders)}"
    if text.isdigit():
        if 1 <= int(text) <= len(orders):
            return orders[int(text) - 1]
        if len(text) < MIN_ID_PREFIX:
            raise ConfigurationError(f"no row {text}: rows are {rows}")
    prefix = text.removeprefix(render.ID_PREFIX)
    if len(prefix) < MIN_ID_PREFIX:
        raise ConfigurationError(
            f"{text!r} is too short to name an order: give a row number {rows} or at least "
            f"{MIN_ID_PREFIX} characters of its id"
        )
    matches = [
        o for o in orders if o.client_order_id.removeprefix(render.ID_PREFIX).startswith(prefix)
    ]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise ConfigurationError(
            f"no proposed order matches {text!r}: give a row number {rows} "
            "or a prefix of the order id"
        )
    names = ", ".join(render.short_id(o.client_order_id) for o in matches)
    raise ConfigurationError(f"{text!r} matches several orders ({names}); give more characters")


@dataclass(frozen=True)
class Edit:
    """A new quantity and/or limit price for one order."""

    qty: int | None
    limit_price_krw: int | None


def _positive_int(text: str, what: str, spec: str) -> int:
    cleaned = text.strip().replace(",", "").replace("_", "")
    if not cleaned.isdigit() or int(cleaned) <= 0:
        raise ConfigurationError(f"{what} in {spec!r} must be a whole number above 0")
    return int(cleaned)


def parse_edit_value(value: str, spec: str) -> Edit:
    """Parse `QTY@PRICE`, `QTY` or `@PRICE` (commas allowed in numbers)."""
    qty_text, at, price_text = value.partition("@")
    qty = _positive_int(qty_text, "the quantity", spec) if qty_text.strip() else None
    price = _positive_int(price_text, "the price", spec) if at else None
    if qty is None and price is None:
        raise ConfigurationError(f"--edit {spec!r}: give ID=QTY@PRICE, ID=QTY or ID=@PRICE")
    return Edit(qty=qty, limit_price_krw=price)


def _split(values: Sequence[str] | None) -> list[str]:
    """Options are repeatable and also take comma lists (`--reject 1,3`)."""
    out: list[str] = []
    for value in values or ():
        out.extend(part for part in value.split(",") if part.strip())
    return out


def build_response(
    orders: Sequence[ProposedOrder],
    *,
    approve_all: bool,
    approve: Sequence[str] = (),
    reject: Sequence[str] = (),
    edit: Sequence[str] = (),
    decided_by: str = "cli",
) -> ApprovalResponse:
    """Turn the command's arguments into the approval resume value.

    Raises:
        ConfigurationError: nothing was decided, an id is unknown or ambiguous, an order is
            named twice, or an edit is malformed. Nothing is resumed then.
    """
    if not (approve_all or approve or reject or edit):
        raise ConfigurationError(
            "say what to do: --all, --approve ID, --reject ID or --edit ID=QTY@PRICE"
        )
    decisions: dict[str, OrderDecision] = {}

    def add(order: ProposedOrder, decision: OrderDecision, token: str) -> None:
        if order.client_order_id in decisions:
            raise ConfigurationError(f"order {token!r} is named more than once")
        decisions[order.client_order_id] = decision

    for token in _split(approve):
        order = resolve_order(token, orders)
        add(
            order,
            OrderDecision(client_order_id=order.client_order_id, action=Action.APPROVE),
            token,
        )
    for token in _split(reject):
        order = resolve_order(token, orders)
        add(
            order, OrderDecision(client_order_id=order.client_order_id, action=Action.REJECT), token
        )
    for spec in edit:
        token, eq, value = spec.partition("=")
        if not eq:
            raise ConfigurationError(f"--edit {spec!r}: give ID=QTY@PRICE, ID=QTY or ID=@PRICE")
        order = resolve_order(token, orders)
        change = parse_edit_value(value, spec)
        add(
            order,
            OrderDecision(
                client_order_id=order.client_order_id,
                action=Action.EDIT,
                qty=change.qty,
                limit_price_krw=change.limit_price_krw,
            ),
            token,
        )
    # Keep the table's order, so the review reads like the request.
    ordered = [decisions[o.client_order_id] for o in orders if o.client_order_id in decisions]
    return ApprovalResponse(decisions=ordered, approve_all=approve_all, decided_by=decided_by)


def describe_response(orders: Sequence[ProposedOrder], response: ApprovalResponse) -> str:
    """One line: how many orders are approved, edited and rejected by this answer."""
    by_id = {d.client_order_id: d.action for d in response.decisions}
    approved = edited = rejected = 0
    for order in orders:
        action = by_id.get(order.client_order_id)
        if action is Action.EDIT:
            edited += 1
        elif action is Action.APPROVE or (action is None and response.approve_all):
            approved += 1
        else:
            rejected += 1
    return f"{approved} approved, {edited} edited, {rejected} rejected"


APPROVER_MAX_LENGTH = 64
"""Longest approver name (`--by`); the approvals table stores 64 characters."""


def check_approver(name: str) -> str:
    """Return the approver's name trimmed; a blank, too long or unprintable one is an error."""
    text = name.strip()
    if not text:
        raise ConfigurationError("--by is empty: name who decides (e.g. --by kim)")
    if len(text) > APPROVER_MAX_LENGTH:
        raise ConfigurationError(
            f"--by is {len(text)} characters long; at most {APPROVER_MAX_LENGTH} are kept"
        )
    if not text.isprintable():
        raise ConfigurationError("--by contains control characters")
    return text


# --- edits the risk rules change --------------------------------------------------------------


def _wanted(order: ProposedOrder, decision: OrderDecision) -> tuple[int, int | None]:
    price = decision.limit_price_krw
    return decision.qty or order.qty, price if price is not None else order.limit_price_krw


def _at(qty: int, price: int | None) -> str:
    return f"{qty:,} @ {render.krw(price)}" if price is not None else f"{qty:,} at market"


def confirm_edits(
    settings: Settings, view: ThreadView, response: ApprovalResponse, *, interactive: bool
) -> ApprovalResponse:
    """Show the approver every edit the risk rules would change, before anything is resumed.

    An edit priced off the tick grid or outside today's band, or cut to the caps, would trade
    something the approver did not type. In a terminal the adjusted orders are shown and the
    approver accepts them (`a`, the answer then carries exactly what was shown) or quits
    (`q`, `DecideLater`); without a terminal nobody can see them, so the answer is refused.

    Raises:
        ConfigurationError: an edit would change and there is no terminal to ask in.
        DecideLater: the approver quit at the question.
    """
    assert view.request is not None
    edits = {d.client_order_id: d for d in response.decisions if d.action is Action.EDIT}
    if not edits:
        return response
    lines = preview_review(
        view.values,
        response,
        limits=settings.risk_limits,
        cost_model=CostModel(commission_rate=settings.commission_rate),
    )
    changes: list[str] = []
    adjusted: dict[str, OrderDecision] = {}
    for row, (order, line) in enumerate(zip(view.request.orders, lines, strict=True), start=1):
        decision = edits.get(order.client_order_id)
        if decision is None:
            continue
        qty, price = _wanted(order, decision)
        new = line.approved
        if new is not None and (new.qty, new.limit_price_krw) == (qty, price):
            continue
        head = f"#{row} {order.side.value} {order.ticker} {_at(qty, price)}"
        if new is None:
            changes.append(f"{head} is refused ({line.note})")
            adjusted[order.client_order_id] = OrderDecision(
                client_order_id=order.client_order_id, action=Action.REJECT
            )
        else:
            changes.append(f"{head} becomes {_at(new.qty, new.limit_price_krw)} ({line.note})")
            adjusted[order.client_order_id] = decision.model_copy(
                update={"qty": new.qty, "limit_price_krw": new.limit_price_krw}
            )
    if not changes:
        return response
    if not interactive:
        raise ConfigurationError(
            "the risk rules change an edit, so nothing was sent: "
            + "; ".join(changes)
            + ". Edit again with an orderable price and quantity."
        )
    console.print("[bold yellow]The risk rules change your edit:[/]", highlight=False)
    for change in changes:
        console.print(f"  {escape(change)}", highlight=False)
    choice = Prompt.ask(
        "a=accept the orders as shown, q=quit and decide later",
        choices=["a", "q"],
        default="q",
        console=console,
    )
    if choice != "a":
        raise DecideLater
    decisions = [adjusted.get(d.client_order_id, d) for d in response.decisions]
    return response.model_copy(update={"decisions": decisions})


# --- the interactive prompt ------------------------------------------------------------------


class DecideLater(Exception):
    """The approver quit the prompt; the session stays waiting."""


def _ask_each(orders: Sequence[ProposedOrder], decided_by: str) -> ApprovalResponse:
    decisions: list[OrderDecision] = []
    for index, order in enumerate(orders, start=1):
        label = (
            f"#{index} {order.side.value} {order.ticker} {order.qty:,} @ "
            f"{render.krw(order.limit_price_krw)}: a=approve, r=reject, or QTY@PRICE"
        )
        while True:
            answer = Prompt.ask(label, default="a", console=console).strip().lower()
            if answer in {"a", "r"}:
                action = Action.APPROVE if answer == "a" else Action.REJECT
                decisions.append(
                    OrderDecision(client_order_id=order.client_order_id, action=action)
                )
                break
            if answer == "q":
                raise DecideLater
            try:
                change = parse_edit_value(answer, answer)
            except ConfigurationError as exc:
                console.print(f"[red]{exc}[/]", highlight=False)
                continue
            decisions.append(
                OrderDecision(
                    client_order_id=order.client_order_id,
                    action=Action.EDIT,
                    qty=change.qty,
                    limit_price_krw=change.limit_price_krw,
                )
            )
            break
    return ApprovalResponse(decisions=decisions, decided_by=decided_by)


def ask_approval(orders: Sequence[ProposedOrder], decided_by: str) -> ApprovalResponse:
    """Ask the person at the terminal; raises `DecideLater` when they quit."""
    choice = Prompt.ask(
        "a=approve all, r=reject all, e=edit each, q=quit and decide later",
        choices=["a", "r", "e", "q"],
        default="q",
        console=console,
    )
    if choice == "a":
        return ApprovalResponse(approve_all=True, decided_by=decided_by)
    if choice == "r":
        return ApprovalResponse(
            decisions=[
                OrderDecision(client_order_id=o.client_order_id, action=Action.REJECT)
                for o in orders
            ],
            decided_by=decided_by,
        )
    if choice == "e":
        return _ask_each(orders, decided_by)
    raise DecideLater


# --- settling a waiting thread -------------------------------------------------------------


async def _resume(
    settings: Settings, *, demo: bool, thread_id: str, response: ApprovalResponse
) -> ThreadView:
    async with open_runner(settings, demo=demo, clock=cli_clock.session_clock()) as runner:
        return await runner.resume(thread_id, response, render.print_progress)


def resume_with(
    settings: Settings, view: ThreadView, response: ApprovalResponse, *, demo: bool
) -> ThreadView:
    """Resume a waiting thread with an answer, showing progress; return the finished view."""
    assert view.request is not None
    console.print(
        f"Resuming {view.thread_id}: {describe_response(view.request.orders, response)}.",
        highlight=False,
    )
    with console.status("executing…"):
        return asyncio.run(
            _resume(settings, demo=demo, thread_id=view.thread_id, response=response)
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
        render.print_approval_request(request)
        if auto_approve:
            refuse_auto_approval(settings, demo=demo, reason=auto_reason)
            console.print(f"Approving every order automatically ({auto_reason}).", highlight=False)
            response = ApprovalResponse(approve_all=True, decided_by=decided_by)
        elif stdin_is_terminal():
            try:
                response = ask_approval(request.orders, decided_by)
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

    Orders not named are approved only with --all; otherwise they are rejected.
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
        view = resume_with(settings, view, response, demo=demo)
        render.print_view(view)
