"""The risk manager node: the deterministic gate (agents/risk) between signals and orders.

No LLM decides a limit. The node only gathers the gate's inputs — the account, today's quotes,
each ticker's daily volatility from the market analyst's evidence — runs `propose_orders`,
records the proposals, and prepares the approval request with its expiry (computed here, once,
because the approval node re-runs from its first line when resumed).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from langgraph.runtime import Runtime

from agents import market_analyst
from agents.context import SessionContext, session_context
from agents.risk.gate import propose_orders
from agents.risk.models import MarketSnapshot
from agents.schemas import AnalystOpinion
from agents.state import (
    ApprovalRequest,
    SessionContextData,
    SessionState,
    SessionStatus,
    dump,
    read_context,
    read_opinions,
    read_signals,
)
from db.models import RunStatus


def with_volatility(
    data: SessionContextData, opinions: list[AnalystOpinion]
) -> dict[str, MarketSnapshot]:
    """Today's snapshots with the market analyst's 20-day volatility (percent) filled in."""
    vol: dict[str, Decimal] = {}
    for o in opinions:
        value = o.evidence.get("volatility_20d")
        if o.agent == market_analyst.AGENT and isinstance(value, Decimal) and value >= 0:
            vol[o.ticker] = value * 100
    return {
        t: s.model_copy(update={"daily_volatility_pct": vol.get(t)}) for t, s in data.market.items()
    }


def approval_expiry(ctx: SessionContext, data: SessionContextData) -> datetime:
    """Now plus the approval time-to-live, never past the venue's deadline (the day's close)."""
    expiry = ctx.clock.now() + ctx.approval_ttl
    deadline = ctx.venue_hours.approval_deadline(data.session_date)
    return expiry if deadline is None else min(expiry, deadline)


async def risk_manager(state: SessionState, runtime: Runtime[SessionContext]) -> dict[str, Any]:
    """Size, price and cap the session's orders; every clamp and denial is recorded."""
    ctx = await session_context(runtime)
    data = read_context(state)
    report = propose_orders(
        read_signals(state),
        data.portfolio_snapshot,
        with_volatility(data, read_opinions(state)),
        ctx.limits,
        thread_id=data.thread_id,
        cost_model=ctx.cost_model,
        session_date=data.session_date,
    )
    update: dict[str, Any] = {"risk_report": dump(report)}
    if not data.executable:
        # Another day than today: the report shows what the gate would do; nothing is proposed.
        update["status"] = SessionStatus.ANALYSIS_ONLY.value
        return update
    await ctx.recorder.record_proposals(data.run_id, report.orders)
    if not report.orders:
        update["status"] = SessionStatus.NO_ORDERS.value
        return update
    request = ApprovalRequest(
        thread_id=data.thread_id,
        orders=list(report.orders),
        risk_report=report.lines(),
        expires_at=approval_expiry(ctx, data).isoformat(),
    )
    update["approval_request"] = dump(request)
    update["status"] = SessionStatus.AWAITING_APPROVAL.value
    await ctx.recorder.set_run_status(data.thread_id, RunStatus.AWAITING_APPROVAL)
    return update
