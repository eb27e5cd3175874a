"""The approver at a terminal: edits the risk rules would change, and the approve/reject prompt.

Both only ask; resuming the session with the answer is `trader.cli.approve`'s job.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from rich.markup import escape
from rich.prompt import Prompt

from agents.risk.models import ProposedOrder
from core.errors import ConfigurationError
from graphs.approval_view import OrderWhy
from graphs.nodes.approval import Action, ApprovalResponse, OrderDecision
from graphs.nodes.review import changed_edits
from graphs.runner import ThreadView
from tools.krx.costs import CostModel
from trader.cli import render
from trader.cli.approval_answer import parse_edit_value
from trader.cli.console import console
from trader.settings import Settings


def stdin_is_terminal() -> bool:
    """True when a person can answer prompts (tests replace this to drive the prompt)."""
    return sys.stdin.isatty()


# --- edits the risk rules change --------------------------------------------------------------


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
    changes: list[str] = []
    adjusted: dict[str, OrderDecision] = {}
    for edit in changed_edits(
        view.values,
        response,
        limits=settings.risk_limits,
        cost_model=CostModel(commission_rate=settings.commission_rate),
    ):
        order, new = edit.order, edit.line.approved
        head = (
            f"#{edit.row} {order.side.value} {order.ticker} {_at(edit.qty, edit.limit_price_krw)}"
        )
        if new is None:
            changes.append(f"{head} is refused ({edit.line.note})")
            adjusted[order.client_order_id] = OrderDecision(
                client_order_id=order.client_order_id, action=Action.REJECT
            )
        else:
            changes.append(f"{head} becomes {_at(new.qty, new.limit_price_krw)} ({edit.line.note})")
            adjusted[order.client_order_id] = edit.decision.model_copy(
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


def _view(answer: str, whys: Sequence[OrderWhy], current: int | None = None) -> bool:
    """Show an order's full why for `v N` (or `v` alone on an order's own prompt).

    Returns False when `answer` is not a view request, so the caller reads it otherwise.
    """
    words = answer.split()
    if not words or words[0] not in {"v", "view"}:
        return False
    if len(words) == 1 and current is not None:
        row = current
    elif len(words) == 2 and words[1].lstrip("#").isdigit():
        row = int(words[1].lstrip("#"))
    else:
        console.print("[red]say v N, N an order's row number[/]", highlight=False)
        return True
    if not whys:
        console.print("[red]no details are known for these orders[/]", highlight=False)
    elif not 1 <= row <= len(whys):
        console.print(f"[red]no row {row}: rows are 1..{len(whys)}[/]", highlight=False)
    else:
        render.print_order_detail(whys[row - 1])
    return True


def _ask_each(
    orders: Sequence[ProposedOrder], decided_by: str, whys: Sequence[OrderWhy] = ()
) -> ApprovalResponse:
    decisions: list[OrderDecision] = []
    for index, order in enumerate(orders, start=1):
        label = (
            f"#{index} {order.side.value} {order.ticker} {order.qty:,} @ "
            f"{render.krw(order.limit_price_krw)}: a=approve, r=reject, QTY@PRICE, or v=why"
        )
        while True:
            answer = Prompt.ask(label, default="a", console=console).strip().lower()
            if _view(answer, whys, index):
                continue
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


ALL_CHOICES = ("a", "r", "e", "q")


def ask_approval(
    orders: Sequence[ProposedOrder], decided_by: str, whys: Sequence[OrderWhy] = ()
) -> ApprovalResponse:
    """Ask the person at the terminal; raises `DecideLater` when they quit.

    `v N` shows order N's full rationale and evidence (from `whys`) and asks again.
    """
    while True:
        choice = (
            Prompt.ask(
                "a=approve all, r=reject all, e=edit each, v N=why order N, "
                "q=quit and decide later",
                default="q",
                console=console,
            )
            .strip()
            .lower()
        )
        if _view(choice, whys):
            continue
        if choice in ALL_CHOICES:
            break
        console.print("[red]Please answer a, r, e, v N or q[/]", highlight=False)
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
        return _ask_each(orders, decided_by, whys)
    raise DecideLater
