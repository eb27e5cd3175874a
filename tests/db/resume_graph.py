"""A three-node graph with an approval interrupt, run as a separate process by the tests.

`python -m tests.db.resume_graph start|resume sync|async URL THREAD [RESUME_VALUE]` prints one
JSON line: the pending interrupt after `start`, the final state after `resume`. Each call is a
fresh process, so resuming proves that the checkpoint survived in the database.
"""

from __future__ import annotations

import asyncio
import json
import operator
import sys
from typing import Annotated, Any, TypedDict

from langgraph.graph import END, START, StateGraph
from langgraph.types import Command, interrupt

from db.checkpointer import open_async_checkpointer, open_checkpointer


class State(TypedDict):
    ticker: str
    steps: Annotated[list[str], operator.add]
    decision: str


def propose(state: State) -> dict[str, Any]:
    return {"steps": [f"proposed {state['ticker']}"]}


def approve(state: State) -> dict[str, Any]:
    decision = interrupt({"orders": [state["ticker"]], "question": "approve?"})
    return {"decision": str(decision), "steps": ["approved"]}


def execute(state: State) -> dict[str, Any]:
    return {"steps": [f"executed after {state['decision']}"]}


def builder() -> StateGraph[State]:
    graph = StateGraph(State)
    graph.add_node("propose", propose)
    graph.add_node("approve", approve)
    graph.add_node("execute", execute)
    graph.add_edge(START, "propose")
    graph.add_edge("propose", "approve")
    graph.add_edge("approve", "execute")
    graph.add_edge("execute", END)
    return graph


def _payload(result: dict[str, Any]) -> dict[str, Any]:
    if "__interrupt__" in result:
        return {"interrupt": result["__interrupt__"][0].value}
    return {"state": result}


def run_sync(action: str, url: str, thread: str, value: str | None) -> dict[str, Any]:
    config = {"configurable": {"thread_id": thread}}
    with open_checkpointer(url) as saver:
        graph = builder().compile(checkpointer=saver)
        arg: Any = {"ticker": "005930", "steps": []} if action == "start" else Command(resume=value)
        return _payload(graph.invoke(arg, config, durability="sync"))


async def run_async(action: str, url: str, thread: str, value: str | None) -> dict[str, Any]:
    config = {"configurable": {"thread_id": thread}}
    async with open_async_checkpointer(url) as saver:
        graph = builder().compile(checkpointer=saver)
        arg: Any = {"ticker": "005930", "steps": []} if action == "start" else Command(resume=value)
        return _payload(await graph.ainvoke(arg, config, durability="sync"))


if __name__ == "__main__":
    action, flavour, url, thread = sys.argv[1:5]
    value = sys.argv[5] if len(sys.argv) > 5 else None
    if flavour == "sync":
        out = run_sync(action, url, thread, value)
    else:
        out = asyncio.run(run_async(action, url, thread, value))
    print(json.dumps(out))
