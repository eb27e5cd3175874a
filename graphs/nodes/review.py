"""The review: apply the approver's answer, and record it before any order goes out.

An edit goes back through the same risk rules (`recheck_edit`), and one whose price the rules
would move (off the tick grid, outside the band) is refused rather than traded at a price
nobody approved (the CLI shows the approver the adjusted order first, `preview_review`); an
order without a decision is not traded; an answer after the expiry cancels every order.

The decisions are on disk before the first order goes out, whatever durability the caller
resumed with (the SDK and Studio default to "async", which may lose the last checkpoints in a
crash): `review` commits them to our database (`approvals`, orders moved to `approved`) before
the executor runs, and the first decision recorded for an order stands. A re-run after a crash
hands the executor the orders as recorded, whatever a later answer says.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from langgraph.runtime import Runtime

from agents.context import SessionContext, session_context
from agents.recorder import RecordedDecision
from agents.risk.gate import recheck_edit
from agents.risk.limits import RiskLimits
from agents.risk.models import MarketSnapshot, ProposedOrder, RiskCode
from agents.risk_manager import with_volatility
from agents.state import (
    ApprovalRequest,
    SessionContextData,
    SessionState,
    SessionStatus,
    dump,
    read_context,
    read_opinions,
)
from core.clock import kst_today
from db.models import ApprovalDecision, RunStatus
from graphs.nodes.approval import Action, ApprovalResponse, OrderDecision, ReviewLine
from tools.krx.costs import CostModel

PRICE_MOVES = frozenset({RiskCode.TICK, RiskCode.PRICE_LIMIT})
"""Clamps that would move an approver's price: such an edit is refused, never sent moved."""


def review_lines(
    request: ApprovalRequest,
    response: ApprovalResponse,
    *,
    data: SessionContextData,
    market: Mapping[str, MarketSnapshot],
    limits: RiskLimits,
    cost_model: CostModel,
    expired: str | None,
    refuse_moved_prices: bool = True,
) -> list[ReviewLine]:
    """Apply an answer to the proposed orders, one line per order in the request's order.

    Pure: `review` records what it returns, and the CLI calls it first to show the approver
    what the risk rules make of an edit before anything is resumed. An edit whose price the
    rules would move (off the tick grid, outside today's band) is refused: the order is not
    traded at a price the approver did not give. Other clamps (a quantity cut to the caps)
    stand, as the gate's own clamps do. `refuse_moved_prices=False` shows the moved price
    instead, for the approver to confirm. `expired`, when given, says why every order
    expires instead.
    """
    by_id = {d.client_order_id: d for d in response.decisions}
    lines: list[ReviewLine] = []
    approved: list[ProposedOrder] = []
    for index, order in enumerate(request.orders):
        decision = by_id.get(order.client_order_id)
        if expired is not None:
            line = ReviewLine(
                client_order_id=order.client_order_id,
                ticker=order.ticker,
                decision=ApprovalDecision.EXPIRED,
                approved=None,
                note=expired,
            )
        elif decision is None and not response.approve_all:
            line = _line(order, ApprovalDecision.REJECT, None, "no decision given")
        elif decision is None or decision.action is Action.APPROVE:
            line = _line(order, ApprovalDecision.APPROVE, order, "")
        elif decision.action is Action.REJECT:
            line = _line(order, ApprovalDecision.REJECT, None, response.note or "rejected")
        else:
            # Caps and cash are shared with the orders approved so far and, conservatively,
            # with every order still to be reviewed.
            others = [*approved, *request.orders[index + 1 :]]
            result = recheck_edit(
                order,
                decision.qty,
                decision.limit_price_krw,
                portfolio=data.portfolio_snapshot,
                market=market,
                limits=limits,
                other_orders=others,
                cost_model=cost_model,
                session_date=data.session_date,
            )
            note = "; ".join(d.describe() for d in result.decisions)
            edited = result.order
            moved = any(d.code in PRICE_MOVES for d in result.decisions)
            if refuse_moved_prices and edited is not None and moved:
                note = (
                    f"edit refused: the price {decision.limit_price_krw or 0:,} KRW is not "
                    f"orderable today and is never moved for the approver ({note})"
                )
                edited = None
            line = _line(order, ApprovalDecision.EDIT, edited, note)
        lines.append(line)
        if line.approved is not None:
            approved.append(line.approved)
    return lines


@dataclass(frozen=True)
class ChangedEdit:
    """An edit the risk rules would not trade as typed (moved, cut, or refused)."""

    row: int
    """The order's row in the approval request, from 1."""
    order: ProposedOrder
    decision: OrderDecision
    qty: int
    """The quantity the approver asked for (the order's own when the edit left it)."""
    limit_price_krw: int | None
    """The price the approver asked for (the order's own when the edit left it)."""
    line: ReviewLine
    """What review would make of it: `approved` None when refused; `note` says why."""


def changed_edits(
    state: SessionState | Mapping[str, Any],
    response: ApprovalResponse,
    *,
    limits: RiskLimits,
    cost_model: CostModel,
) -> list[ChangedEdit]:
    """The answer's edits that the risk rules would change, for the approver's tools.

    The CLI shows them and asks; the service refuses the answer. An edit traded exactly as
    typed is not listed; nothing is computed when the answer has no edit.
    """
    edits = {d.client_order_id: d for d in response.decisions if d.action is Action.EDIT}
    if not edits:
        return []
    request = ApprovalRequest.model_validate(state["approval_request"])
    lines = preview_review(state, response, limits=limits, cost_model=cost_model)
    changed: list[ChangedEdit] = []
    for row, (order, line) in enumerate(zip(request.orders, lines, strict=True), start=1):
        decision = edits.get(order.client_order_id)
        if decision is None:
            continue
        qty = decision.qty or order.qty
        price = (
            decision.limit_price_krw
            if decision.limit_price_krw is not None
            else order.limit_price_krw
        )
        new = line.approved
        if new is None or (new.qty, new.limit_price_krw) != (qty, price):
            changed.append(ChangedEdit(row, order, decision, qty, price, line))
    return changed


def preview_review(
    state: SessionState | Mapping[str, Any],
    response: ApprovalResponse,
    *,
    limits: RiskLimits,
    cost_model: CostModel,
) -> list[ReviewLine]:
    """What `review` would make of an answer on a waiting thread, with moved prices shown.

    For the approver's tools (the CLI): the state is the thread's checkpointed values.
    """
    values: Any = state
    data = read_context(values)
    return review_lines(
        ApprovalRequest.model_validate(values["approval_request"]),
        response,
        data=data,
        market=with_volatility(data, read_opinions(values)),
        limits=limits,
        cost_model=cost_model,
        expired=None,
        refuse_moved_prices=False,
    )


async def review(state: SessionState, runtime: Runtime[SessionContext]) -> dict[str, Any]:
    """Apply the approver's answer: approvals, rejections, edits rechecked, expiry."""
    ctx = await session_context(runtime)
    data = read_context(state)
    request = ApprovalRequest.model_validate(state["approval_request"])
    response = ApprovalResponse.model_validate(state.get("approval") or {})
    now = ctx.clock.now()
    today = kst_today(ctx.clock)
    # Only today's session trades: an answer given on another day (after midnight on the
    # always-open demo market, say) cancels every order as an expiry does.
    expired = None
    if now > datetime.fromisoformat(request.expires_at):
        expired = f"approval came after the expiry {request.expires_at}"
    elif data.session_date != today:
        expired = (
            f"the session of {data.session_date.isoformat()} is not today's "
            f"({today.isoformat()} KST)"
        )
    by_id = {d.client_order_id: d for d in response.decisions}
    unknown = sorted(set(by_id) - {o.client_order_id for o in request.orders})
    lines = review_lines(
        request,
        response,
        data=data,
        market=with_volatility(data, read_opinions(state)),
        limits=ctx.limits,
        cost_model=ctx.cost_model,
        expired=expired,
    )
    recorded = await ctx.recorder.record_review(
        data.run_id,
        [
            (o, line.decision, line.approved, line.note)
            for o, line in zip(request.orders, lines, strict=True)
        ],
        decided_by=response.decided_by,
        decided_at=now,
    )
    # What the database holds is what the executor carries out (the first answer stands).
    lines = [
        _as_recorded(order, line, recorded.get(order.client_order_id))
        for order, line in zip(request.orders, lines, strict=True)
    ]
    approved = [line.approved for line in lines if line.approved is not None]
    await ctx.recorder.set_run_status(data.thread_id, RunStatus.RUNNING)
    update: dict[str, Any] = {
        "approved_orders": [dump(o) for o in approved],
        "review": [dump(line) for line in lines],
        "status": (SessionStatus.EXECUTING if approved else SessionStatus.NO_ORDERS).value,
    }
    if unknown:
        update["review"].append(
            dump(
                ReviewLine(
                    client_order_id=",".join(unknown),
                    ticker="",
                    decision=ApprovalDecision.REJECT,
                    approved=None,
                    note="decisions for unknown order ids were ignored",
                )
            )
        )
    return update


def _as_recorded(
    order: ProposedOrder, line: ReviewLine, recorded: RecordedDecision | None
) -> ReviewLine:
    """The review line of the decision the database holds for `order` (it may predate this one)."""
    if recorded is None:  # nothing recorded (no persistence): this answer is the decision
        return line
    approved = None
    if recorded.approved:
        approved = order.model_copy(
            update={
                "qty": recorded.qty,
                "limit_price_krw": recorded.limit_price_krw,
                "order_type": recorded.order_type,
            }
        )
    if recorded.decision is line.decision and _terms(approved) == _terms(line.approved):
        return line
    note = (
        f"the decision recorded by {recorded.decided_by} at "
        f"{recorded.decided_at.isoformat()} stands; this answer ({line.decision.value}) "
        "was not applied"
    )
    return _line(order, recorded.decision, approved, note)


def _terms(order: ProposedOrder | None) -> tuple[int, int | None, str] | None:
    """What the broker is sent of an order: quantity, limit price and type."""
    if order is None:
        return None
    return (order.qty, order.limit_price_krw, order.order_type.value)


def _line(
    order: ProposedOrder, decision: ApprovalDecision, approved: ProposedOrder | None, note: str
) -> ReviewLine:
    return ReviewLine(
        client_order_id=order.client_order_id,
        ticker=order.ticker,
        decision=decision,
        approved=approved,
        note=note,
    )
