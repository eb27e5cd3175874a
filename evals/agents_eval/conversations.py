"""What the LLM was shown and what it did, per (ticker, analyst), read from LangChain callbacks.

The analysts keep one conversation per ticker (agents/analyst.py `llm_judgement`): a system
prompt, a human message holding the numbers as JSON, then the model's tool calls and their
results. `ConversationLog` is a callback handler passed to the graph run; it sees every chat
model call (its messages, and its answer) without any hook in the agents, so the citation and
trajectory evaluators judge exactly what the model read and asked for.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, LLMResult

from agents import fundamental, market_analyst

_PROMPTS = {
    market_analyst.SYSTEM_PROMPT: market_analyst.AGENT,
    fundamental.SYSTEM_PROMPT: fundamental.AGENT,
}


@dataclass(frozen=True)
class ToolCallRecord:
    """One tool call the model asked for, and what came back."""

    name: str
    args: dict[str, Any]
    result: str | None
    """The tool's answer as the model read it; None if the conversation ended before it."""


@dataclass
class Conversation:
    """One analyst's conversation with the model about one ticker."""

    ticker: str
    agent: str
    model_calls: int = 0
    given: list[str] = field(default_factory=list)
    """What the model read as evidence: the human message, then each tool result."""
    tool_calls: list[ToolCallRecord] = field(default_factory=list)
    offered: tuple[str, ...] = ()
    """The tools the model was offered (without `submit_opinion`)."""


@dataclass
class _Call:
    messages: list[BaseMessage]
    offered: tuple[str, ...]
    answer: AIMessage | None = None


class ConversationLog(BaseCallbackHandler):
    """Records every chat model call of a run; `conversations()` groups them."""

    def __init__(self) -> None:
        """Start with no call recorded."""
        self._calls: dict[UUID, _Call] = {}
        self._order: list[UUID] = []
        self._lock = threading.Lock()

    def on_chat_model_start(
        self,
        serialized: dict[str, Any],
        messages: list[list[BaseMessage]],
        *,
        run_id: UUID,
        invocation_params: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        """Keep the conversation sent, and the tools offered."""
        tools = (invocation_params or {}).get("tools") or []
        offered = tuple(
            str(t["function"]["name"])
            for t in tools
            if isinstance(t, dict) and "function" in t and t["function"]["name"] != "submit_opinion"
        )
        with self._lock:
            self._calls[run_id] = _Call(list(messages[0]) if messages else [], offered)
            self._order.append(run_id)

    def on_llm_end(self, response: LLMResult, *, run_id: UUID, **kwargs: Any) -> None:
        """Keep the model's answer."""
        generations = response.generations[0] if response.generations else []
        first = generations[0] if generations else None
        if isinstance(first, ChatGeneration) and isinstance(first.message, AIMessage):
            with self._lock:
                if run_id in self._calls:
                    self._calls[run_id].answer = first.message

    def clear(self) -> None:
        """Forget every call (between scenarios)."""
        with self._lock:
            self._calls.clear()
            self._order.clear()

    def conversations(self) -> list[Conversation]:
        """The calls grouped per (ticker, analyst), in the order they started."""
        with self._lock:
            calls = [self._calls[r] for r in self._order]
        grouped: dict[tuple[str, str], list[_Call]] = {}
        for call in calls:
            key = _identify(call.messages)
            if key is not None:
                grouped.setdefault(key, []).append(call)
        return [_conversation(t, a, cs) for (t, a), cs in grouped.items()]


def _identify(messages: list[BaseMessage]) -> tuple[str, str] | None:
    agent = next(
        (_PROMPTS.get(str(m.content)) for m in messages if isinstance(m, SystemMessage)), None
    )
    human = next((m for m in messages if isinstance(m, HumanMessage)), None)
    if agent is None or human is None:
        return None
    try:
        payload = json.loads(str(human.content))
    except json.JSONDecodeError:
        return None
    ticker = payload.get("ticker") if isinstance(payload, dict) else None
    return (str(ticker), agent) if ticker else None


def _conversation(ticker: str, agent: str, calls: list[_Call]) -> Conversation:
    """Rebuild the whole conversation from its longest call plus that call's answer."""
    last = max(calls, key=lambda c: len(c.messages))
    messages = [*last.messages, *([last.answer] if last.answer is not None else [])]
    results = {m.tool_call_id: str(m.content) for m in messages if isinstance(m, ToolMessage)}
    conv = Conversation(ticker=ticker, agent=agent, model_calls=len(calls), offered=last.offered)
    for message in messages:
        if isinstance(message, HumanMessage | ToolMessage):
            conv.given.append(str(message.content))
        elif isinstance(message, AIMessage):
            for call in message.tool_calls:
                if call["name"] == "submit_opinion":
                    continue
                conv.tool_calls.append(
                    ToolCallRecord(call["name"], dict(call["args"]), results.get(call["id"] or ""))
                )
    return conv
