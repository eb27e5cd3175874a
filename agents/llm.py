"""The chat model behind the analysts, built from its config, and the meter of its use.

`LLMConfig.provider` (`LLM_PROVIDER` in the settings) picks one of three:

- `none` (default): no model; the analysts use their deterministic rules reasoner.
- `openai`: OpenAI's API with `OPENAI_API_KEY` and `LLM_MODEL`.
- `openai-compatible`: any server speaking OpenAI's chat API (Ollama, vLLM, LM Studio...) at
  `OPENAI_BASE_URL`; a key is optional there.

The model is plain LangChain `BaseChatModel`, so tests and benches pass a scripted fake
(`agents/fake_llm.py`) in its place. `UsageMeter` adds up the tokens of every call of a run (from
the models' `usage_metadata`), prices them, and enforces the optional `LLM_TOKEN_BUDGET`.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, SecretStr

from core.errors import ConfigurationError

if TYPE_CHECKING:
    # Annotations only: the settings import `LLMProvider`, and loading the settings must not
    # pay for LangChain.
    from langchain_core.language_models import BaseChatModel
    from langchain_core.messages import AIMessage

LLM_TIMEOUT_S = 60.0
LLM_MAX_RETRIES = 2
"""Transport-level retries inside the OpenAI client (connection errors, 429, 5xx)."""

# USD per million tokens (input, output). Unknown models are counted but priced at zero, and the
# run summary says so rather than inventing a price.
PRICES_PER_MTOK: dict[str, tuple[Decimal, Decimal]] = {
    "gpt-4o-mini": (Decimal("0.15"), Decimal("0.60")),
    "gpt-4o": (Decimal("2.50"), Decimal("10.00")),
    "gpt-4.1-mini": (Decimal("0.40"), Decimal("1.60")),
    "gpt-4.1": (Decimal("2.00"), Decimal("8.00")),
}


KNOWN_TRAINING_CUTOFFS: dict[str, date] = {
    "gpt-4o-mini": date(2023, 10, 1),
    "gpt-4o": date(2023, 10, 1),
    "gpt-4.1-mini": date(2024, 6, 1),
    "gpt-4.1": date(2024, 6, 1),
}
"""The last month each model's training data covers, as its provider documents it. A replay or
an eval of a day before it may be judged by a model that remembers what happened next."""


def training_cutoff(model: str, override: date | None = None) -> date | None:
    """The model's training cutoff: `override` (`LLM_TRAINING_CUTOFF`), else the known one."""
    return override if override is not None else KNOWN_TRAINING_CUTOFFS.get(model)


class LLMProvider(StrEnum):
    """Which chat model the analysts use; `none` means the deterministic rules reasoner."""

    NONE = "none"
    OPENAI = "openai"
    OPENAI_COMPATIBLE = "openai-compatible"


class LLMConfig(BaseModel):
    """Which chat model to build and where it answers (the shell fills it from `LLM_*`)."""

    model_config = ConfigDict(frozen=True)

    provider: LLMProvider = LLMProvider.NONE
    model: str = "gpt-4o-mini"
    api_key: SecretStr | None = None
    base_url: str | None = None
    """Base URL of an OpenAI-compatible server (Ollama, vLLM, ...); None: OpenAI's own."""


def build_chat_model(config: LLMConfig) -> BaseChatModel | None:
    """Return the configured chat model, or None for the rules reasoner."""
    if config.provider is LLMProvider.NONE:
        return None
    from langchain_openai import ChatOpenAI  # imported lazily: rules mode never pays for it

    if config.provider is LLMProvider.OPENAI:
        if config.api_key is None:
            raise ConfigurationError("LLM_PROVIDER=openai needs OPENAI_API_KEY")
        return ChatOpenAI(
            model=config.model,
            api_key=config.api_key,
            base_url=config.base_url,
            timeout=LLM_TIMEOUT_S,
            max_retries=LLM_MAX_RETRIES,
            temperature=0,
        )
    if not config.base_url:
        raise ConfigurationError("LLM_PROVIDER=openai-compatible needs OPENAI_BASE_URL")
    return ChatOpenAI(
        model=config.model,
        # Local servers ignore the key, but the client requires one.
        api_key=config.api_key or SecretStr("not-needed"),
        base_url=config.base_url,
        timeout=LLM_TIMEOUT_S,
        max_retries=LLM_MAX_RETRIES,
        temperature=0,
    )


class LLMUsage(BaseModel):
    """Tokens and cost of a set of calls; adds with `+`. Immutable."""

    model_config = ConfigDict(frozen=True)

    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: Decimal = Decimal(0)
    unpriced_models: tuple[str, ...] = ()

    def __add__(self, other: LLMUsage) -> LLMUsage:
        """Sum two usages (adding nothing, the rules reasoner's case, returns the other)."""
        if other.is_empty:
            return self
        if self.is_empty:
            return other
        return LLMUsage(
            calls=self.calls + other.calls,
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            cost_usd=self.cost_usd + other.cost_usd,
            unpriced_models=tuple(sorted(set(self.unpriced_models) | set(other.unpriced_models))),
        )

    @property
    def is_empty(self) -> bool:
        """No call, token, cost or unpriced model recorded."""
        return not (
            self.calls
            or self.input_tokens
            or self.output_tokens
            or self.cost_usd
            or self.unpriced_models
        )

    @property
    def total_tokens(self) -> int:
        """Input plus output tokens."""
        return self.input_tokens + self.output_tokens


def usage_of(message: AIMessage, model_name: str) -> LLMUsage:
    """Read one answer's token use from its `usage_metadata` and price it."""
    meta = message.usage_metadata
    # Providers (and LangChain's cache hits) may leave keys out: a missing count is zero.
    tokens_in = int(meta.get("input_tokens") or 0) if meta else 0
    tokens_out = int(meta.get("output_tokens") or 0) if meta else 0
    price = PRICES_PER_MTOK.get(model_name)
    if price is None:
        return LLMUsage(
            calls=1,
            input_tokens=tokens_in,
            output_tokens=tokens_out,
            unpriced_models=(model_name,) if model_name else (),
        )
    cost = (Decimal(tokens_in) * price[0] + Decimal(tokens_out) * price[1]) / Decimal(1_000_000)
    return LLMUsage(calls=1, input_tokens=tokens_in, output_tokens=tokens_out, cost_usd=cost)


class BudgetExhausted(Exception):
    """The run's token budget is spent; the caller marks the ticker `budget_exhausted`."""


@dataclass
class UsageMeter:
    """Counts LLM use across concurrent calls and refuses calls past a run's budget.

    Shared by both analysts of a run (they run in parallel), hence the lock. The budget holds
    per run (`run` is the run's id): a context opened once for many runs, as the Studio server
    keeps it, gives each run the whole budget instead of spending it on the first ones.
    `usage` is the total over every run. The budget is checked before a call: a call already
    in flight may overshoot it by its own size.
    """

    model_name: str = ""
    token_budget: int | None = None
    usage: LLMUsage = field(default_factory=LLMUsage)
    _by_run: dict[str, LLMUsage] = field(default_factory=dict, repr=False)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)

    def usage_of_run(self, run: str | int = "") -> LLMUsage:
        """Return one run's usage so far."""
        return self._by_run.get(str(run), LLMUsage())

    async def reserve(self, run: str | int = "") -> None:
        """Raise `BudgetExhausted` when no further call of `run` may start."""
        async with self._lock:
            spent = self.usage_of_run(run).total_tokens
            if self.token_budget is not None and spent >= self.token_budget:
                raise BudgetExhausted(
                    f"LLM token budget of {self.token_budget} spent ({spent} tokens used)"
                )

    async def record(self, message: AIMessage, run: str | int = "") -> LLMUsage:
        """Add one answer's usage to `run` and the total; return that answer's own usage."""
        one = usage_of(message, self.model_name)
        async with self._lock:
            self.usage = self.usage + one
            self._by_run[str(run)] = self.usage_of_run(run) + one
        return one


def model_name_of(model: BaseChatModel) -> str:
    """Best-effort model name of a chat model, for pricing."""
    for attr in ("model_name", "model"):
        value = getattr(model, attr, None)
        if isinstance(value, str):
            return value
    return type(model).__name__
