"""The market analyst: prices and indicators, read for trend, momentum, mean reversion, risk.

For each ticker it reads up to `HISTORY_BARS` daily bars through `MarketData` (KIS live, the
point-in-time view in backtests), computes the indicators with `ta` (tools/indicators.py) and
today's move from the quote, then judges: by the rules below, or by the LLM with the same
numbers (plus today's headlines and intraday bars through its tools).

In backtests the point-in-time market data offers `PrecomputedIndicators`: the same indicators
computed once over the whole history (causal, so row t equals a recomputation on the history cut
at t), read for the day instead of recomputed every day. Over the whole history rather than the
last `HISTORY_BARS` bars, so the recursive ones differ slightly from a live reading: EMA, RSI and
ATR by under 0.05 %, MACD by small absolute amounts (large only relative to its value near zero).
Over 2,684 sampled days of 005930, 000660, 035420 and 069500 (2015-2023) the rules' stance was
the same either way.

Rules reasoner (deterministic): four readings in [-1, 1], weighted

- trend (0.35): close vs SMA20 vs SMA60 (+1 stacked up, -1 stacked down, else the sign of
  close - SMA20 at half weight);
- momentum (0.30): MACD histogram sign and 20-day return sign, averaged;
- mean reversion (0.25): RSI below 30 / above 70 and the Bollinger %b outside [0, 1], each
  pushing against the recent move;
- volume (0.10): the sign of the 20-day on-balance-volume slope, only when volume is above
  its 20-day average.

The score's sign and size give the stance (|score| >= 0.2 to act) and conviction (|score|,
damped by 30 % when the day's ATR exceeds 5 % of the price). Too little history is a
`data_failed` opinion, not a guess.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from langchain_core.tools import BaseTool
from langgraph.runtime import Runtime

from agents.agent_tools import market_tools
from agents.analyst import (
    Judgement,
    judge_session,
    judge_ticker,
)
from agents.context import SessionContext, session_context
from agents.llm import LLMUsage
from agents.schemas import AnalystOpinion, Horizon
from agents.state import SessionContextData, SessionState, read_context
from db.models import SignalStatus, Stance
from tools.indicators import MIN_BARS, IndicatorSnapshot, latest_snapshot
from tools.kis.client import DAILY_CHART_PAGE_ROWS
from tools.market_data import PrecomputedIndicators

AGENT = "market_analyst"
RULES_VERSION = "market-rules-1"
"""Version of `rules_judgement`: bump it with every change of the rules (recorded on each signal
row, and in every eval run, so a change of decisions can be traced to a change of rules)."""
PROMPT_VERSION_RULES = RULES_VERSION
"""The prompt version recorded in rules mode, where no prompt is sent: the rules' version."""
PROMPT_VERSION_LLM = "market-llm-1"
"""Version of `SYSTEM_PROMPT`: bump it with every change of the prompt text."""
HISTORY_BARS = DAILY_CHART_PAGE_ROWS
"""100 bars: every indicator needs at most 60 (plus warm-up), and one KIS page holds 100."""
ACT_THRESHOLD = 0.2
HIGH_ATR_PCT = 0.05

SYSTEM_PROMPT = """You are the market analyst of a Korean equity trading desk (KRX).
You receive one ticker's technical indicators, computed in code from daily bars, and a
rules-based reading of them. Judge trend, momentum, mean reversion and volatility. You may call
your tools for today's headlines or intraday bars when they would change your view. Do no
arithmetic of your own beyond comparing the numbers given. Answer by calling submit_opinion
exactly once with stance (buy/sell/hold), conviction in [0, 1], horizon and a short rationale
that cites the numbers you relied on."""


def _sign(x: float) -> float:
    return 1.0 if x > 0 else -1.0 if x < 0 else 0.0


def rules_judgement(snap: IndicatorSnapshot) -> Judgement:
    """Judge a complete indicator snapshot by the rules in the module docstring."""
    if snap.sma_20 is None or snap.sma_60 is None:
        raise ValueError("the rules need SMA20 and SMA60 (at least 60 bars)")
    close = snap.close
    if close > snap.sma_20 > snap.sma_60:
        trend = 1.0
    elif close < snap.sma_20 < snap.sma_60:
        trend = -1.0
    else:
        trend = 0.5 * _sign(close - snap.sma_20)
    momentum = (_sign(snap.macd_hist or 0.0) + _sign(snap.return_20d or 0.0)) / 2
    reversion = 0.0
    if snap.rsi_14 is not None:
        reversion += 1.0 if snap.rsi_14 < 30 else -1.0 if snap.rsi_14 > 70 else 0.0
    if snap.bb_pct_b is not None:
        reversion += 1.0 if snap.bb_pct_b < 0 else -1.0 if snap.bb_pct_b > 1 else 0.0
    reversion = max(-1.0, min(1.0, reversion))
    volume = 0.0
    if (snap.volume_ratio_20 or 0.0) > 1.0 and snap.obv_slope_20 is not None:
        volume = _sign(snap.obv_slope_20)
    score = 0.35 * trend + 0.30 * momentum + 0.25 * reversion + 0.10 * volume
    conviction = abs(score)
    if (snap.atr_pct or 0.0) > HIGH_ATR_PCT:
        conviction *= 0.7
    if score >= ACT_THRESHOLD:
        stance = Stance.BUY
    elif score <= -ACT_THRESHOLD:
        stance = Stance.SELL
    else:
        stance = Stance.HOLD
        conviction = 1.0 - abs(score) / ACT_THRESHOLD
    horizon = Horizon.DAYS if abs(reversion) > abs(trend) else Horizon.WEEKS
    rationale = (
        f"trend {trend:+.2f} (close {close:,.0f}, SMA20 {snap.sma_20:,.0f}, "
        f"SMA60 {snap.sma_60:,.0f}); momentum {momentum:+.2f} (MACD hist "
        f"{snap.macd_hist or 0:+.1f}, 20d return {100 * (snap.return_20d or 0):+.1f}%); "
        f"mean reversion {reversion:+.2f} (RSI {snap.rsi_14 or 0:.1f}, %b "
        f"{snap.bb_pct_b or 0:.2f}); volume {volume:+.2f}; score {score:+.3f}"
    )
    return Judgement(
        stance=stance,
        conviction=Decimal(str(round(min(max(conviction, 0.0), 1.0), 5))),
        horizon=horizon,
        rationale=rationale,
    )


async def indicators_of(
    ctx: SessionContext, day: date, ticker: str, precomputed: PrecomputedIndicators | None
) -> tuple[int, IndicatorSnapshot | None]:
    """Return the bars known up to `day` and the day's indicators (None with too few bars).

    Live: computed from the last `HISTORY_BARS` daily bars. Backtests: read from the market
    data's precomputed rows when it offers them (the same `ta` maths over the whole history).
    """
    if precomputed is not None:
        return precomputed.indicator_snapshot(ticker, day)
    bars = await ctx.market.daily_bars(ticker, day, HISTORY_BARS)
    if len(bars) < MIN_BARS:
        return len(bars), None
    return len(bars), latest_snapshot([b.model_dump() for b in bars])


async def analyse_ticker(
    ctx: SessionContext,
    data: SessionContextData,
    ticker: str,
    precomputed: PrecomputedIndicators | None = None,
    tools: Sequence[BaseTool] = (),
) -> tuple[AnalystOpinion, LLMUsage]:
    """Compute one ticker's numbers and judge them (`tools`: what the LLM may call)."""
    count, snap = await indicators_of(ctx, data.session_date, ticker, precomputed)
    if snap is None:
        return (
            AnalystOpinion.failed(
                ticker,
                AGENT,
                SignalStatus.DATA_FAILED,
                f"only {count} daily bars; the indicators need {MIN_BARS}",
            ),
            LLMUsage(),
        )
    evidence: dict[str, Any] = snap.evidence()
    quote = data.market.get(ticker)
    if quote is not None:
        evidence["last_price_krw"] = quote.last_price_krw
        evidence["prev_close_krw"] = quote.prev_close_krw
        evidence["intraday_change_pct"] = (
            100 * (quote.last_price_krw - quote.prev_close_krw) / quote.prev_close_krw
        )
    return await judge_ticker(
        ctx,
        data,
        ticker,
        agent=AGENT,
        rules=rules_judgement(snap),
        evidence=evidence,
        system_prompt=SYSTEM_PROMPT,
        evidence_key="indicators",
        tools=tools,
    )


async def market_analyst(state: SessionState, runtime: Runtime[SessionContext]) -> dict[str, Any]:
    """Judge every ticker of the session (concurrently, bounded)."""
    ctx = await session_context(runtime)
    data = read_context(state)
    precomputed = ctx.market if isinstance(ctx.market, PrecomputedIndicators) else None
    # Built once per session and only for the LLM: building a tool costs ~3 ms (pydantic
    # schema generation), which per ticker was most of a rules-mode backtest's time.
    tools = market_tools(ctx, data.session_date) if ctx.llm is not None else []

    async def judge(ticker: str) -> tuple[AnalystOpinion, LLMUsage]:
        return await analyse_ticker(ctx, data, ticker, precomputed, tools)

    return await judge_session(ctx, data, judge, agent=AGENT)


def prompt_version(ctx: SessionContext) -> str:
    """The prompt version recorded with this analyst's signals."""
    return PROMPT_VERSION_LLM if ctx.llm is not None else PROMPT_VERSION_RULES
