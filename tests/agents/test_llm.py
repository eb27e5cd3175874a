"""The chat-model factory (no network: building a client sends nothing) and the usage meter."""

from __future__ import annotations

from decimal import Decimal

import pytest
from langchain_core.messages import AIMessage
from langchain_openai import ChatOpenAI
from pydantic import SecretStr

from agents.llm import (
    LLM_MAX_RETRIES,
    LLM_TIMEOUT_S,
    BudgetExhausted,
    LLMConfig,
    LLMProvider,
    LLMUsage,
    UsageMeter,
    build_chat_model,
    model_name_of,
    usage_of,
)
from core.errors import ConfigurationError
from trader.settings import load_settings
from trader.wiring.configs import llm_config

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _answer(tokens_in: int, tokens_out: int) -> AIMessage:
    return AIMessage(
        content="",
        usage_metadata={
            "input_tokens": tokens_in,
            "output_tokens": tokens_out,
            "total_tokens": tokens_in + tokens_out,
        },
    )


def test_no_provider_means_the_rules_reasoner() -> None:
    assert build_chat_model(LLMConfig()) is None


def test_openai_builds_chat_openai_with_key_and_model() -> None:
    settings = load_settings(
        llm_provider="openai", openai_api_key=SecretStr("sk-test-123"), llm_model="gpt-4.1-mini"
    )
    model = build_chat_model(llm_config(settings))
    assert isinstance(model, ChatOpenAI)
    assert model.model_name == "gpt-4.1-mini"
    assert model.openai_api_base is None  # OpenAI's own endpoint
    assert model.openai_api_key is not None
    assert model.openai_api_key.get_secret_value() == "sk-test-123"
    assert model.request_timeout == LLM_TIMEOUT_S
    assert model.max_retries == LLM_MAX_RETRIES
    assert model.temperature == 0
    assert model_name_of(model) == "gpt-4.1-mini"


def test_openai_compatible_points_at_the_configured_server() -> None:
    settings = load_settings(
        llm_provider="openai-compatible",
        openai_base_url="http://127.0.0.1:11434/v1",
        llm_model="qwen2.5:7b",
    )
    model = build_chat_model(llm_config(settings))
    assert isinstance(model, ChatOpenAI)
    assert model.openai_api_base == "http://127.0.0.1:11434/v1"
    assert model.model_name == "qwen2.5:7b"
    # Local servers take no key; the client still needs a placeholder.
    assert model.openai_api_key is not None
    assert model.openai_api_key.get_secret_value() == "not-needed"


def test_openai_compatible_keeps_a_configured_key() -> None:
    settings = load_settings(
        llm_provider="openai-compatible",
        openai_base_url="https://llm.internal/v1",
        openai_api_key=SecretStr("sk-internal"),
    )
    model = build_chat_model(llm_config(settings))
    assert isinstance(model, ChatOpenAI)
    assert model.openai_api_key is not None
    assert model.openai_api_key.get_secret_value() == "sk-internal"


def test_missing_key_is_a_configuration_error() -> None:
    # Settings refuse the combination up front...
    with pytest.raises(ConfigurationError, match="OPENAI_API_KEY"):
        load_settings(llm_provider="openai")
    # ...and the factory refuses it too when handed a config built some other way.
    with pytest.raises(ConfigurationError, match="OPENAI_API_KEY"):
        build_chat_model(LLMConfig(provider=LLMProvider.OPENAI))
    with pytest.raises(ConfigurationError, match="OPENAI_BASE_URL"):
        build_chat_model(LLMConfig(provider=LLMProvider.OPENAI_COMPATIBLE))


def test_known_model_is_priced_per_million_tokens() -> None:
    usage = usage_of(_answer(1_000, 500), "gpt-4o-mini")
    # 1000 * 0.15 + 500 * 0.60 USD per million tokens
    assert usage == LLMUsage(
        calls=1, input_tokens=1_000, output_tokens=500, cost_usd=Decimal("0.00045")
    )
    assert usage_of(_answer(2_000_000, 1_000_000), "gpt-4o").cost_usd == Decimal("15")


def test_unknown_model_is_counted_but_not_priced() -> None:
    usage = usage_of(_answer(300, 40), "qwen2.5:7b")
    assert (usage.input_tokens, usage.output_tokens, usage.cost_usd) == (300, 40, Decimal(0))
    assert usage.unpriced_models == ("qwen2.5:7b",)
    # An answer without usage metadata counts as a call of zero tokens.
    assert usage_of(AIMessage(content="x"), "gpt-4o").total_tokens == 0


def test_usages_add_up() -> None:
    total = usage_of(_answer(100, 10), "gpt-4o-mini") + usage_of(_answer(50, 5), "local")
    assert (total.calls, total.input_tokens, total.output_tokens) == (2, 150, 15)
    assert total.cost_usd == Decimal("0.0000210")
    assert total.unpriced_models == ("local",)


async def test_meter_sums_calls_and_stops_at_the_budget() -> None:
    meter = UsageMeter(model_name="gpt-4o-mini", token_budget=1_000)
    await meter.reserve()
    one = await meter.record(_answer(600, 100))
    assert one.total_tokens == 700
    await meter.reserve()  # 700 < 1000: one more call may start
    await meter.record(_answer(400, 50))
    assert meter.usage.total_tokens == 1_150
    assert meter.usage.calls == 2
    assert meter.usage.cost_usd == Decimal("0.00024")  # 1000 * 0.15 + 150 * 0.60
    with pytest.raises(BudgetExhausted, match="1000"):
        await meter.reserve()


async def test_meter_without_budget_never_refuses() -> None:
    meter = UsageMeter(model_name="gpt-4o")
    await meter.record(_answer(10_000_000, 0))
    await meter.reserve()
    assert meter.usage.cost_usd == Decimal("25")


async def test_the_budget_holds_per_run() -> None:
    # One context serves many runs under `langgraph dev`: each run gets the whole budget.
    meter = UsageMeter(model_name="gpt-4o-mini", token_budget=500)
    await meter.record(_answer(450, 100), run=1)
    with pytest.raises(BudgetExhausted):
        await meter.reserve(run=1)
    await meter.reserve(run=2)
    await meter.record(_answer(100, 10), run=2)
    assert meter.usage_of_run(1).total_tokens == 550
    assert meter.usage_of_run(2).total_tokens == 110
    assert meter.usage.total_tokens == 660
    assert meter.usage.calls == 2
