"""The target of an evaluation: the session's decision graph run on one scenario.

It is the backtester's replay driver (`evals.backtest.twin.AgentsStrategy`) run for a single
day: the same nodes that trade (load_context, both analysts, signals, risk_manager) on the
scenario's bars, book and recorded economic data, with a `ConversationLog` on the run to see
what the LLM read and asked for. Nothing after the scenario's date is in reach: the bars end
on it and the outcome is only in the evaluators' reference.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from langchain_core.language_models import BaseChatModel

from agents.llm import LLMUsage
from agents.risk.limits import RiskLimits
from agents.state import read_context, read_opinions, read_risk_report, read_signals
from evals.agents_eval.conversations import Conversation, ConversationLog
from evals.agents_eval.records import (
    ConversationRecord,
    DecisionRecord,
    OpinionRecord,
    OrderRecord,
    QuoteRecord,
    SignalRecord,
    ToolCallOut,
)
from evals.agents_eval.scenarios import Dataset, Scenario
from evals.backtest.orders import PortfolioSnapshot
from evals.backtest.twin import AgentsStrategy
from evals.backtest.view import MarketData
from tools.krx.costs import CostModel

Target = Callable[[dict[str, Any]], dict[str, Any]]


def make_target(
    dataset: Dataset,
    *,
    llm: BaseChatModel | None = None,
    limits: RiskLimits | None = None,
    cost_model: CostModel | None = None,
) -> Target:
    """Return the function `langsmith.evaluate` calls with each example's inputs."""

    def target(inputs: dict[str, Any]) -> dict[str, Any]:
        scenario = dataset.by_id(str(inputs["scenario"]))
        record = decide(scenario, llm=llm, limits=limits, cost_model=cost_model)
        return record.model_dump(mode="json")

    return target


def _snapshot(scenario: Scenario, market: MarketData) -> PortfolioSnapshot:
    view = market.view(len(market) - 1)
    held_value = 0.0
    for ticker, holding in scenario.holdings.items():
        close = view.last_close(ticker)
        if close is not None and close == close:  # NaN: the value is unknown, not zero
            held_value += holding.qty * close
    equity = scenario.cash_krw + held_value
    return PortfolioSnapshot(
        day=scenario.as_of,
        cash=Decimal(scenario.cash_krw),
        positions={t: h.qty for t, h in scenario.holdings.items()},
        equity=equity,
        cost_basis={t: Decimal(h.cost_krw) for t, h in scenario.holdings.items()},
        peak_equity=equity,
    )


def decide(
    scenario: Scenario,
    *,
    llm: BaseChatModel | None = None,
    limits: RiskLimits | None = None,
    cost_model: CostModel | None = None,
) -> DecisionRecord:
    """Run the decision graph on the scenario's day and record what it decided."""
    market = MarketData(list(scenario.bars))
    log = ConversationLog()
    snapshot = _snapshot(scenario, market)
    with AgentsStrategy(
        market,
        limits=limits,
        cost_model=cost_model,
        llm=llm,
        markets=scenario.markets,
        econ=scenario.econ,
        portfolio=f"eval-{scenario.id}"[:40],
        callbacks=[log],
    ) as strategy:
        started = time.perf_counter()
        state = strategy.run_day(market.view(len(market) - 1), snapshot)
        latency = time.perf_counter() - started
        max_tool_calls = strategy.context.llm_max_tool_calls
    context = read_context(state)
    usage = LLMUsage.model_validate(state.get("llm_usage") or {})
    conversations = {(c.ticker, c.agent): c for c in log.conversations()}
    signals = read_signals(state)
    return DecisionRecord(
        scenario=scenario.id,
        as_of=scenario.as_of.isoformat(),
        signals=[
            SignalRecord(
                ticker=s.ticker,
                status=s.status.value,
                stance=s.stance.value if s.stance else None,
                conviction=float(s.conviction) if s.conviction is not None else None,
            )
            for s in signals
        ],
        opinions=[
            _opinion(o.ticker, o.agent, o, conversations.get((o.ticker, o.agent)), llm)
            for o in read_opinions(state)
        ],
        orders=[
            OrderRecord(
                ticker=o.ticker,
                side=o.side.value,
                order_type=o.order_type.value,
                qty=o.qty,
                limit_price_krw=o.limit_price_krw,
                origin=o.origin.value,
            )
            for o in read_risk_report(state).orders
        ],
        risk_notes=read_risk_report(state).lines(),
        quotes={
            t: QuoteRecord(
                last_price_krw=m.last_price_krw,
                prev_close_krw=m.prev_close_krw,
                market=m.market.value,
            )
            for t, m in context.market.items()
        },
        unknown=dict(context.unknown_tickers),
        cash_krw=scenario.cash_krw,
        equity_krw=int(snapshot.equity),
        held=dict(snapshot.positions),
        held_value_krw={
            t: int(h.qty * context.market[t].last_price_krw)
            for t, h in scenario.holdings.items()
            if t in context.market
        },
        conversations=[_conversation(c) for c in conversations.values()],
        max_tool_calls=max_tool_calls,
        llm_calls=usage.calls,
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        cost_usd=usage.cost_usd,
        priced=not usage.unpriced_models,
        latency_s=latency,
        decisions=max(len(signals), 1),
    )


def _opinion(
    ticker: str,
    agent: str,
    opinion: Any,
    conversation: Conversation | None,
    llm: BaseChatModel | None,
) -> OpinionRecord:
    return OpinionRecord(
        ticker=ticker,
        agent=agent,
        status=opinion.status.value,
        stance=opinion.stance.value if opinion.stance else None,
        conviction=float(opinion.conviction) if opinion.conviction is not None else None,
        rationale=opinion.rationale,
        by_llm=llm is not None and conversation is not None and opinion.stance is not None,
        given=list(conversation.given) if conversation is not None else None,
    )


def _conversation(conv: Conversation) -> ConversationRecord:
    return ConversationRecord(
        ticker=conv.ticker,
        agent=conv.agent,
        model_calls=conv.model_calls,
        offered=list(conv.offered),
        tool_calls=[
            ToolCallOut(name=c.name, args=c.args, result=c.result) for c in conv.tool_calls
        ],
    )
