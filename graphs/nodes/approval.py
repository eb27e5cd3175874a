"""Human approval: the interrupt, and the answer's schema.

`approval` calls `interrupt()` with the request prepared by the risk manager and does nothing
else but read back a decision already recorded (below), because LangGraph re-runs an
interrupted node from its first line on resume. The resume
value is validated against `ApprovalResponse` (`response_schema`), which is also what Studio
renders as a form and what the CLI and the SDK send:

    {"approve_all": true, "decided_by": "cli"}
    {"decisions": [{"client_order_id": "mat-…", "action": "edit", "qty": 5,
                    "limit_price_krw": 71000}], "decided_by": "studio"}

`graphs.nodes.review` then applies the answer and records it before the executor runs. A re-run
after a crash reads the recorded decisions back: `approval` takes them instead of asking again.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from langgraph.runtime import Runtime
from langgraph.types import interrupt
from pydantic import BaseModel, ConfigDict, Field

from agents.context import SessionContext, session_context
from agents.recorder import RecordedDecision
from agents.risk.models import ProposedOrder
from agents.state import (
    ApprovalRequest,
    SessionState,
)
from db.models import ApprovalDecision


class Action(StrEnum):
    """What the approver does with one order."""

    APPROVE = "approve"
    REJECT = "reject"
    EDIT = "edit"


class OrderDecision(BaseModel):
    """The approver's decision on one proposed order."""

    model_config = ConfigDict(extra="forbid")

    client_order_id: str
    action: Action
    qty: int | None = Field(default=None, gt=0)
    """New quantity (edit only)."""
    limit_price_krw: int | None = Field(default=None, gt=0)
    """New limit price (edit only); giving one to a market order makes it a limit order."""


class ApprovalResponse(BaseModel):
    """The resume value of the approval interrupt (CLI, Studio and SDK alike)."""

    model_config = ConfigDict(extra="forbid")

    decisions: list[OrderDecision] = Field(default_factory=list)
    approve_all: bool = False
    """Approve every order without its own decision."""
    decided_by: str = Field(default="operator", min_length=1, max_length=64)
    note: str | None = None


class ReviewLine(BaseModel):
    """What happened to one proposed order at approval."""

    client_order_id: str
    ticker: str
    decision: ApprovalDecision
    approved: ProposedOrder | None
    note: str = ""


async def approval(state: SessionState, runtime: Runtime[SessionContext]) -> dict[str, Any]:
    """Pause for the approver; resume with an `ApprovalResponse`.

    The context is asked for first, so that an answer given on another venue, server or
    account is refused before it is taken (`session_context` checks the thread's venue).
    A decision already recorded for this request (the approval was given, then the process
    died and the checkpoints holding the answer were lost) is taken as the answer: the
    approver is not asked again, because orders may be at the broker already. Reading the
    database is the only thing done before the interrupt, and it is idempotent.
    """
    ctx = await session_context(runtime)
    request = ApprovalRequest.model_validate(state["approval_request"])
    ids = [o.client_order_id for o in request.orders]
    recorded = await ctx.recorder.recorded_decisions(ids)
    if ids and set(recorded) >= set(ids):
        return {"approval": _as_response(recorded).model_dump(mode="json")}
    answer: Any = interrupt(state["approval_request"], response_schema=ApprovalResponse)
    if isinstance(answer, BaseModel):
        answer = answer.model_dump(mode="json")
    return {"approval": answer}


def _as_response(recorded: dict[str, RecordedDecision]) -> ApprovalResponse:
    """The recorded decisions as the resume value that gave them."""
    decisions = []
    for cid, rec in recorded.items():
        if not rec.approved:
            decisions.append(OrderDecision(client_order_id=cid, action=Action.REJECT))
        elif rec.decision is ApprovalDecision.APPROVE:
            decisions.append(OrderDecision(client_order_id=cid, action=Action.APPROVE))
        else:
            decisions.append(
                OrderDecision(
                    client_order_id=cid,
                    action=Action.EDIT,
                    qty=rec.qty,
                    limit_price_krw=rec.limit_price_krw,
                )
            )
    by = sorted({rec.decided_by for rec in recorded.values()})
    return ApprovalResponse(
        decisions=decisions,
        decided_by=(by[0] if len(by) == 1 else ",".join(by))[:64] or "operator",
        note="as recorded in the database before a restart",
    )
