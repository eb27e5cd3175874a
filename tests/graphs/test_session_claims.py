"""One session, one trade, in process on SQLite and PostgreSQL (the served tests do it over HTTP).

- A second thread of the same (portfolio, date, phase), as Studio starts one, proposes nothing.
- The approval stands once recorded: a thread whose checkpoints after the approval were lost
  (here: taken back to the interrupt's checkpoint, as a crash under durability "async"/"exit"
  leaves it) carries out the recorded decisions, whatever it is answered the second time, and
  sends nothing twice.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from langgraph.types import Command

from agents.recorder import RecordedDecision
from agents.state import ApprovalRequest
from core.orders import OrderStatus, OrderType
from db.models import Approval, ApprovalDecision, Order, Run
from tests.graphs.session_harness import SESSION_DAY, Harness, open_harness

pytestmark = pytest.mark.anyio


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


def _request(out: dict[str, Any]) -> ApprovalRequest:
    return ApprovalRequest.model_validate(out["__interrupt__"][0].value)


async def _sent(h: Harness) -> list[tuple[str, int]]:
    return sorted((e.ticker, e.ordered_qty) for e in await h.ctx.broker.executions(SESSION_DAY))


async def test_a_second_thread_of_the_session_proposes_nothing(db_url: str, data_dir: Path) -> None:
    async with open_harness(db_url, data_dir) as h:
        request = _request(await h.trigger())
        studio: Any = {"configurable": {"thread_id": "0f3c9a52-studio-thread"}}
        out = await h.graph.ainvoke(
            {"session_date": SESSION_DAY.isoformat()}, studio, context=h.ctx
        )
        assert "__interrupt__" not in out
        assert out["status"] == "duplicate"
        assert out["duplicate_of"] == h.thread_id
        assert h.thread_id in out["notice"] and "awaiting_approval" in out["notice"]
        assert "approval_request" not in out and "context" not in out
        assert [r.thread_id for r in await h.rows(Run)] == [h.thread_id]
        assert len(await h.rows(Order)) == len(request.orders)

        done = await h.resume({"approve_all": True, "decided_by": "test"})
        assert done["status"] == "done"
        again = await h.graph.ainvoke(
            {"session_date": SESSION_DAY.isoformat()}, studio, context=h.ctx
        )
        assert again["status"] == "duplicate"
        assert len(await _sent(h)) == len(request.orders)


async def test_a_lost_approval_checkpoint_carries_out_the_recorded_decision(
    db_url: str, data_dir: Path
) -> None:
    async with open_harness(db_url, data_dir) as h:
        request = _request(await h.trigger())
        assert len(request.orders) >= 2
        at_interrupt = (await h.graph.aget_state(h.config)).config
        first, second, *rest = request.orders
        edited = max(1, second.qty // 2)
        answer = {
            "decisions": [
                {"client_order_id": first.client_order_id, "action": "approve"},
                {"client_order_id": second.client_order_id, "action": "edit", "qty": edited},
                *({"client_order_id": o.client_order_id, "action": "reject"} for o in rest),
            ],
            "decided_by": "first-answer",
        }
        done = await h.resume(answer)
        assert done["status"] == "done"
        sent = await _sent(h)
        assert sent == sorted([(first.ticker, first.qty), (second.ticker, edited)])

        # The checkpoints after the interrupt are gone: the thread is back at the question.
        # Answered again, differently, the recorded decisions stand and nothing is resent.
        reject_all = {
            "decisions": [
                {"client_order_id": o.client_order_id, "action": "reject"} for o in request.orders
            ],
            "decided_by": "second-answer",
        }
        out = await h.graph.ainvoke(Command(resume=reject_all), at_interrupt, context=h.ctx)
        assert out["status"] == "done", out.get("review")
        assert await _sent(h) == sent
        executed = {e["client_order_id"]: e["qty"] for e in out["executions"]}
        assert executed == {first.client_order_id: first.qty, second.client_order_id: edited}
        review = {line["client_order_id"]: line for line in out["review"]}
        assert review[second.client_order_id]["decision"] == "edit"
        assert review[second.client_order_id]["approved"]["qty"] == edited
        assert out["approval"]["decided_by"] == "first-answer", "taken from the database"

        # Continued with no answer at all, it is not asked again either.
        quiet = await h.graph.ainvoke(None, at_interrupt, context=h.ctx)
        assert "__interrupt__" not in quiet and quiet["status"] == "done"
        assert await _sent(h) == sent

        approvals = {a.client_order_id: a for a in await h.rows(Approval)}
        assert {a.decided_by for a in approvals.values()} == {"first-answer"}
        assert approvals[second.client_order_id].decision is ApprovalDecision.EDIT
        orders = {o.client_order_id: o for o in await h.rows(Order)}
        assert {o.client_order_id for o in rest} == {
            cid for cid, o in orders.items() if o.status is OrderStatus.REJECTED
        }


def test_a_recorded_edit_the_risk_rules_denied_is_not_carried_out() -> None:
    def recorded(decision: ApprovalDecision, status: OrderStatus) -> RecordedDecision:
        return RecordedDecision(
            decision=decision,
            decided_by="first-answer",
            decided_at=datetime(2026, 11, 24, 1, tzinfo=UTC),
            qty=3,
            limit_price_krw=None,
            order_type=OrderType.MARKET,
            status=status,
        )

    assert not recorded(ApprovalDecision.EDIT, OrderStatus.REJECTED).approved
    assert not recorded(ApprovalDecision.APPROVE, OrderStatus.EXPIRED).approved
    assert not recorded(ApprovalDecision.REJECT, OrderStatus.REJECTED).approved
    assert recorded(ApprovalDecision.EDIT, OrderStatus.APPROVED).approved
    assert recorded(ApprovalDecision.APPROVE, OrderStatus.FILLED).approved
