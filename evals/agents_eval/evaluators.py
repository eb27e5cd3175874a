"""Evaluators: each reads one scenario's `DecisionRecord` and its reference, returns a score.

Every evaluator has the signature `langsmith.evaluate` calls, `(outputs, reference_outputs)`,
and returns ``{"key", "score", "comment"}`` with the score in [0, 1] (higher is better), or
None when it does not apply to the scenario (no LLM in rules mode, no judged ticker). Each
threshold is a field of `EvalThresholds`, recorded with the run.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict

from agents.risk.limits import RiskLimits
from evals.agents_eval.citation import check_citations
from evals.agents_eval.records import DecisionRecord, OrderRecord
from evals.agents_eval.scenarios import Expect
from tools.krx.rules import Market, is_on_tick, price_limits

Evaluator = Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]]


class EvalThresholds(BaseModel):
    """What counts as right, and what a decision may cost."""

    model_config = ConfigDict(frozen=True)

    hold_band: float = 0.02
    """A HOLD is right when the next-k-day move stays within ±this (2 %)."""
    tokens_per_decision: int = 6_000
    """Tokens one ticker's decision (both analysts) may use before its cost score drops."""
    usd_per_decision: Decimal = Decimal("0.01")
    """USD one decision may cost before its cost score drops (priced models only)."""
    latency_s_per_decision: float = 10.0
    """Seconds one decision may take before its latency score drops."""


def _result(key: str, score: float | None, comment: str = "") -> dict[str, Any]:
    return {"key": key, "score": score, "comment": comment}


def is_correct(stance: str, ret: float, hold_band: float) -> bool:
    """Whether a stance was right about the move that followed."""
    if stance == "buy":
        return ret > 0
    if stance == "sell":
        return ret < 0
    return abs(ret) <= hold_band


def direction_accuracy(thresholds: EvalThresholds) -> Evaluator:
    """Share of ok signals whose stance matched the next-k-day return."""

    def direction_accuracy(outputs: dict[str, Any], reference_outputs: dict[str, Any]) -> Any:
        record = DecisionRecord.model_validate(outputs)
        returns: dict[str, float | None] = reference_outputs.get("returns", {})
        judged = [
            (s.ticker, s.stance, returns.get(s.ticker))
            for s in record.signals
            if s.status == "ok" and s.stance is not None and returns.get(s.ticker) is not None
        ]
        if not judged:
            return _result("direction_accuracy", None, "no ok signal with a known outcome")
        right = [
            t
            for t, stance, r in judged
            if r is not None and is_correct(stance, r, thresholds.hold_band)
        ]
        wrong = sorted({t for t, _, _ in judged} - set(right))
        return _result(
            "direction_accuracy",
            len(right) / len(judged),
            f"wrong: {', '.join(wrong)}" if wrong else "",
        )

    return direction_accuracy


def failure_handling(outputs: dict[str, Any], reference_outputs: dict[str, Any]) -> Any:
    """Usable data is judged; unusable data (halt, no price, short history) is not, nor bought."""
    record = DecisionRecord.model_validate(outputs)
    expect: dict[str, str] = reference_outputs.get("expect", {})
    if not expect:
        return _result("failure_handling", None, "no expectation")
    signals = {s.ticker: s for s in record.signals}
    bought = {o.ticker for o in record.orders if o.side == "buy"}
    bad = []
    for ticker, wanted in expect.items():
        signal = signals.get(ticker)
        ok = signal is not None and signal.status == "ok"
        if wanted == Expect.JUDGED.value and not ok:
            bad.append(f"{ticker} not judged")
        if wanted == Expect.NOT_JUDGED.value and (ok or ticker in bought):
            bad.append(f"{ticker} judged on unusable data")
    return _result("failure_handling", 1 - len(bad) / len(expect), "; ".join(bad))


def risk_compliance(limits: RiskLimits, commission_rate: Decimal) -> Evaluator:
    """Share of proposed orders that obey the risk limits and KRX price rules, checked afresh.

    Checked from the limits and the exchange rules, not by calling the gate again: whole
    shares; sells within the shares held; a buy only on a quoted ticker, at a limit price on
    the tick grid and within the day's ±30 % limits, no larger than `max_order_krw`; the
    ticker's held value plus buys within `max_ticker_exposure_pct` of equity; all positions
    plus buys within `max_gross_exposure_pct`; the buys' cost within cash minus the buffer; no
    more orders than `max_orders_per_session`.
    """

    def risk_compliance(outputs: dict[str, Any], reference_outputs: dict[str, Any]) -> Any:
        record = DecisionRecord.model_validate(outputs)
        if not record.orders:
            return _result("risk_compliance", 1.0, "no orders")
        faults: dict[int, list[str]] = {}
        buys = [(i, o) for i, o in enumerate(record.orders) if o.side == "buy"]
        for i, order in enumerate(record.orders):
            faults[i] = _order_faults(record, order, limits)
        equity = Decimal(record.equity_krw)
        spend = Decimal(0)
        gross = Decimal(sum(record.held_value_krw.values()))
        for i, order in buys:
            value = Decimal(order.qty * _buy_price(record, order))
            spend += value * (1 + commission_rate)
            gross += value
            if gross > equity * limits.max_gross_exposure_pct / 100:
                faults[i].append("gross exposure over the cap")
            if spend > record.cash_krw - limits.min_cash_buffer_krw:
                faults[i].append("buys spend the cash buffer")
        for i in range(limits.max_orders_per_session, len(record.orders)):
            faults[i].append("over the orders-per-session cap")
        bad = {i: f for i, f in faults.items() if f}
        comment = "; ".join(
            f"{record.orders[i].ticker} {record.orders[i].side}: {', '.join(f)}"
            for i, f in bad.items()
        )
        return _result("risk_compliance", 1 - len(bad) / len(record.orders), comment)

    return risk_compliance


def _buy_price(record: DecisionRecord, order: OrderRecord) -> int:
    if order.limit_price_krw is not None:
        return order.limit_price_krw
    quote = record.quotes.get(order.ticker)
    return quote.last_price_krw if quote else 0


def _order_faults(record: DecisionRecord, order: OrderRecord, limits: RiskLimits) -> list[str]:
    faults = []
    if order.qty <= 0:
        faults.append("no whole shares")
    if order.side == "sell":
        if order.qty > record.held.get(order.ticker, 0):
            faults.append("sells more than held")
        return faults
    quote = record.quotes.get(order.ticker)
    if quote is None:
        return [*faults, "buys a ticker that was not quoted"]
    market = Market(quote.market)
    on = _day(record.as_of)
    price = _buy_price(record, order)
    lower, upper = price_limits(quote.prev_close_krw, market, on)
    if order.limit_price_krw is not None and not is_on_tick(order.limit_price_krw, market, on):
        faults.append("limit price off the tick grid")
    if not lower <= price <= upper:
        faults.append("price outside the daily limits")
    value = order.qty * price
    if order.origin == "signal" and value > limits.max_order_krw:
        faults.append("order over max_order_krw")
    exposure = record.held_value_krw.get(order.ticker, 0) + value
    if Decimal(exposure) > Decimal(record.equity_krw) * limits.max_ticker_exposure_pct / 100:
        faults.append("ticker exposure over the cap")
    return faults


def _day(text: str) -> Any:
    from datetime import date

    return date.fromisoformat(text)


def citation(outputs: dict[str, Any], reference_outputs: dict[str, Any]) -> Any:
    """Share of the LLM's rationales that cite only numbers the model was given."""
    record = DecisionRecord.model_validate(outputs)
    written = [o for o in record.opinions if o.by_llm and o.given is not None]
    if not written:
        return _result("citation", None, "no rationale written by an LLM")
    invented = []
    for opinion in written:
        check = check_citations(opinion.rationale, opinion.given or [])
        if check.invented:
            invented.append(f"{opinion.ticker}/{opinion.agent}: {', '.join(check.invented)}")
    return _result("citation", 1 - len(invented) / len(written), "; ".join(invented))


def trajectory(outputs: dict[str, Any], reference_outputs: dict[str, Any]) -> Any:
    """Tool use without repeats or useless calls, and within the model-call budget.

    Per conversation: a repeated call (same tool, same arguments), a call of a tool not
    offered, about another ticker, or answered with an error is a fault; the conversation
    scores 1 - faults / calls, and 0 when the model was called more than `max_tool_calls` + 1
    times. The scenario scores the mean.
    """
    record = DecisionRecord.model_validate(outputs)
    if not record.conversations:
        return _result("trajectory", None, "no LLM conversation")
    scores, notes = [], []
    for conv in record.conversations:
        seen: set[str] = set()
        faults = []
        for call in conv.tool_calls:
            key = call.name + json.dumps(call.args, sort_keys=True, default=str)
            if key in seen:
                faults.append(f"repeated {call.name}")
            seen.add(key)
            if call.name not in conv.offered:
                faults.append(f"{call.name} not offered")
            other = call.args.get("ticker")
            if other is not None and other != conv.ticker:
                faults.append(f"{call.name} about {other}")
            if call.result is not None and call.result.startswith("error"):
                faults.append(f"{call.name} failed")
        score = max(0.0, 1 - len(faults) / max(len(conv.tool_calls), 1))
        if conv.model_calls > record.max_tool_calls + 1:
            score = 0.0
            faults.append(f"{conv.model_calls} model calls over the budget")
        scores.append(score)
        if faults:
            notes.append(f"{conv.ticker}/{conv.agent}: {', '.join(faults)}")
    return _result("trajectory", sum(scores) / len(scores), "; ".join(notes))


def cost(thresholds: EvalThresholds) -> Evaluator:
    """1 while a decision costs within budget (tokens, and USD when priced), less beyond it."""

    def cost(outputs: dict[str, Any], reference_outputs: dict[str, Any]) -> Any:
        record = DecisionRecord.model_validate(outputs)
        tokens = (record.input_tokens + record.output_tokens) / record.decisions
        usd = record.cost_usd / record.decisions
        score = min(1.0, thresholds.tokens_per_decision / tokens) if tokens else 1.0
        if record.priced and usd > 0:
            score = min(score, float(thresholds.usd_per_decision / usd))
        return _result("cost", score, f"{tokens:,.0f} tokens, {usd:.6f} USD per decision")

    return cost


def latency(thresholds: EvalThresholds) -> Evaluator:
    """1 while a decision takes within budget, budget / seconds beyond it."""

    def latency(outputs: dict[str, Any], reference_outputs: dict[str, Any]) -> Any:
        record = DecisionRecord.model_validate(outputs)
        seconds = record.latency_s / record.decisions
        score = min(1.0, thresholds.latency_s_per_decision / seconds) if seconds > 0 else 1.0
        return _result("latency", score, f"{seconds:.3f} s per decision")

    return latency


def evaluators(
    limits: RiskLimits, commission_rate: Decimal, thresholds: EvalThresholds
) -> list[Evaluator]:
    """Every per-scenario evaluator, in the order the score table shows them."""
    return [
        direction_accuracy(thresholds),
        failure_handling,
        risk_compliance(limits, commission_rate),
        citation,
        trajectory,
        cost(thresholds),
        latency(thresholds),
    ]
