"""Orders handed to a person stand out in the session report, with what to check."""

from __future__ import annotations

import pytest

from agents.executor import OrderOutcome
from agents.llm import LLMUsage
from agents.risk.models import ProposedOrder
from core.orders import OrderStatus, OrderType, Side
from db.models import ApprovalDecision
from graphs.nodes.approval import ReviewLine
from graphs.nodes.report import SessionReport, needs_review_lines
from trader.cli import render

REASON = (
    "in doubt: placing failed (read timeout); not found in the broker's list of 2026-11-24 "
    "within 0:05:00; never sent again: check the broker's orders"
)


def _report() -> SessionReport:
    proposed = ProposedOrder(
        client_order_id="mat-1",
        ticker="005930",
        side=Side.BUY,
        order_type=OrderType.LIMIT,
        qty=10,
        limit_price_krw=53_600,
        reason="buy signal",
    )
    outcome = OrderOutcome(
        client_order_id="mat-1",
        ticker="005930",
        side=Side.BUY,
        qty=10,
        order_type=OrderType.LIMIT,
        limit_price_krw=53_600,
        status=OrderStatus.NEEDS_REVIEW,
        note=REASON,
    )
    return SessionReport(
        thread_id="default:2026-11-24:regular",
        session_date="2026-11-24",
        venue="kis-virtual",
        status="done",
        signals=[],
        risk_lines=[],
        review=[
            ReviewLine(
                client_order_id="mat-1",
                ticker="005930",
                decision=ApprovalDecision.APPROVE,
                approved=proposed,
            )
        ],
        executions=[outcome],
        needs_review=needs_review_lines([outcome]),
        unknown_tickers={},
        cash_krw=0,
        equity_krw=0,
        holdings=[],
        llm=LLMUsage(),
    )


def test_the_report_lists_orders_that_need_review_with_their_reason() -> None:
    report = _report()
    assert report.needs_review == [f"005930 buy 10 @ 53,600 (mat-1): {REASON}"]


def test_the_cli_shows_needs_review_and_the_reason(capsys: pytest.CaptureFixture[str]) -> None:
    render.print_report(_report())
    out = " ".join(capsys.readouterr().out.split())
    assert "needs review" in out
    assert "Needs review" in out
    assert f"needs review: 005930 buy 10 @ 53,600 (mat-1): {REASON}" in out
