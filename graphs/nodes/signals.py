"""`signals`: fold the analysts' opinions into one signal per ticker and record both."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from agents import fundamental, market_analyst
from agents.context import SessionContext, session_context
from agents.schemas import combine_all
from agents.state import (
    SessionState,
    dump_signal,
    opinion_payloads,
    read_context,
    read_opinions,
)


async def signals(state: SessionState, runtime: Runtime[SessionContext]) -> dict[str, Any]:
    """Combine opinions (agents/schemas.py rule) and persist opinions and signals."""
    ctx = await session_context(runtime)
    data = read_context(state)
    opinions = read_opinions(state)
    combined = combine_all(opinions, data.tickers)
    await ctx.recorder.record_signals(
        data.run_id,
        opinions,
        combined,
        {
            market_analyst.AGENT: market_analyst.prompt_version(ctx),
            fundamental.AGENT: fundamental.prompt_version(ctx),
        },
        {
            market_analyst.AGENT: market_analyst.RULES_VERSION,
            fundamental.AGENT: fundamental.RULES_VERSION,
        },
    )
    payloads = opinion_payloads(state, opinions)
    return {"signals": [dump_signal(s, payloads) for s in combined]}
