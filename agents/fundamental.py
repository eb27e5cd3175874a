"""The fundamental analyst: valuation, profitability, stability and growth, in a macro frame.

Numbers come from the KIS finance endpoints (latest annual ratios; PER and PBR from the quote
load_context took) with OpenDART as a second source (key accounts of the latest annual report
filed before the session), and the macro context (base rate, KRW/USD, CPI) from ECOS and
FRED, read once per session. The LLM, when configured, judges the same numbers and may call its
tools; otherwise the rules below do.

Rules reasoner, each reading in [-1, 1]:

- valuation (0.30): PER < 10 → +1, < 20 → +0.3, < 35 → -0.3, above or negative → -1; PBR < 1
  adds +0.5, > 4 adds -0.5 (averaged with the PER reading);
- profitability (0.30): ROE > 15 % → +1, > 8 % → +0.5, > 0 → 0, else -1;
- stability (0.15): debt ratio < 100 % → +0.5, < 200 % → 0, else -1;
- growth (0.25): sales growth > 10 % → +1, > 0 → +0.3, > -10 % → -0.3, else -1;
- macro tilt: -0.1 when CPI inflation is above 4 % (tight money ahead).

|score| >= 0.2 acts; the horizon is months. An ETF has no company financials: it gets a macro
judgement, said so in its rationale. No numbers at all is `data_failed`.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

from langgraph.runtime import Runtime

from agents.agent_tools import fundamental_tools
from agents.analyst import (
    Judgement,
    judge_session,
    judge_ticker,
)
from agents.context import SessionContext, session_context
from agents.llm import LLMUsage
from agents.schemas import AnalystOpinion, Horizon
from agents.state import SessionContextData, SessionState, Valuation, read_context
from core.errors import TraderError
from db.models import SignalStatus, Stance
from tools.econ.snapshot_models import MacroSnapshot
from tools.kis.models import FinancialRatioRow, StabilityRatioRow
from tools.krx.rules import Market

AGENT = "fundamental"
RULES_VERSION = "fundamental-rules-1"
"""Version of `rules_judgement`: bump it with every change of the rules (recorded on each signal
row and in every eval run)."""
PROMPT_VERSION_RULES = RULES_VERSION
"""The prompt version recorded in rules mode, where no prompt is sent: the rules' version."""
PROMPT_VERSION_LLM = "fundamental-llm-1"
"""Version of `SYSTEM_PROMPT`: bump it with every change of the prompt text."""
ACT_THRESHOLD = 0.2
HIGH_INFLATION_PCT = Decimal(4)

SYSTEM_PROMPT = """You are the fundamental analyst of a Korean equity trading desk (KRX).
You receive one company's valuation, profitability, stability and growth ratios (computed in code
from KIS and OpenDART data), the macro context, and a rules-based reading. Judge whether the
fundamentals support buying, selling or holding over the coming months. You may call your tools
for more figures. Do no arithmetic of your own beyond comparing the numbers given. Answer by
calling submit_opinion exactly once with stance, conviction in [0, 1], horizon and a short
rationale that cites the numbers."""


def _band(value: Decimal | None, bands: list[tuple[Decimal, float]], above: float) -> float | None:
    if value is None:
        return None
    for bound, score in bands:
        if value < bound:
            return score
    return above


def rules_judgement(numbers: dict[str, Decimal | None], market: Market) -> Judgement | None:
    """Judge the numbers by the rules in the module docstring; None when nothing is known."""
    inflation = numbers.get("cpi_yoy_pct")
    tilt = -0.1 if inflation is not None and inflation > HIGH_INFLATION_PCT else 0.0
    if market is Market.ETF:
        stance = Stance.HOLD if tilt == 0 else Stance.SELL
        return Judgement(
            stance=stance,
            conviction=Decimal("0.5") if tilt == 0 else Decimal("0.1"),
            horizon=Horizon.MONTHS,
            rationale=f"ETF: no company financials; macro tilt {tilt:+.1f} (CPI {inflation}% y/y)",
        )
    per = numbers.get("per")
    valuation = None
    if per is not None:
        valuation = (
            -1.0
            if per <= 0
            else _band(per, [(Decimal(10), 1.0), (Decimal(20), 0.3), (Decimal(35), -0.3)], -1.0)
        )
    pbr = _band(numbers.get("pbr"), [(Decimal(1), 0.5), (Decimal(4), 0.0)], -0.5)
    if valuation is not None and pbr is not None:
        valuation = (valuation + pbr) / 2
    readings = {
        "valuation": (0.30, valuation),
        "profitability": (
            0.30,
            _band(
                numbers.get("roe"), [(Decimal(0), -1.0), (Decimal(8), 0.0), (Decimal(15), 0.5)], 1.0
            ),
        ),
        "stability": (
            0.15,
            _band(numbers.get("debt_ratio"), [(Decimal(100), 0.5), (Decimal(200), 0.0)], -1.0),
        ),
        "growth": (
            0.25,
            _band(
                numbers.get("sales_growth"),
                [(Decimal(-10), -1.0), (Decimal(0), -0.3), (Decimal(10), 0.3)],
                1.0,
            ),
        ),
    }
    known = {k: (w, v) for k, (w, v) in readings.items() if v is not None}
    if not known:
        return None
    weight = sum(w for w, _ in known.values())
    score = sum(w * v for w, v in known.values()) / weight + tilt
    if score >= ACT_THRESHOLD:
        stance, conviction = Stance.BUY, abs(score)
    elif score <= -ACT_THRESHOLD:
        stance, conviction = Stance.SELL, abs(score)
    else:
        stance, conviction = Stance.HOLD, 1.0 - abs(score) / ACT_THRESHOLD
    parts = [f"{k} {v:+.2f}" for k, (_, v) in known.items()]
    missing = sorted(set(readings) - set(known))
    rationale = "; ".join(parts) + f"; macro tilt {tilt:+.1f}; score {score:+.3f}"
    if missing:
        rationale += f" (unknown: {', '.join(missing)})"
    return Judgement(
        stance=stance,
        conviction=Decimal(str(round(min(max(conviction, 0.0), 1.0), 5))),
        horizon=Horizon.MONTHS,
        rationale=rationale,
    )


async def company_numbers(
    ctx: SessionContext, data: SessionContextData, ticker: str
) -> dict[str, Decimal | None]:
    """Gather a company's ratios: KIS first, OpenDART as the second source."""
    numbers: dict[str, Decimal | None] = {}
    if ctx.kis is not None or ctx.company_figures is not None:
        try:
            valuation, ratios, stability = await _kis_numbers(ctx, data, ticker)
        except TraderError:
            pass  # the second source may still answer; an empty result is data_failed
        else:
            numbers["per"], numbers["pbr"] = valuation.per, valuation.pbr
            if ratios is not None:
                numbers["roe"] = ratios.roe
                numbers["sales_growth"] = ratios.sales_growth
                numbers["operating_profit_growth"] = ratios.operating_profit_growth
                numbers["debt_ratio"] = ratios.debt_ratio
                numbers["kis_period"] = Decimal(ratios.period) if ratios.period.isdigit() else None
            if stability is not None:
                numbers["current_ratio"] = stability.current_ratio
    if ctx.econ is not None:
        try:
            dart = await ctx.econ.fundamentals(ticker, data.session_date)
        except TraderError:
            dart = None
        if dart is not None:
            if dart.net_income is not None and dart.total_equity:
                numbers.setdefault("roe", Decimal(100 * dart.net_income) / dart.total_equity)
                numbers["dart_roe"] = Decimal(100 * dart.net_income) / dart.total_equity
            if dart.total_liabilities is not None and dart.total_equity:
                numbers.setdefault(
                    "debt_ratio", Decimal(100 * dart.total_liabilities) / dart.total_equity
                )
            if dart.operating_income is not None and dart.revenue:
                numbers["dart_operating_margin"] = (
                    Decimal(100 * dart.operating_income) / dart.revenue
                )
            numbers["dart_fiscal_year"] = Decimal(dart.fiscal_year)
    return numbers


def valuation_from_ratios(price: int | None, ratios: FinancialRatioRow | None) -> Valuation | None:
    """PER and PBR from today's price and the stored annual EPS and BPS (None: cannot say).

    The multi-ticker quote that a session takes carries no PER/PBR, and asking inquire-price
    for them would cost a KIS call per ticker that the data layer exists to save. KIS's own
    quote divides by its latest per-share figures too, which may be a later period than the
    annual report stored here; a loss (EPS <= 0) leaves PER unknown rather than negative.
    """
    if price is None or ratios is None or (ratios.eps is None and ratios.bps is None):
        return None
    per = round(Decimal(price) / ratios.eps, 2) if ratios.eps and ratios.eps > 0 else None
    pbr = round(Decimal(price) / ratios.bps, 2) if ratios.bps and ratios.bps > 0 else None
    return Valuation(per=per, pbr=pbr)


async def _kis_numbers(
    ctx: SessionContext, data: SessionContextData, ticker: str
) -> tuple[Valuation, FinancialRatioRow | None, StabilityRatioRow | None]:
    """PER/PBR and the latest annual ratios, stored or fresh from KIS.

    Stored ones, as of the session day, when the context has a store (a live session's, or a
    replay's: a backtest has no KIS client, and reads the same stored ratios point in time);
    else KIS's finance endpoints. PER and PBR come with load_context's quote, else from the
    day's price over the stored EPS and BPS; KIS is quoted again only when neither answers.
    """
    kis = ctx.kis
    valuation = data.valuations.get(ticker)
    figures = ctx.company_figures
    if figures is not None:
        stored = await figures.kis_ratios(ticker, data.session_date)
        if valuation is None:
            snapshot = data.market.get(ticker)
            price = snapshot.last_price_krw if snapshot is not None else None
            valuation = valuation_from_ratios(price, stored.financial)
        if valuation is None and kis is not None:
            quote = await kis.price(ticker)
            valuation = Valuation(per=quote.per, pbr=quote.pbr)
        return valuation or Valuation(), stored.financial, stored.stability
    if kis is None:
        return Valuation(), None, None
    if valuation is None:
        quote, ratios, stability = await asyncio.gather(
            kis.price(ticker), kis.financial_ratio(ticker), kis.stability_ratio(ticker)
        )
        valuation = Valuation(per=quote.per, pbr=quote.pbr)
    else:
        ratios, stability = await asyncio.gather(
            kis.financial_ratio(ticker), kis.stability_ratio(ticker)
        )
    return valuation, (ratios[0] if ratios else None), (stability[0] if stability else None)


def macro_numbers(macro: MacroSnapshot | None) -> dict[str, Decimal | None]:
    """The macro figures every ticker's judgement sees."""
    if macro is None:
        return {}
    return {
        "base_rate_pct": macro.base_rate.value if macro.base_rate else None,
        "krw_usd": macro.krw_usd.value if macro.krw_usd else None,
        "cpi_yoy_pct": macro.cpi_yoy_pct,
    }


async def fundamental(state: SessionState, runtime: Runtime[SessionContext]) -> dict[str, Any]:
    """Judge every ticker's fundamentals (concurrently, bounded)."""
    ctx = await session_context(runtime)
    data = read_context(state)
    macro: MacroSnapshot | None = None
    if ctx.econ is not None:
        try:
            macro = await ctx.econ.macro(data.session_date)
        except TraderError:
            macro = None
    shared = macro_numbers(macro)
    # Once per session and only for the LLM, as in market_analyst (a tool costs ~3 ms to build).
    tools = fundamental_tools(ctx, data.session_date) if ctx.llm is not None else []

    async def judge(ticker: str) -> tuple[AnalystOpinion, LLMUsage]:
        snapshot = data.market[ticker]
        numbers = {**shared}
        if snapshot.market is not Market.ETF:
            numbers.update(await company_numbers(ctx, data, ticker))
        rules = rules_judgement(numbers, snapshot.market)
        if rules is None:
            reason = "no financial ratios from KIS or OpenDART"
            return AnalystOpinion.failed(
                ticker, AGENT, SignalStatus.DATA_FAILED, reason
            ), LLMUsage()
        return await judge_ticker(
            ctx,
            data,
            ticker,
            agent=AGENT,
            rules=rules,
            evidence={k: v for k, v in numbers.items() if v is not None},
            system_prompt=SYSTEM_PROMPT,
            evidence_key="fundamentals",
            tools=tools,
        )

    return await judge_session(ctx, data, judge, agent=AGENT)


def prompt_version(ctx: SessionContext) -> str:
    """The prompt version recorded with this analyst's signals."""
    return PROMPT_VERSION_LLM if ctx.llm is not None else PROMPT_VERSION_RULES
