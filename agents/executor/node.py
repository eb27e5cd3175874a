"""The executor node of the session graph: the approved orders in, their outcomes out."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from langgraph.runtime import Runtime

from agents.context import SessionContext, session_context
from agents.executor.lifecycle import Executor
from agents.executor.models import FILLS_KEY, Mandate
from agents.state import (
    ApprovalRequest,
    SessionState,
    SessionStatus,
    dump,
    read_approved_orders,
    read_context,
)
from core.errors import ConfigurationError


def mandate_for(state: SessionState) -> Mandate:
    """The executor's mandate from state: the run, the session's day, the approval's expiry."""
    data = read_context(state)
    raw = state.get("approval_request")
    expires = (
        datetime.fromisoformat(ApprovalRequest.model_validate(raw).expires_at) if raw else None
    )
    return Mandate(
        run_id=data.run_id,
        thread_id=data.thread_id,
        session_date=data.session_date,
        expires_at=expires,
    )


async def executor(state: SessionState, runtime: Runtime[SessionContext]) -> dict[str, Any]:
    """Send the approved orders (on the session's day, before the expiry) and follow fills."""
    ctx = await session_context(runtime)
    if ctx.sessions.kw.get("bind") is None:  # a backtest's context: no database to book in
        raise ConfigurationError("the executor needs a database to record its orders in")
    data = read_context(state)
    markets = {t: snapshot.market for t, snapshot in data.market.items()}
    # Each report goes to the stream's `custom` mode as {"fills": FillProgress}: a runner
    # following the session shows it live (`graphs.runner.SessionRunner.resume`).
    executor = Executor(
        ctx,
        mandate_for(state),
        markets,
        holder=ctx.lease_holder,
        report=lambda p: runtime.stream_writer({FILLS_KEY: p.model_dump(mode="json")}),
    )
    outcomes = await executor.run(read_approved_orders(state))
    return {"executions": [dump(o) for o in outcomes], "status": SessionStatus.DONE.value}
