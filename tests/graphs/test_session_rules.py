"""Whole-graph sessions in rules mode on the demo venue, on SQLite and PostgreSQL.

Each test runs the real graph (analysts, risk gate, approval interrupt, executor, report)
against the in-process KIS simulator, our migrated database and the foundation's checkpointer,
then checks what reached the simulated broker and what was written to each table.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from agents.risk.models import RiskReport
from agents.state import ApprovalRequest
from core.orders import OrderStatus
from db.models import Approval, ApprovalDecision, Fill, Order, Position, Run, RunStatus, Signal
from graphs.records import COMBINED_AGENT
from tests.graphs.session_harness import OPENED_AT, SESSION_DAY, TICKERS, Harness, open_harness
from tools.krx.rules import Market, is_on_tick

pytestmark = pytest.mark.anyio

TYPO = "00593O"
"""A Samsung Electronics code with the letter O for the final zero."""
AGENTS = ("market_analyst", "fundamental")


def _request(out: dict[str, Any]) -> ApprovalRequest:
    interrupts = out["__interrupt__"]
    assert len(interrupts) == 1
    return ApprovalRequest.model_validate(interrupts[0].value)


def _market(out: dict[str, Any], ticker: str) -> Market:
    return Market(out["context"]["market"][ticker]["market"])


async def _broker_orders(h: Harness) -> dict[str, Any]:
    """The day's orders at the simulated broker, by broker order number."""
    return {e.broker_order_id: e for e in await h.ctx.broker.executions(SESSION_DAY)}


async def _run_row(h: Harness) -> Run:
    runs = await h.rows(Run)
    assert len(runs) == 1
    row: Run = runs[0]
    assert row.thread_id == h.thread_id
    return row


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


async def test_approved_session_trades_and_records_everything(db_url: str, data_dir: Path) -> None:
    async with open_harness(db_url, data_dir) as h:
        out = await h.trigger(tickers=[*TICKERS, TYPO])

        # The interrupt: the proposed orders, the risk report, the expiry.
        request = _request(out)
        assert out["status"] == "awaiting_approval"
        assert request.thread_id == h.thread_id
        assert {o.ticker for o in request.orders} == set(TICKERS)
        for order in request.orders:
            assert order.side == "buy" and order.qty > 0
            assert order.limit_price_krw is not None
            assert is_on_tick(order.limit_price_krw, _market(out, order.ticker), SESSION_DAY)
        assert request.risk_report == RiskReport.model_validate(out["risk_report"]).lines()
        assert datetime.fromisoformat(request.expires_at) == OPENED_AT + h.ctx.approval_ttl
        assert out["__interrupt__"][0].response_schema["title"] == "ApprovalResponse"
        # The typo is listed with its reason and the rest of the watchlist still trades.
        context = out["context"]
        assert set(context["unknown_tickers"]) == {TYPO}
        assert "could not be quoted" in context["unknown_tickers"][TYPO]
        assert tuple(context["tickers"]) == TICKERS
        assert (await _run_row(h)).status is RunStatus.AWAITING_APPROVAL
        proposed = await h.rows(Order)
        assert {o.client_order_id for o in proposed} == {o.client_order_id for o in request.orders}
        assert {o.status for o in proposed} == {OrderStatus.PROPOSED}
        assert await _broker_orders(h) == {}

        out = await h.resume({"approve_all": True, "decided_by": "test"})

        # Executions: every order filled at the simulator and in our tables.
        assert out["status"] == "done"
        executions = out["report"]["executions"]
        assert [e["client_order_id"] for e in executions] == [
            o.client_order_id for o in request.orders
        ]
        assert all(e["status"] == "filled" and e["filled_qty"] == e["qty"] for e in executions)
        at_broker = await _broker_orders(h)
        orders = {o.client_order_id: o for o in await h.rows(Order)}
        assert len(orders) == len(request.orders) == len(at_broker)
        for proposal in request.orders:
            row = orders[proposal.client_order_id]
            assert row.status is OrderStatus.FILLED
            assert (row.qty, row.limit_price_krw) == (proposal.qty, proposal.limit_price_krw)
            assert row.filled_qty == row.qty and row.filled_value_krw > 0
            assert row.broker_order_no is not None
            sent = at_broker[row.broker_order_no]
            assert (sent.ticker, sent.ordered_qty, sent.filled_qty) == (
                row.ticker,
                row.qty,
                row.qty,
            )
            assert sent.limit_price == row.limit_price_krw
        fills = await h.rows(Fill)
        for row in orders.values():
            mine = [f for f in fills if f.order_id == row.id]
            assert sum(f.qty for f in mine) == row.qty
            assert sum(f.qty * f.price_krw for f in mine) == pytest.approx(
                row.filled_value_krw, rel=1e-3
            )
            assert all(f.commission_krw > 0 and f.tax_krw == 0 for f in mine)  # buys: no tax

        # Signals: one row per (ticker, agent) and the combined row; nothing for the typo.
        signals = await h.rows(Signal)
        assert sorted((s.ticker, s.agent) for s in signals) == sorted(
            (t, a) for t in TICKERS for a in (*AGENTS, COMBINED_AGENT)
        )
        assert all(s.run_id == orders[request.orders[0].client_order_id].run_id for s in signals)
        combined = {s.ticker: s for s in signals if s.agent == COMBINED_AGENT}
        assert {t: c.stance for t, c in combined.items()} == dict.fromkeys(TICKERS, "buy")
        assert all(s.prompt_version for s in signals if s.agent != COMBINED_AGENT)
        assert all(s.rules_version for s in signals)

        # Approvals, the run, the positions.
        approvals = await h.rows(Approval)
        assert {a.client_order_id for a in approvals} == set(orders)
        assert {(a.decision, a.decided_by) for a in approvals} == {
            (ApprovalDecision.APPROVE, "test")
        }
        run = await _run_row(h)
        assert run.status is RunStatus.COMPLETED
        assert run.finished_at is not None
        assert run.summary is not None and run.summary["status"] == "done"
        assert run.summary["unknown_tickers"] == context["unknown_tickers"]
        account = await h.ctx.broker.account_snapshot()
        held = {p.ticker: p.qty for p in account.positions if p.qty > 0}
        assert held == {o.ticker: o.qty for o in request.orders}
        positions = await h.rows(Position)
        assert {p.ticker: p.qty for p in positions} == held
        assert {h_["ticker"]: h_["qty"] for h_ in out["report"]["holdings"]} == held
        # Today's buys settle T+2: the report's cash is the D+2 cash, which they already left.
        assert out["report"]["cash_krw"] == account.cash.settled_d2 < account.cash.deposit


async def test_reject_edit_unknown_id_and_an_invalid_answer(db_url: str, data_dir: Path) -> None:
    async with open_harness(db_url, data_dir) as h:
        request = _request(await h.trigger())
        by_ticker = {o.ticker: o for o in request.orders}
        shrink, overpriced, rejected = (by_ticker[t] for t in TICKERS)
        assert shrink.qty > 2 and overpriced.limit_price_krw is not None

        # An answer outside the schema is refused; the session still waits for approval.
        with pytest.raises(ValidationError, match="action"):
            await h.resume(
                {"decisions": [{"client_order_id": shrink.client_order_id, "action": "maybe"}]}
            )
        state = await h.graph.aget_state(h.config)
        assert state.next == ("approval",)
        assert [i.value for i in state.interrupts] == [request.model_dump(mode="json")]
        assert (await _run_row(h)).status is RunStatus.AWAITING_APPROVAL
        assert await h.rows(Approval) == []
        assert await _broker_orders(h) == {}

        # Then a proper answer: one edit down, one edit priced off the grid and above today's
        # upper limit, one rejection, and a decision for an order that does not exist.
        wild_price = overpriced.limit_price_krw * 2 + 3
        out = await h.resume(
            {
                "decisions": [
                    {
                        "client_order_id": shrink.client_order_id,
                        "action": "edit",
                        "qty": shrink.qty - 2,
                    },
                    {
                        "client_order_id": overpriced.client_order_id,
                        "action": "edit",
                        "limit_price_krw": wild_price,
                    },
                    {"client_order_id": rejected.client_order_id, "action": "reject"},
                    {"client_order_id": "mat-not-an-order", "action": "approve"},
                ],
                "decided_by": "studio",
                "note": "too much ETF today",
            }
        )

        review = {line["client_order_id"]: line for line in out["review"]}
        assert review[shrink.client_order_id]["decision"] == "edit"
        assert review[shrink.client_order_id]["approved"]["qty"] == shrink.qty - 2
        # A price the risk rules would have to move (off the grid, above the band) is never
        # traded at a price the approver did not give: the edit is refused, with the reason.
        refused = review[overpriced.client_order_id]
        assert refused["decision"] == "edit" and refused["approved"] is None
        assert "[tick]" in refused["note"] and "[price_limit]" in refused["note"]
        assert f"{wild_price:,}" in refused["note"] and "refused" in refused["note"]
        assert review[rejected.client_order_id]["decision"] == "reject"
        assert review[rejected.client_order_id]["approved"] is None
        assert review[rejected.client_order_id]["note"] == "too much ETF today"
        assert review["mat-not-an-order"]["note"] == "decisions for unknown order ids were ignored"

        # Only the edit the rules took as given went out, as edited.
        orders = {o.client_order_id: o for o in await h.rows(Order)}
        assert orders[rejected.client_order_id].status is OrderStatus.REJECTED
        assert orders[overpriced.client_order_id].status is OrderStatus.REJECTED
        assert orders[shrink.client_order_id].qty == shrink.qty - 2
        at_broker = await _broker_orders(h)
        assert sorted((e.ticker, e.ordered_qty, e.limit_price) for e in at_broker.values()) == [
            (shrink.ticker, shrink.qty - 2, shrink.limit_price_krw)
        ]
        assert orders[shrink.client_order_id].status is OrderStatus.FILLED

        approvals = {a.client_order_id: a for a in await h.rows(Approval)}
        assert set(approvals) == set(by_ticker[t].client_order_id for t in TICKERS)
        edit = approvals[shrink.client_order_id]
        assert (edit.decision, edit.edited_qty, edit.edited_price_krw, edit.decided_by) == (
            ApprovalDecision.EDIT,
            shrink.qty - 2,
            shrink.limit_price_krw,
            "studio",
        )
        assert approvals[overpriced.client_order_id].note == refused["note"]
        assert approvals[rejected.client_order_id].decision is ApprovalDecision.REJECT
        assert (await _run_row(h)).status is RunStatus.COMPLETED


async def test_an_expired_approval_cancels_every_order(db_url: str, data_dir: Path) -> None:
    async with open_harness(db_url, data_dir) as h:
        request = _request(await h.trigger())
        h.clock.set(datetime.fromisoformat(request.expires_at) + timedelta(seconds=1))

        out = await h.resume({"approve_all": True, "decided_by": "late"})

        assert out["status"] == "no_orders"
        assert out.get("executions", []) == []
        assert {line["decision"] for line in out["review"]} == {"expired"}
        assert await _broker_orders(h) == {}
        orders = await h.rows(Order)
        assert len(orders) == len(request.orders)
        assert {o.status for o in orders} == {OrderStatus.EXPIRED}
        approvals = await h.rows(Approval)
        assert {(a.decision, a.decided_by) for a in approvals} == {
            (ApprovalDecision.EXPIRED, "late")
        }
        assert await h.rows(Position) == []
        assert (await _run_row(h)).status is RunStatus.COMPLETED


async def test_a_closed_day_reports_without_trading(db_url: str, data_dir: Path) -> None:
    async with open_harness(db_url, data_dir) as h:
        out = await h.trigger(session_date="2024-12-31")  # KRX year-end closing day

        assert "__interrupt__" not in out
        assert out["status"] == "closed"
        assert out["report"]["status"] == "closed"
        assert out["report"]["executions"] == [] and out["report"]["signals"] == []
        assert out["context"]["trading_day"] is False
        assert await h.rows(Order) == [] and await h.rows(Signal) == []
        assert await _broker_orders(h) == {}
        run = await _run_row(h)
        assert (run.status, run.session_date.isoformat()) == (RunStatus.COMPLETED, "2024-12-31")


async def test_triggering_the_same_session_twice_never_trades_twice(
    db_url: str, data_dir: Path
) -> None:
    async with open_harness(db_url, data_dir) as h:
        first = await h.trigger()
        request = _request(first)
        signals_before = len(await h.rows(Signal))

        # Again while it waits: the same question, nothing analysed or proposed again.
        again = await h.trigger(tickers=["005930"])
        assert _request(again) == request
        assert again["tickers"] == list(TICKERS)
        assert len(again["opinions"]) == len(first["opinions"])
        assert len(await h.rows(Signal)) == signals_before
        assert len(await h.rows(Order)) == len(request.orders)
        state = await h.graph.aget_state(h.config)
        assert state.next == ("approval",)

        done = await h.resume({"approve_all": True, "decided_by": "test"})
        assert done["status"] == "done"
        sent = await _broker_orders(h)
        assert len(sent) == len(request.orders)

        # Again once done: the report stands, no second set of orders.
        after = await h.trigger()
        assert "__interrupt__" not in after
        assert after["status"] == "done"
        assert after["report"] == done["report"]
        assert await _broker_orders(h) == sent
        assert len(await h.rows(Order)) == len(request.orders)
        assert len(await h.rows(Approval)) == len(request.orders)
        assert (await _run_row(h)).status is RunStatus.COMPLETED


async def test_the_demo_market_trades_today_even_on_a_weekend(
    data_dir: Path, sqlite_url: str
) -> None:
    async with open_harness(sqlite_url, data_dir) as h:
        saturday = datetime(2026, 11, 28, 10, 0, tzinfo=OPENED_AT.tzinfo)
        h.clock.set(saturday)
        out = await h.graph.ainvoke({}, {"configurable": {"thread_id": "weekend"}}, context=h.ctx)

        assert out["session_date"] == "2026-11-28"
        assert out["context"]["trading_day"] is True
        request = _request(out)
        assert request.orders, "the always-open demo market proposes orders on a Saturday"
