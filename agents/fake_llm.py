"""A scripted tool-calling chat model, for tests, benches and offline runs without an LLM.

`ScriptedChatModel` is a real LangChain `BaseChatModel`, so it goes through the very code path a
hosted model does (`bind_tools`, `ainvoke`, tool calls, `usage_metadata`). It behaves like a
careful tool-calling model:

- on the first turn of a ticker, when `tool_first` is on and data tools are offered, it asks for
  one of them (chosen by a stable hash of the ticker, so a watchlist covers every tool);
- once it has tool results (or with `tool_first` off) it calls `submit_opinion`, following the
  `rules_reading` of the human message: same stance and horizon, conviction scaled by
  `conviction_scale`, and a rationale citing the first numbers of the payload;
- it reports token use proportional to the text it read and wrote (about 4 characters a token),
  so the run's token accounting and budget are exercised for real;
- it may wait `latency_s` per call (benches), and misbehave on chosen tickers (`failures`):
  raise (the analyst records `llm_failed`), answer prose without a tool call, or call
  `submit_opinion` with a conviction of 7 (both `llm_unparseable`), or cite a number it was
  never given (`invent`: a valid opinion, which the citation evaluator must catch).

Every call is recorded in `calls` (ticker, analyst, tools offered, tool results read, answer),
so a test can check what the model saw and did.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    ToolCall,
    ToolMessage,
)
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import ConfigDict, Field, PrivateAttr

SUBMIT_TOOL = "submit_opinion"
CHARS_PER_TOKEN = 4
Failure = Literal["error", "nonsense", "invalid", "invent"]
"""How the model misbehaves on a ticker: raise, answer prose, submit conviction 7, or submit a
valid opinion whose rationale cites a figure it was never given (`INVENTED_FIGURE`)."""
INVENTED_FIGURE = "987,654"
"""The made-up target price an `invent` answer cites (no payload holds it)."""
Answer = Literal["tool_call", "submit", "error", "nonsense", "invalid"]


class ScriptedLLMError(RuntimeError):
    """The failure the scripted model raises on a ticker scripted to fail (`"error"`)."""


@dataclass(frozen=True)
class ToolResult:
    """A tool result the model read: which tool, and what it returned."""

    name: str
    content: str


@dataclass(frozen=True)
class FakeCall:
    """One call of the scripted model, as recorded."""

    seq: int
    """Order in which the calls started (0, 1, ...)."""
    ticker: str
    agent: str
    """"market_analyst" or "fundamental", read from the system prompt ("" if neither)."""
    tools_offered: tuple[str, ...]
    tool_results: tuple[ToolResult, ...]
    """The ToolMessages in the conversation so far."""
    answer: Answer
    tool_calls: tuple[ToolCall, ...] = ()
    input_tokens: int = 0
    output_tokens: int = 0


@dataclass
class _Recorder:
    calls: list[FakeCall] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    started: int = 0

    def next_seq(self) -> int:
        with self.lock:
            seq = self.started
            self.started += 1
            return seq

    def add(self, call: FakeCall) -> None:
        with self.lock:
            self.calls.append(call)


class ScriptedChatModel(BaseChatModel):
    """A deterministic tool-calling chat model (see the module docstring)."""

    model_config = ConfigDict(protected_namespaces=(), arbitrary_types_allowed=True)

    model_name: str = "fake-model"
    tool_first: bool = True
    """Ask for one data tool before answering (when the analyst offers any)."""
    conviction_scale: Decimal = Decimal("0.9")
    latency_s: float = 0.0
    failures: dict[str, Failure] = Field(default_factory=dict)
    """Ticker -> how the model fails on it (for every analyst)."""
    sleep: Callable[[float], Any] | None = None
    """The async sleep used for `latency_s` (default `asyncio.sleep`)."""

    _recorder: _Recorder = PrivateAttr(default_factory=_Recorder)

    @property
    def _llm_type(self) -> str:
        return "scripted-fake"

    @property
    def calls(self) -> list[FakeCall]:
        """Every call so far, in the order they finished."""
        with self._recorder.lock:
            return list(self._recorder.calls)

    def calls_for(self, ticker: str, agent: str | None = None) -> list[FakeCall]:
        """The calls about one ticker (of one analyst, if given)."""
        return [c for c in self.calls if c.ticker == ticker and (agent is None or c.agent == agent)]

    @property
    def total_input_tokens(self) -> int:
        """Input tokens reported over every call."""
        return sum(c.input_tokens for c in self.calls)

    @property
    def total_output_tokens(self) -> int:
        """Output tokens reported over every call."""
        return sum(c.output_tokens for c in self.calls)

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        *,
        tool_choice: str | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """Return the model bound to the tools, passed to each call as OpenAI definitions."""
        formatted = [convert_to_openai_tool(t) for t in tools]
        return self.bind(tools=formatted, **kwargs)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        seq = self._recorder.next_seq()
        if self.latency_s > 0:
            time.sleep(self.latency_s)
        return self._answer(seq, messages, kwargs.get("tools") or [])

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        seq = self._recorder.next_seq()
        if self.latency_s > 0:
            await (self.sleep or asyncio.sleep)(self.latency_s)
        return self._answer(seq, messages, kwargs.get("tools") or [])

    # -- the script --------------------------------------------------------------------------

    def _answer(
        self, seq: int, messages: list[BaseMessage], tools: list[dict[str, Any]]
    ) -> ChatResult:
        payload = _payload(messages)
        ticker = str(payload.get("ticker", ""))
        agent = _agent(messages)
        offered = {t["function"]["name"]: t["function"] for t in tools if "function" in t}
        results = _tool_results(messages)
        failure = self.failures.get(ticker)
        answer: Answer
        calls: list[ToolCall] = []
        content = ""
        if failure == "error":
            self._recorder.add(
                FakeCall(seq, ticker, agent, tuple(offered), results, "error", (), 0, 0)
            )
            raise ScriptedLLMError(f"scripted failure for {ticker}")
        data_tools = sorted(name for name in offered if name != SUBMIT_TOOL)
        if failure == "nonsense":
            answer, content = "nonsense", "The moon is made of kimchi; I decline to say more."
        elif self.tool_first and data_tools and not results:
            name = data_tools[zlib.crc32(ticker.encode()) % len(data_tools)]
            params = offered[name].get("parameters", {}).get("properties", {})
            args = {"ticker": ticker} if "ticker" in params else {}
            answer = "tool_call"
            calls.append(ToolCall(name=name, args=args, id=f"call_{seq}_{name}", type="tool_call"))
        elif SUBMIT_TOOL in offered:
            args = self._opinion_args(
                payload, results, invalid=failure == "invalid", invent=failure == "invent"
            )
            answer = "invalid" if failure == "invalid" else "submit"
            calls.append(
                ToolCall(name=SUBMIT_TOOL, args=args, id=f"call_{seq}_submit", type="tool_call")
            )
        else:
            answer, content = "nonsense", "No submit_opinion tool was offered."
        input_tokens = _tokens(sum(len(_text(m)) for m in messages) + len(json.dumps(tools)))
        output_tokens = _tokens(len(content) + len(json.dumps([dict(c) for c in calls])))
        message = AIMessage(
            content=content,
            tool_calls=calls,
            usage_metadata={
                "input_tokens": input_tokens,
                "output_tokens": output_tokens,
                "total_tokens": input_tokens + output_tokens,
            },
            response_metadata={"model_name": self.model_name},
        )
        self._recorder.add(
            FakeCall(
                seq,
                ticker,
                agent,
                tuple(offered),
                results,
                answer,
                tuple(calls),
                input_tokens,
                output_tokens,
            )
        )
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _opinion_args(
        self,
        payload: dict[str, Any],
        results: tuple[ToolResult, ...],
        *,
        invalid: bool,
        invent: bool = False,
    ) -> dict[str, Any]:
        reading = payload.get("rules_reading") or {}
        stance = str(reading.get("stance", "hold"))
        base = Decimal(str(reading.get("conviction", "0.5")))
        conviction = min(max(base * self.conviction_scale, Decimal(0)), Decimal(1))
        numbers = payload.get("indicators") or payload.get("fundamentals") or {}
        cited = ", ".join(f"{k}={v}" for k, v in list(numbers.items())[:3])
        seen = ", ".join(r.name for r in results) or "none"
        return {
            "stance": stance,
            "conviction": 7 if invalid else float(round(conviction, 4)),
            "horizon": str(reading.get("horizon", "days")),
            "rationale": (
                f"[{self.model_name}] follows the rules reading ({stance} at {base}); "
                f"cites {cited}; tools read: {seen}"
                + (f"; target price {INVENTED_FIGURE} KRW" if invent else "")
            ),
        }


def _text(message: BaseMessage) -> str:
    content = message.content
    text = content if isinstance(content, str) else json.dumps(content)
    if isinstance(message, AIMessage) and message.tool_calls:
        text += json.dumps([dict(c) for c in message.tool_calls], default=str)
    return text


def _tokens(chars: int) -> int:
    return max(1, chars // CHARS_PER_TOKEN)


def _payload(messages: list[BaseMessage]) -> dict[str, Any]:
    """The JSON of the first human message (the analyst's numbers), or {}."""
    for message in messages:
        if isinstance(message, HumanMessage) and isinstance(message.content, str):
            try:
                data = json.loads(message.content)
            except json.JSONDecodeError:
                return {}
            return data if isinstance(data, dict) else {}
    return {}


def _agent(messages: list[BaseMessage]) -> str:
    for message in messages:
        if isinstance(message, SystemMessage) and isinstance(message.content, str):
            text = message.content.lower()
            if "market analyst" in text:
                return "market_analyst"
            if "fundamental analyst" in text:
                return "fundamental"
    return ""


def _tool_results(messages: list[BaseMessage]) -> tuple[ToolResult, ...]:
    names: dict[str, str] = {}
    out: list[ToolResult] = []
    for message in messages:
        if isinstance(message, AIMessage):
            for call in message.tool_calls:
                if call["id"]:
                    names[call["id"]] = call["name"]
        elif isinstance(message, ToolMessage):
            content = message.content if isinstance(message.content, str) else str(message.content)
            out.append(ToolResult(names.get(message.tool_call_id, ""), content))
    return tuple(out)
