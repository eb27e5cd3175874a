"""An importable fake chat model for the analysts: it answers with `submit_opinion` calls.

It reads the conversation's last message (the analyst's JSON payload), takes the rules reading
in it and answers with the same stance and horizon but a conviction of at least `floor`, so a
run with it decides differently from the rules reasoner. Every call is logged in `calls`, which
copies of the model share, so a test can count what reached the "provider".
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import Field

from agents.analyst import SUBMIT_TOOL


class OpinionChatModel(BaseChatModel):
    """Answers every analyst conversation with one `submit_opinion` tool call."""

    model_name: str = "fake-opinion-1"
    floor: Decimal = Decimal("0.9")
    calls: list[str] = Field(default_factory=list)
    """Tickers asked about, one entry per call (shared by copies of the model)."""

    @property
    def _llm_type(self) -> str:
        return "fake-opinion"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_name": self.model_name, "floor": str(self.floor)}

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        return self.bind(tools=[convert_to_openai_tool(t) for t in tools], **kwargs)

    def _answer(self, messages: list[BaseMessage]) -> ChatResult:
        text = messages[-1].content
        assert isinstance(text, str)
        payload = json.loads(text)
        rules = payload["rules_reading"]
        self.calls.append(payload["ticker"])
        conviction = max(Decimal(str(rules["conviction"])), self.floor)
        if rules["stance"] == "hold":
            conviction = Decimal("0.5")
        args = {
            "stance": rules["stance"],
            "conviction": str(conviction),
            "horizon": rules["horizon"],
            "rationale": f"fake model, sure of it: {rules['rationale'][:120]}",
        }
        call_id = "call_" + hashlib.sha256(text.encode()).hexdigest()[:16]
        message = AIMessage(
            content="",
            tool_calls=[{"name": SUBMIT_TOOL, "args": args, "id": call_id, "type": "tool_call"}],
            usage_metadata={"input_tokens": 120, "output_tokens": 30, "total_tokens": 150},
        )
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return self._answer(messages)

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return self._answer(messages)
