"""The trading-session graph (placeholder until the agents land).

Today it holds only the first step of a session, `load_context`: it resolves the session date
in KRX time, whether KRX trades that day, and the watchlist. The analysts, the risk gate, the
approval interrupt and the executor are added by the session-graph work; until then this graph
lets `langgraph dev` and Studio load the project.

`graph` is compiled without a checkpointer (the server brings its own); `build_graph()` returns
the uncompiled builder for code that brings a checkpointer.
"""

from __future__ import annotations

from datetime import date
from typing import Any, TypedDict

from langgraph.graph import END, START, StateGraph

from tools.krx.calendar import is_trading_day
from trader.clock import SystemClock, kst_today


class SessionInput(TypedDict, total=False):
    """What a trigger may pass: the session date (default: today in KRX time) and tickers."""

    session_date: str
    tickers: list[str]


class SessionState(SessionInput, total=False):
    """The session's state so far."""

    is_trading_day: bool
    status: str


def load_context(state: SessionInput) -> dict[str, Any]:
    """Resolve the session date and whether KRX is open that day."""
    raw = state.get("session_date")
    day = date.fromisoformat(raw) if raw else kst_today(SystemClock())
    trading = is_trading_day(day)
    return {
        "session_date": day.isoformat(),
        "is_trading_day": trading,
        "status": "context loaded" if trading else "KRX is closed on this date",
    }


def build_graph() -> StateGraph[SessionState, None, SessionInput, SessionState]:
    """Return the session graph's builder (compile it with your checkpointer)."""
    builder = StateGraph(SessionState, input_schema=SessionInput)
    builder.add_node("load_context", load_context)
    builder.add_edge(START, "load_context")
    builder.add_edge("load_context", END)
    return builder


graph = build_graph().compile(name="trading_session")
