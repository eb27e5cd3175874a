"""LangChain tools the analysts' LLM may call: thin, typed wrappers over our clients.

Each factory closes over the session's clients and date, so a tool never reaches past the
session (a backtest's tools see only what the point-in-time view allows). Tools return short
JSON text: the model reads numbers, it does not compute them.
"""

from __future__ import annotations

import json
from datetime import date, time
from typing import TYPE_CHECKING

from langchain_core.tools import BaseTool, StructuredTool

if TYPE_CHECKING:
    from agents.context import SessionContext

MAX_HEADLINES = 15
MAX_MINUTE_BARS = 30


def market_tools(ctx: SessionContext, day: date) -> list[BaseTool]:
    """Tools of the market analyst: today's headlines and intraday bars."""

    async def news_titles(ticker: str) -> str:
        """Today's news headlines about the ticker (KRX code), newest first."""
        titles = await ctx.market.news_titles(ticker, day)
        return json.dumps(titles[:MAX_HEADLINES], ensure_ascii=False)

    tools: list[BaseTool] = [
        StructuredTool.from_function(coroutine=news_titles, name="news_titles"),
    ]
    if ctx.kis is not None:
        kis = ctx.kis

        async def intraday_bars(ticker: str) -> str:
            """Today's latest 1-minute bars of the ticker: time, open, high, low, close, volume."""
            chart = await kis.minute_bars(ticker, time(15, 30))
            rows = [
                [b.minute.strftime("%H:%M"), b.open, b.high, b.low, b.close, b.volume]
                for b in chart.bars[:MAX_MINUTE_BARS]
            ]
            return json.dumps(rows)

        tools.append(StructuredTool.from_function(coroutine=intraday_bars, name="intraday_bars"))
    return tools


def fundamental_tools(ctx: SessionContext, day: date) -> list[BaseTool]:
    """Tools of the fundamental analyst: more KIS ratios and the macro snapshot."""
    tools: list[BaseTool] = []
    if ctx.kis is not None:
        kis = ctx.kis

        async def growth_and_profit(ticker: str) -> str:
            """Latest annual growth and profitability ratios of the company (KRX code), in %."""
            growth, profit = await kis.growth_ratio(ticker), await kis.profit_ratio(ticker)
            rows = {
                "growth": [g.model_dump(mode="json") for g in growth[:2]],
                "profit": [p.model_dump(mode="json") for p in profit[:2]],
            }
            return json.dumps(rows, ensure_ascii=False)

        tools.append(
            StructuredTool.from_function(coroutine=growth_and_profit, name="growth_and_profit")
        )
    if ctx.econ is not None:
        econ = ctx.econ

        async def macro_calendar() -> str:
            """Korean base rate, KRW/USD, CPI and US data releases due in the next week."""
            macro = await econ.macro(day, horizon_days=7)
            return macro.model_dump_json()

        tools.append(StructuredTool.from_function(coroutine=macro_calendar, name="macro_calendar"))
    return tools
