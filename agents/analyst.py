"""What both analysts share: judging every ticker concurrently, and the LLM's judgement.

An analyst computes its numbers in code, then either its rules reasoner or the LLM judges them.
In LLM mode each ticker gets one conversation: the model may call the analyst's tools (at most
`max_tool_calls` rounds), and must answer by calling `submit_opinion`, whose arguments are the
typed `LLMJudgement`. Every way this can go wrong ends as an explicit status on that ticker:

- the LLM call raises (network, quota, server): `llm_failed`;
- the answer is not a valid `submit_opinion` call (nonsense, out-of-range conviction,
  tool rounds exhausted): `llm_unparseable`;
- the run's token budget is spent: `budget_exhausted`, and no further calls are made.

None of these becomes a HOLD. One ticker's failure never touches the others.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.tools import BaseTool
from pydantic import BaseModel, Field, ValidationError

from agents.context import SessionContext
from agents.llm import BudgetExhausted, LLMUsage, UsageMeter
from agents.schemas import AnalystOpinion, Horizon
from agents.state import SessionContextData, dump
from core.errors import TraderError
from db.models import SignalStatus, Stance

log = logging.getLogger(__name__)

SUBMIT_TOOL = "submit_opinion"


class LLMJudgement(BaseModel):
    """What the LLM must answer for one ticker (the `submit_opinion` tool's arguments)."""

    stance: Stance = Field(description="buy, sell or hold")
    conviction: Decimal = Field(ge=0, le=1, description="confidence in the stance, 0 to 1")
    horizon: Horizon = Field(description="intraday, days, weeks or months")
    rationale: str = Field(min_length=1, max_length=2000, description="why, citing the numbers")


@dataclass(frozen=True, slots=True)
class Judgement:
    """A verdict on one ticker, from rules or from the LLM.

    A plain dataclass, not a model: it never crosses a boundary (the LLM's answer is validated
    as `LLMJudgement`, and `AnalystOpinion` validates what goes into state), and building a
    model cost ~2 us on each of the ~125 verdicts of a replayed day.
    """

    stance: Stance
    conviction: Decimal
    horizon: Horizon
    rationale: str


def submit_tool_schema() -> dict[str, Any]:
    """The OpenAI tool definition of `submit_opinion`."""
    return {
        "type": "function",
        "function": {
            "name": SUBMIT_TOOL,
            "description": "Give your final opinion on the ticker. Call exactly once.",
            "parameters": LLMJudgement.model_json_schema(),
        },
    }


def opinion_from(
    ticker: str, agent: str, judgement: Judgement, evidence: dict[str, Any]
) -> AnalystOpinion:
    """Build an ok opinion from a verdict and its evidence numbers."""
    return AnalystOpinion(
        ticker=ticker,
        agent=agent,
        status=SignalStatus.OK,
        stance=judgement.stance,
        conviction=min(max(judgement.conviction, Decimal(0)), Decimal(1)),
        horizon=judgement.horizon,
        rationale=judgement.rationale,
        evidence=to_evidence(evidence),
    )


def to_evidence(values: dict[str, Any]) -> dict[str, int | Decimal | None]:
    """Turn computed numbers into opinion evidence: ints stay, floats become 6-place Decimals."""
    out: dict[str, int | Decimal | None] = {}
    for key, value in values.items():
        kind = type(value)
        if kind is float:  # the common case first: indicator values (a backtest's hot loop)
            out[key] = Decimal(repr(round(value, 6))) if math.isfinite(value) else None
        elif value is None or isinstance(value, bool):
            out[key] = None if value is None else int(value)
        elif isinstance(value, int):
            out[key] = value
        elif isinstance(value, float | Decimal):
            dec = Decimal(str(round(float(value), 6)))
            out[key] = dec if dec.is_finite() else None
    return out


async def judge_all(
    tickers: Sequence[str],
    judge_one: Callable[[str], Awaitable[AnalystOpinion]],
    *,
    agent: str,
    concurrency: int,
    overlap: bool = True,
) -> list[AnalystOpinion]:
    """Run `judge_one` for every ticker, `concurrency` at a time; failures become statuses.

    `overlap=False` judges one ticker after another in this task: for sources that never wait
    (a backtest's point-in-time data in rules mode), where a task per ticker is pure overhead.
    """

    async def guarded(ticker: str) -> AnalystOpinion:
        try:
            return await judge_one(ticker)
        except TraderError as exc:
            log.warning("%s: %s data failed: %s", agent, ticker, exc)
            return AnalystOpinion.failed(ticker, agent, SignalStatus.DATA_FAILED, str(exc))

    if not overlap:
        # One at a time already: no semaphore to take for each of the 200 judgements a day.
        return [await guarded(t) for t in tickers]
    semaphore = asyncio.Semaphore(max(concurrency, 1))

    async def bounded(ticker: str) -> AnalystOpinion:
        async with semaphore:
            return await guarded(ticker)

    return list(await asyncio.gather(*(bounded(t) for t in tickers)))


async def llm_judgement(
    llm: BaseChatModel,
    usage: UsageMeter,
    *,
    system_prompt: str,
    ticker: str,
    payload: dict[str, Any],
    tools: Sequence[BaseTool],
    max_tool_calls: int,
    run: str | int = "",
) -> tuple[Judgement | SignalStatus, str, LLMUsage]:
    """Ask the LLM for its judgement of one ticker.

    `run` (the run's id) is what the token budget is counted against. Returns (the judgement,
    or the failure status), a note on what happened, and this ticker's LLM usage.
    """
    spent = LLMUsage()
    by_name = {t.name: t for t in tools}
    bound = llm.bind_tools([*tools, submit_tool_schema()])
    messages: list[BaseMessage] = [
        SystemMessage(system_prompt),
        HumanMessage(json.dumps({"ticker": ticker, **payload}, default=str, ensure_ascii=False)),
    ]
    for round_no in range(max_tool_calls + 1):
        try:
            await usage.reserve(run)
        except BudgetExhausted as exc:
            return SignalStatus.BUDGET_EXHAUSTED, str(exc), spent
        try:
            answer = await bound.ainvoke(messages)
        except Exception as exc:
            log.warning("LLM call failed for %s: %s", ticker, type(exc).__name__)
            return SignalStatus.LLM_FAILED, f"LLM call failed: {type(exc).__name__}: {exc}", spent
        if not isinstance(answer, AIMessage):
            return SignalStatus.LLM_UNPARSEABLE, "the model did not answer with a message", spent
        spent = spent + await usage.record(answer, run)
        submits = [c for c in answer.tool_calls if c["name"] == SUBMIT_TOOL]
        if submits:
            try:
                verdict = LLMJudgement.model_validate(submits[0]["args"])
            except ValidationError as exc:
                return SignalStatus.LLM_UNPARSEABLE, f"invalid opinion: {_errors(exc)}", spent
            return Judgement(**verdict.model_dump()), "", spent
        calls = [c for c in answer.tool_calls if c["name"] in by_name]
        if not calls or round_no == max_tool_calls:
            return SignalStatus.LLM_UNPARSEABLE, _no_opinion_note(answer), spent
        messages.append(answer)
        for call in calls:
            try:
                result = await by_name[call["name"]].ainvoke(call["args"])
            except (TraderError, ValidationError) as exc:
                result = f"error: {exc}"
            messages.append(ToolMessage(str(result), tool_call_id=call["id"] or call["name"]))
    return SignalStatus.LLM_UNPARSEABLE, "no opinion after the tool calls allowed", spent


def _errors(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())


def _no_opinion_note(answer: AIMessage) -> str:
    text = answer.content if isinstance(answer.content, str) else json.dumps(answer.content)
    return f"no submit_opinion call; the model said: {text[:200]!r}"


async def judge_session(
    ctx: SessionContext,
    data: SessionContextData,
    judge_one: Callable[[str], Awaitable[tuple[AnalystOpinion, LLMUsage]]],
    *,
    agent: str,
) -> dict[str, Any]:
    """Judge every quotable ticker of the session; return the node's state update.

    The update holds the opinions and this analyst's summed LLM usage (state adds both
    analysts' usage).
    """
    usage = LLMUsage()

    async def judge(ticker: str) -> AnalystOpinion:
        nonlocal usage
        opinion, spent = await judge_one(ticker)
        usage = usage + spent
        return opinion

    tradable = [t for t in data.tickers if t in data.market]
    opinions = await judge_all(
        tradable, judge, agent=agent, concurrency=ctx.analyst_concurrency, overlap=ctx.overlap_io
    )
    return {"opinions": [dump(o) for o in opinions], "llm_usage": dump(usage)}


async def judge_ticker(
    ctx: SessionContext,
    data: SessionContextData,
    ticker: str,
    *,
    agent: str,
    rules: Judgement,
    evidence: dict[str, Any],
    system_prompt: str,
    evidence_key: str,
    tools: Sequence[BaseTool],
) -> tuple[AnalystOpinion, LLMUsage]:
    """One analyst's opinion of one ticker: the rules' verdict, or the LLM's when configured.

    The LLM sees the evidence (under `evidence_key`) and the rules' reading; what it cannot
    answer becomes the opinion's failure status.
    """
    if ctx.llm is None:
        return opinion_from(ticker, agent, rules, evidence), LLMUsage()
    verdict, note, spent = await llm_judgement(
        ctx.llm,
        ctx.usage,
        system_prompt=system_prompt,
        ticker=ticker,
        payload={evidence_key: to_evidence(evidence), "rules_reading": asdict(rules)},
        tools=tools,
        max_tool_calls=ctx.llm_max_tool_calls,
        run=data.run_id,
    )
    if isinstance(verdict, Judgement):
        return opinion_from(ticker, agent, verdict, evidence), spent
    return AnalystOpinion.failed(ticker, agent, verdict, note), spent
