"""The trading-session graph.

    load_context ─┬─ market_analyst ─┬─ signals ─ risk_manager ─ approval ─ review ─ executor
                  └─ fundamental ────┘                                                 └─ report
    (a closed market goes straight to report; so does a session with no order to approve or
     none approved; a session triggered again on its thread goes on from where it is; a thread
     started for a session another thread holds ends at load_context)

The graph declares `agents.context.SessionContext` as its context schema. Code that runs
sessions itself (`graphs.runner`) compiles `build_graph()` with a checkpointer from
`db.checkpointer` and passes the context on every invoke and resume. A server's runs (Studio,
the SDK) can only bring JSON, so the graph the shell serves (`trader.studio`) is built with a
`default_context`: a provider its nodes take the context from when a run brings none. No runner
watches a served run either, so the served graph may also be given an `observer`, told each
node's update (the shell's notifications: a pending approval, a halt, fills).

`build_decision_graph()` is the same graph cut after the risk manager: load_context, the two
analysts, signals and risk_manager, wired by the same function with the same node functions.
The backtester (`evals/backtest/twin.py`) replays it day by day and fills the risk manager's
proposed orders itself at the next open, in place of approval and the executor.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, Literal, Protocol

from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime

from agents.context import SessionContext
from agents.executor import executor
from agents.fundamental import fundamental
from agents.market_analyst import market_analyst
from agents.risk_manager import risk_manager
from agents.state import SessionInput, SessionState, SessionStatus, read_status
from graphs.nodes.approval import approval
from graphs.nodes.load_context import load_context
from graphs.nodes.report import report
from graphs.nodes.review import review
from graphs.nodes.scope import only_tickers
from graphs.nodes.signals import signals

log = logging.getLogger(__name__)

NODES = (
    "load_context",
    "market_analyst",
    "fundamental",
    "signals",
    "risk_manager",
    "approval",
    "review",
    "executor",
    "report",
)


def after_context(
    state: SessionState,
) -> list[str] | Literal["report", "approval", "executor", "__end__"]:
    """Analyse on a trading day; report straight away when KRX is closed.

    A session triggered again (see `load_context`) goes on from its status: a finished one
    ends unchanged, a pending approval is asked again, an approved one goes to the executor
    (which reconciles with the broker before sending anything). A thread started for a session
    another thread holds (status `duplicate`) ends there.
    """
    status = read_status(state)
    if "report" in state or status is SessionStatus.DUPLICATE:
        return "__end__"
    if status is SessionStatus.AWAITING_APPROVAL:
        return "approval"
    if status is SessionStatus.EXECUTING:
        return "executor"
    if status in {SessionStatus.CLOSED, SessionStatus.NO_ORDERS, SessionStatus.DONE}:
        return "report"
    return ["market_analyst", "fundamental"]


def after_risk(state: SessionState) -> Literal["approval", "report"]:
    """Ask for approval only when there is something to approve."""
    return "approval" if read_status(state) is SessionStatus.AWAITING_APPROVAL else "report"


def after_review(state: SessionState) -> Literal["executor", "report"]:
    """Execute only what was approved."""
    return "executor" if state.get("approved_orders") else "report"


Builder = StateGraph[SessionState, SessionContext, SessionInput, SessionState]


class Node(Protocol):
    """A node of the session graph: the state and the typed runtime in, a state update out."""

    def __call__(
        self, state: SessionState, *, runtime: Runtime[SessionContext]
    ) -> Awaitable[dict[str, Any]]:
        """Run the node on `state`; `runtime.context` is the run's `SessionContext`."""
        ...


ContextProvider = Callable[[], Awaitable[SessionContext]]
"""Returns the context for a run that brings none (see `build_graph`)."""


class NodeObserver(Protocol):
    """Told each node's state update in runs of the served graph (see `build_graph`).

    It must return quickly; a failure is logged and the run goes on.
    """

    def node_finished(self, thread_id: str, node: str, update: dict[str, Any]) -> None:
        """A node of `thread_id` finished with this state update."""


def _served(
    name: str,
    node: Node,
    default_context: ContextProvider | None,
    observer: NodeObserver | None,
) -> Node:
    """Return `node` as the served graph runs it: on the default context, told to `observer`.

    Without either, `node` itself.
    """
    if default_context is None and observer is None:
        return node

    async def served(state: SessionState, *, runtime: Runtime[SessionContext]) -> dict[str, Any]:
        if default_context is not None and not isinstance(runtime.context, SessionContext):
            runtime = runtime.override(context=await default_context())
        update = await node(state, runtime=runtime)
        info = runtime.execution_info
        if observer is not None and info is not None and info.thread_id:
            try:
                observer.node_finished(info.thread_id, name, update)
            except Exception as exc:  # an observer's failure must not fail the session
                log.warning("the %s node's observer failed: %s", name, type(exc).__name__)
        return update

    return served


def _new_builder() -> Builder:
    return StateGraph(SessionState, context_schema=SessionContext, input_schema=SessionInput)


def _decision_part(
    builder: Builder,
    *,
    after_load: dict[Hashable, str],
    default_context: ContextProvider | None = None,
    observer: NodeObserver | None = None,
    fundamental_tickers: frozenset[str] | None = None,
) -> None:
    """Add load_context -> (market_analyst || fundamental) -> signals -> risk_manager.

    `after_load` maps `after_context`'s answers onto nodes of the graph being built (the live
    graph's report, approval and executor; END in a backtest, which never resumes a thread).
    Both graphs call this, so what the backtester replays is wired exactly as what trades.
    `fundamental_tickers` limits the fundamental analyst to the tickers it has data for (a
    backtest's; None: every ticker).
    """
    nodes: dict[str, Node] = {
        "load_context": load_context,
        "market_analyst": market_analyst,
        "fundamental": fundamental
        if fundamental_tickers is None
        else only_tickers(fundamental, fundamental_tickers),
        "signals": signals,
        "risk_manager": risk_manager,
    }
    for name, node in nodes.items():
        builder.add_node(name, _served(name, node, default_context, observer))
    builder.add_edge(START, "load_context")
    builder.add_conditional_edges(
        "load_context",
        after_context,
        {"market_analyst": "market_analyst", "fundamental": "fundamental", **after_load},
    )
    builder.add_edge(["market_analyst", "fundamental"], "signals")
    builder.add_edge("signals", "risk_manager")


def build_graph(
    *,
    default_context: ContextProvider | None = None,
    observer: NodeObserver | None = None,
) -> Builder:
    """Return the session graph's builder (compile it with your checkpointer).

    Args:
        default_context: where a node takes its context from when a run brings none (a run
            of the graph a server serves, whose callers can only send JSON). None: every run
            passes its `SessionContext`, and a node run without one stops.
        observer: told every node's update (the served graph's notifications; a runner has
            its own `graphs.runner.RunObserver` instead). None: nobody is told.
    """
    builder = _new_builder()
    _decision_part(
        builder,
        after_load={"report": "report", "approval": "approval", "executor": "executor", END: END},
        default_context=default_context,
        observer=observer,
    )
    nodes: dict[str, Node] = {
        "approval": approval,
        "review": review,
        "executor": executor,
        "report": report,
    }
    for name, node in nodes.items():
        builder.add_node(name, _served(name, node, default_context, observer))
    builder.add_conditional_edges("risk_manager", after_risk, ["approval", "report"])
    builder.add_edge("approval", "review")
    builder.add_conditional_edges("review", after_review, ["executor", "report"])
    builder.add_edge("executor", "report")
    builder.add_edge("report", END)
    return builder


def build_decision_graph(*, fundamental_tickers: frozenset[str] | None = None) -> Builder:
    """Return the decision part alone (up to risk_manager), for backtests.

    The run ends with `risk_report` in state; nothing is approved, placed or reported.
    `fundamental_tickers`: the tickers the fundamental analyst has data for (None: all); the
    others get no fundamental opinion and the market analyst alone decides them.
    """
    builder = _new_builder()
    _decision_part(
        builder,
        after_load={"report": END, "approval": END, "executor": END, END: END},
        fundamental_tickers=fundamental_tickers,
    )
    builder.add_edge("risk_manager", END)
    return builder
