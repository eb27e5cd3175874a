"""What the target returns for one scenario: the session's decisions and what they cost.

`DecisionRecord` is the run's output as LangSmith stores it (JSON); the evaluators read it
back with `DecisionRecord.model_validate`. Money is int KRW; returns and scores are floats
(they are measurements, never booked).
"""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class SignalRecord(_Frozen):
    """One ticker's combined signal."""

    ticker: str
    status: str
    stance: str | None = None
    conviction: float | None = None


class OpinionRecord(_Frozen):
    """One analyst's opinion, with what it was given when an LLM wrote it."""

    ticker: str
    agent: str
    status: str
    stance: str | None = None
    conviction: float | None = None
    rationale: str = ""
    by_llm: bool = False
    """The LLM judged (its rationale is the model's words, not the rules' template)."""
    given: list[str] | None = None
    """What the model read (the numbers as JSON, then each tool result); None in rules mode."""


class OrderRecord(_Frozen):
    """One order the risk gate proposed."""

    ticker: str
    side: str
    order_type: str
    qty: int
    limit_price_krw: int | None = None
    origin: str


class QuoteRecord(_Frozen):
    """What the gate knew of a ticker's market that day."""

    last_price_krw: int
    prev_close_krw: int
    market: str


class ToolCallOut(_Frozen):
    """One tool call of a conversation."""

    name: str
    args: dict[str, object] = Field(default_factory=dict)
    result: str | None = None


class ConversationRecord(_Frozen):
    """One analyst's conversation with the model about one ticker."""

    ticker: str
    agent: str
    model_calls: int
    offered: list[str] = Field(default_factory=list)
    tool_calls: list[ToolCallOut] = Field(default_factory=list)


class DecisionRecord(_Frozen):
    """The session's decisions on one scenario, and their cost."""

    scenario: str
    as_of: str
    signals: list[SignalRecord] = Field(default_factory=list)
    opinions: list[OpinionRecord] = Field(default_factory=list)
    orders: list[OrderRecord] = Field(default_factory=list)
    risk_notes: list[str] = Field(default_factory=list)
    quotes: dict[str, QuoteRecord] = Field(default_factory=dict)
    unknown: dict[str, str] = Field(default_factory=dict)
    """Tickers that could not be quoted (halted, no price), with the reason."""
    cash_krw: int
    equity_krw: int
    held: dict[str, int] = Field(default_factory=dict)
    """Shares held per ticker before the session."""
    held_value_krw: dict[str, int] = Field(default_factory=dict)
    conversations: list[ConversationRecord] = Field(default_factory=list)
    max_tool_calls: int
    llm_calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: Decimal = Decimal(0)
    priced: bool = True
    """False when the model has no known price (its cost is counted in tokens only)."""
    latency_s: float
    decisions: int
    """Tickers the session decided on (one signal each): the unit of cost and latency."""
