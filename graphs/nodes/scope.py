"""Run an analyst node on part of the session's watchlist.

A replay without company figures for some tickers would have the fundamental analyst answer
`data_failed` for each of them on every replayed day (thousands of identical failures that say
nothing new). The backtest instead runs the analyst only on the tickers it has data for, says
once which it left out, and the market analyst's opinion alone decides the others: the signal
then reads "1 of 1 opinions ok", which is what happened.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from langgraph.runtime import Runtime

from agents.context import SessionContext
from agents.state import SessionState, dump, read_context

AnalystNode = Callable[..., Awaitable[dict[str, Any]]]
"""An analyst's node function: (state, runtime) in, its state update out."""


def only_tickers(node: AnalystNode, tickers: frozenset[str]) -> AnalystNode:
    """Return `node` run on the session's tickers that are in `tickers`, the others left out."""

    async def scoped(state: SessionState, *, runtime: Runtime[SessionContext]) -> dict[str, Any]:
        data = read_context(state)
        kept = tuple(t for t in data.tickers if t in tickers)
        if kept == data.tickers:
            return await node(state, runtime=runtime)
        narrowed = data.model_copy(update={"tickers": kept})
        return await node({**state, "context": dump(narrowed)}, runtime=runtime)

    return scoped
