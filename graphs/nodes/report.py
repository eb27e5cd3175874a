"""`report`: the session summary, the reconciled positions, and the run closed in the database."""

from __future__ import annotations

from datetime import date
from typing import Any

from langgraph.runtime import Runtime
from pydantic import BaseModel

from agents.context import SessionContext, session_context
from agents.executor import OrderOutcome
from agents.llm import LLMUsage
from agents.state import (
    SessionState,
    SessionStatus,
    dump,
    read_context,
    read_risk_report,
    read_signals,
    read_status,
)
from core.clock import kst_today
from core.orders import OrderStatus
from db.models import RunStatus
from graphs.nodes.approval import ReviewLine
from tools.broker import AccountSnapshot


class HoldingLine(BaseModel):
    """One position after the session."""

    ticker: str
    qty: int
    avg_price_krw: int
    last_price_krw: int
    market_value_krw: int
    unrealized_pnl_krw: int


class SignalLine(BaseModel):
    """One ticker's combined signal."""

    ticker: str
    status: str
    stance: str | None
    conviction: str | None
    reason: str


class SessionReport(BaseModel):
    """What a session did, for the CLI, Studio and the runs table."""

    thread_id: str
    session_date: str
    venue: str
    status: str
    signals: list[SignalLine]
    risk_lines: list[str]
    review: list[ReviewLine]
    executions: list[OrderOutcome]
    needs_review: list[str] = []
    """One line per order handed to a person (`needs_review`): the order and what to check."""
    unknown_tickers: dict[str, str]
    cash_krw: int
    """The cash once today's trades settle (D+2): what equity counts besides the holdings. The
    deposit lags trades by two trading days, so a report of it would not show today's buys."""
    equity_krw: int
    holdings: list[HoldingLine]
    llm: LLMUsage
    note: str = ""
    """Why the session did not trade when that is not obvious (e.g. an analysis-only date)."""


def _note(status: SessionStatus, session_date: date, today: date) -> str:
    if status is not SessionStatus.ANALYSIS_ONLY:
        return ""
    return (
        f"analysis only: {session_date.isoformat()} is not today's session "
        f"({today.isoformat()} KST); nothing was proposed for approval or sent"
    )


def needs_review_lines(outcomes: list[OrderOutcome]) -> list[str]:
    """Describe each order handed to a person: which order, and the executor's reason."""
    lines = []
    for o in outcomes:
        if o.status is not OrderStatus.NEEDS_REVIEW:
            continue
        price = f"{o.limit_price_krw:,}" if o.limit_price_krw is not None else "market"
        lines.append(
            f"{o.ticker} {o.side.value} {o.qty:,} @ {price} ({o.client_order_id}): "
            f"{o.note or 'no reason recorded; check the broker'}"
        )
    return lines


def _holdings(account: AccountSnapshot) -> list[HoldingLine]:
    return [
        HoldingLine(
            ticker=p.ticker,
            qty=p.qty,
            avg_price_krw=int(p.avg_price),
            last_price_krw=p.last_price,
            market_value_krw=p.market_value,
            unrealized_pnl_krw=p.unrealized_pnl,
        )
        for p in account.positions
        if p.qty > 0
    ]


async def report(state: SessionState, runtime: Runtime[SessionContext]) -> dict[str, Any]:
    """Summarise the session, reconcile positions, and close the run."""
    ctx = await session_context(runtime)
    data = read_context(state)
    account = await ctx.broker.account_snapshot()
    await ctx.recorder.reconcile_book(data.portfolio, account.cash.deposit, account.cash.total_eval)
    await ctx.recorder.mirror_positions(data.portfolio, account)
    usage = LLMUsage.model_validate(state.get("llm_usage") or {})
    status = read_status(state) or SessionStatus.DONE
    if status in {SessionStatus.RUNNING, SessionStatus.EXECUTING, SessionStatus.AWAITING_APPROVAL}:
        status = SessionStatus.DONE
    executions = [OrderOutcome.model_validate(e) for e in state.get("executions", [])]
    summary = SessionReport(
        thread_id=data.thread_id,
        session_date=data.session_date.isoformat(),
        venue=ctx.venue,
        status=status,
        signals=[
            SignalLine(
                ticker=s.ticker,
                status=s.status.value,
                stance=s.stance.value if s.stance else None,
                conviction=str(s.conviction) if s.conviction is not None else None,
                reason=s.reason,
            )
            for s in read_signals(state)
        ],
        risk_lines=read_risk_report(state).lines(),
        review=[ReviewLine.model_validate(r) for r in state.get("review", [])],
        executions=executions,
        needs_review=needs_review_lines(executions),
        unknown_tickers=data.unknown_tickers,
        cash_krw=account.cash.settled_d2,
        equity_krw=account.cash.total_eval,
        holdings=_holdings(account),
        llm=usage,
        note=_note(status, data.session_date, kst_today(ctx.clock)),
    )
    payload = dump(summary)
    await ctx.recorder.finish_run(data.thread_id, RunStatus.COMPLETED, usage, payload)
    return {"report": payload, "status": status.value}
