"""The backtest replay driver: the session graph's decision part as a backtest `Strategy`.

Each replayed day t the backtester (evals/backtest/engine.py) calls `AgentsStrategy.decide`
with the point-in-time view after t's close and a snapshot of its book. The strategy runs the
decision graph (`build_decision_graph()`: load_context, market_analyst ∥ fundamental, signals,
risk_manager — the very node functions that trade live) with a `SessionContext` whose

- `market` is `PointInTimeMarket`: quotes at t's close (last = close of t, prev_close = close
  of t-1), daily bars ending at t, no news, and the indicators of day t read from rows
  computed once per ticker (indicators are causal; see `tools.market_data.PrecomputedIndicators`);
- `broker` is `BookBroker`: the engine's book as an account snapshot; it places nothing;
- `clock` stands at t's close; `persist=False`; no KIS finance client;
- `econ` is the recorded, point-in-time source given (`evals.backtest.fundamentals.RecordedEcon`:
  annual reports from the day after their filing, macro values from their release), or None:
  then the fundamental analyst reports `data_failed` for companies and judges ETFs without
  macro, and the market analyst's vote decides.

The risk manager's proposed orders become the engine's order intents with their quantities and
limit prices; the engine fills them at t+1's open under KRX rules, in place of approval and the
executor. Rules mode by default; with a chat model, wrap it in `agents.llm_cache` so a second
replay makes no call.

The decision graph is compiled once per process; the event loop lives as long as the strategy
(`close()` it, or use it as a context manager).
"""

from __future__ import annotations

import asyncio
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import date, datetime, time
from decimal import Decimal
from functools import cache
from types import TracebackType
from typing import Any, cast

import numpy as np
import pandas as pd
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.language_models import BaseChatModel
from langchain_core.runnables import RunnableConfig
from langgraph.graph.state import CompiledStateGraph
from sqlalchemy.orm import sessionmaker

from agents.context import SessionContext
from agents.llm import UsageMeter, model_name_of
from agents.risk.limits import RiskLimits
from agents.risk.models import ProposedOrder, RiskReport
from agents.state import SessionState, read_opinions, read_risk_report
from core.clock import KST, FixedClock
from core.errors import ConfigurationError, OperationalError, RejectedError
from core.orders import OrderType
from db.models import SignalStatus
from evals.backtest.data import Bars
from evals.backtest.orders import OrderIntent, PortfolioSnapshot
from evals.backtest.view import MarketData as BarData
from evals.backtest.view import PointInTimeView
from graphs.trading_session import build_decision_graph
from tools.broker import (
    AccountSnapshot,
    CashBalance,
    Execution,
    OrderAck,
    OrderRequest,
    Position,
)
from tools.econ.source import EconSource
from tools.indicators import COLUMNS, MIN_BARS, IndicatorSnapshot, compute_indicators
from tools.krx.costs import CostModel
from tools.krx.rules import Market
from tools.market_data import Bar, MarketQuote
from trader.settings import Settings

MARKET_CLOSE = time(15, 30)
PORTFOLIO = "backtest"


class NoPriceError(OperationalError):
    """A bar has no usable price (missing, zero or not a number); the ticker is not quoted."""


class ReadOnlyBrokerError(RejectedError):
    """The backtest broker places nothing: the engine fills the risk manager's orders."""


class ReplayBudgetSpentError(OperationalError):
    """The replay's LLM token budget is spent: the days after would be decided without the LLM.

    The answers so far are in the LLM cache, so a replay with a larger budget pays only for the
    days not yet asked about.
    """


@cache
def decision_graph() -> CompiledStateGraph[Any, Any, Any, Any]:
    """The decision part of the session graph, compiled once per process."""
    return build_decision_graph().compile(name="trading_session_decision")


def _krw(value: float, what: str) -> int:
    if not math.isfinite(value) or value < 1:
        raise NoPriceError(f"{what} is {value!r}, not a price")
    return round(value)


class PointInTimeMarket:
    """`MarketData` (and `PrecomputedIndicators`) over the backtest's view of one day.

    `at(view)` moves it to a day; nothing after that day is reachable through it: bars and
    quotes come from the view's slices, and indicator rows are read at the view's bar count.
    """

    def __init__(self, data: BarData, markets: Mapping[str, Market] | None = None) -> None:
        """Serve `data`; `markets` gives each ticker's listing market (default KOSPI)."""
        self._data = data
        self._markets = dict(markets or {})
        self._view: PointInTimeView | None = None
        self._frames: dict[str, np.ndarray[Any, np.dtype[np.float64]]] = {}
        self._days: set[date] = set(data.days)

    @property
    def view(self) -> PointInTimeView:
        """The day being replayed."""
        if self._view is None:
            raise ConfigurationError("the point-in-time market has not been moved to a day")
        return self._view

    def at(self, view: PointInTimeView) -> None:
        """Move to the day of `view` (which must come from the same data)."""
        if view.t >= len(self._data) or self._data.days[view.t] != view.date:
            raise ConfigurationError("the view does not belong to this backtest's data")
        self._view = view

    def is_trading_day(self, day: date) -> bool:
        """A day is a trading day when the replayed data has bars on it (up to today)."""
        return day <= self.view.date and day in self._days

    async def quote(self, ticker: str) -> MarketQuote:
        """Today's close as the last price, yesterday's close as the limit base."""
        view = self.view
        if ticker not in self._data.bars:
            raise NoPriceError(f"{ticker} is not in the backtest's data")
        history = view.history(ticker)
        n = len(history)
        if n == 0:
            raise NoPriceError(f"{ticker} has no bar yet")
        closes = history.close
        last = _krw(float(closes[n - 1]), f"{ticker} close")
        prev = _krw(float(closes[n - 2]), f"{ticker} previous close") if n > 1 else last
        halted = not view.traded_today(ticker) or int(history.volume[n - 1]) <= 0
        return MarketQuote(
            ticker=ticker,
            last_price_krw=last,
            prev_close_krw=prev,
            market=self._markets.get(ticker, Market.KOSPI),
            halted=halted,
        )

    async def daily_bars(self, ticker: str, end: date, count: int) -> list[Bar]:
        """Up to `count` bars ending at `end`, never past today."""
        history = self.view.history(ticker)
        n = int(np.searchsorted(history.dates, np.datetime64(end, "D"), side="right"))
        lo = max(n - count, 0)
        return [
            Bar(
                day=history.dates[i].item(),
                open=round(float(history.open[i])),
                high=round(float(history.high[i])),
                low=round(float(history.low[i])),
                close=round(float(history.close[i])),
                volume=int(history.volume[i]),
            )
            for i in range(lo, n)
        ]

    async def news_titles(self, ticker: str, day: date) -> list[str]:
        """No headlines in backtests (no point-in-time news archive)."""
        return []

    def indicator_snapshot(self, ticker: str, day: date) -> tuple[int, IndicatorSnapshot | None]:
        """Day `day`'s indicators (never past today), from the rows computed once per ticker."""
        history = self.view.history(ticker)
        n = len(history)
        if n and history.dates[n - 1].item() > day:
            n = int(np.searchsorted(history.dates, np.datetime64(day, "D"), side="right"))
        if n < MIN_BARS:
            return n, None
        row = self._frame(ticker)[n - 1].tolist()
        values = dict(zip(COLUMNS, row, strict=True))
        close = values.pop("close")
        return n, IndicatorSnapshot(
            close=close, **{k: None if math.isnan(v) else v for k, v in values.items()}
        )

    def _frame(self, ticker: str) -> np.ndarray[Any, np.dtype[np.float64]]:
        frame = self._frames.get(ticker)
        if frame is None:
            frame = indicator_rows(self._data.bars[ticker])
            self._frames[ticker] = frame
        return frame


def indicator_rows(bars: Bars) -> np.ndarray[Any, np.dtype[np.float64]]:
    """Every indicator of `COLUMNS` for each bar of a history (row i uses bars 0..i only)."""
    ohlcv = pd.DataFrame(
        {
            "open": bars.open,
            "high": bars.high,
            "low": bars.low,
            "close": bars.close,
            "volume": bars.volume.astype(np.float64),
        }
    )
    return compute_indicators(ohlcv)[list(COLUMNS)].to_numpy(dtype=np.float64)


class BookBroker:
    """The engine's book as a `Broker` that can only be read."""

    def __init__(self) -> None:
        """Start empty; `show` gives it the day's book."""
        self._snapshot: AccountSnapshot | None = None

    def show(self, portfolio: PortfolioSnapshot, view: PointInTimeView, at: datetime) -> None:
        """Hold the account as the engine's book stands after the view's close."""
        positions = []
        for ticker, qty in sorted(portfolio.positions.items()):
            if qty <= 0:
                continue
            last = view.last_close(ticker)
            price = round(last) if last is not None and math.isfinite(last) else 0
            cost = portfolio.cost_basis.get(ticker, Decimal(0))
            positions.append(
                Position(
                    ticker=ticker,
                    name=ticker,
                    qty=qty,
                    sellable_qty=qty,
                    avg_price=cost / qty,
                    last_price=price,
                    market_value=price * qty,
                    unrealized_pnl=int(price * qty - cost),
                )
            )
        cash = int(portfolio.cash)
        equity = int(portfolio.equity) if math.isfinite(portfolio.equity) else cash
        self._snapshot = AccountSnapshot(
            as_of=at,
            cash=CashBalance(deposit=cash, settled_d2=cash, total_eval=equity),
            positions=positions,
        )

    async def account_snapshot(self) -> AccountSnapshot:
        """Cash and positions after the replayed day's close."""
        if self._snapshot is None:
            raise ConfigurationError("the backtest broker has no book yet")
        return self._snapshot

    async def place(self, order: OrderRequest) -> OrderAck:
        """Refuse: in a backtest the engine fills the proposed orders at the next open."""
        raise ReadOnlyBrokerError("the backtest broker places no order; the engine fills them")

    async def cancel(self, client_order_id: str) -> OrderAck:
        """Refuse, as `place`."""
        raise ReadOnlyBrokerError("the backtest broker cancels no order")

    async def executions(self, day: date) -> list[Execution]:
        """Nothing was placed through this broker."""
        return []


def intent_of(order: ProposedOrder) -> OrderIntent:
    """The engine's order intent for a proposed order: same side, quantity and limit."""
    return OrderIntent(
        ticker=order.ticker,
        side=order.side,
        qty=order.qty,
        limit_price=order.limit_price_krw if order.order_type is OrderType.LIMIT else None,
        reason=f"{order.origin.value}: {order.reason}",
    )


class AgentsStrategy:
    """The session graph's decisions, replayed by the backtester (`--strategy agents`)."""

    name = "agents"

    def __init__(
        self,
        data: BarData,
        *,
        settings: Settings | None = None,
        limits: RiskLimits | None = None,
        cost_model: CostModel | None = None,
        llm: BaseChatModel | None = None,
        markets: Mapping[str, Market] | None = None,
        econ: EconSource | None = None,
        portfolio: str = PORTFOLIO,
        concurrency: int = 8,
        callbacks: Sequence[BaseCallbackHandler] = (),
        llm_token_budget: int | None = None,
    ) -> None:
        """Replay the decision graph over `data` (the same data the engine replays).

        Args:
            data: the backtest's bars; indicators are precomputed from them lazily.
            settings: application settings (default: built from the environment).
            limits: the risk limits (default: the settings' `RISK_*`, as a live session uses).
            cost_model: commission the risk gate's cash check uses (default: the settings').
            llm: a chat model for LLM mode (wrap it with `agents.llm_cache.cached`); None is
                the rules reasoner.
            markets: listing market per ticker (ticks and ETF rules); default KOSPI.
            econ: macro data and annual reports as of each replayed day (it must answer
                point in time, as `RecordedEcon` does); None: no company figures.
            portfolio: the portfolio name in thread ids and client order ids.
            concurrency: tickers an analyst judges at once (LLM calls in flight).
            callbacks: LangChain callback handlers for every replayed day's graph run
                (tracing, or timing the nodes as bench/backtest.py does).
            llm_token_budget: LLM tokens the whole replay may spend (cached answers are
                free); once spent, `decide` raises `ReplayBudgetSpentError`. None: no limit.
        """
        if settings is None:
            from trader.settings import load_settings

            settings = load_settings()
        self.data = data
        self.markets = dict(markets or {})
        self.market = PointInTimeMarket(data, self.markets)
        self.broker = BookBroker()
        self.clock = FixedClock(datetime(2000, 1, 1, tzinfo=KST))
        self.portfolio = portfolio
        self.llm = llm
        self.context = SessionContext(
            settings=settings,
            market=self.market,
            broker=self.broker,
            sessions=sessionmaker(),
            venue="backtest",
            clock=self.clock,
            llm=llm,
            econ=econ,
            limits=limits or RiskLimits.from_settings(settings),
            cost_model=cost_model or CostModel(commission_rate=settings.commission_rate),
            # Every replayed day is run 0 (nothing persisted), so the budget spans the replay.
            usage=UsageMeter(
                model_name=model_name_of(llm) if llm else "", token_budget=llm_token_budget
            ),
            analyst_concurrency=concurrency,
            persist=False,
            overlap_io=False,
            is_trading_day=self.market.is_trading_day,
        )
        self.graph = decision_graph()
        self.config: RunnableConfig = {"callbacks": list(callbacks)} if callbacks else {}
        self.last_state: SessionState | None = None
        self.failed_opinions: Counter[tuple[str, SignalStatus]] = Counter()
        """Opinions that failed over the replay, by (agent, status): the days they fell on
        were decided on fewer voices."""
        self._loop: asyncio.AbstractEventLoop | None = None

    def params(self) -> Mapping[str, Any]:
        """The reasoner and the risk limits, recorded with the run."""
        reasoner = f"llm:{model_name_of(self.llm)}" if self.llm is not None else "rules"
        econ = self.context.econ
        return {
            "reasoner": reasoner,
            "portfolio": self.portfolio,
            "limits": self.context.limits.model_dump(mode="json"),
            "markets": {t: m.value for t, m in sorted(self.markets.items())},
            "econ": None if econ is None else getattr(econ, "source", type(econ).__name__),
        }

    def decide(self, view: PointInTimeView, portfolio: PortfolioSnapshot) -> Sequence[OrderIntent]:
        """Run the decision graph for the view's day; its proposed orders fill next open."""
        return [intent_of(o) for o in self.risk_report(view, portfolio).orders]

    def risk_report(self, view: PointInTimeView, portfolio: PortfolioSnapshot) -> RiskReport:
        """Run the decision graph for the view's day and return the risk manager's report."""
        state = self.run_day(view, portfolio)
        return read_risk_report(state)

    def run_day(self, view: PointInTimeView, portfolio: PortfolioSnapshot) -> SessionState:
        """Run the decision graph for the view's day and return its final state."""
        at = datetime.combine(view.date, MARKET_CLOSE, tzinfo=KST)
        self.market.at(view)
        self.clock.set(at)
        self.broker.show(portfolio, view, at)
        peak = portfolio.peak_equity
        self.context.peak_equity_krw = int(peak) if math.isfinite(peak) and peak > 0 else None
        session: dict[str, Any] = {
            "portfolio": self.portfolio,
            "session_date": view.date.isoformat(),
            "tickers": list(view.tickers),
        }
        if self._loop is None:
            # A plain loop, not asyncio.Runner: Runner.run installs (and formats) a SIGINT
            # handler on every call, about 1 ms a replayed day. Ctrl-C still stops the replay.
            self._loop = asyncio.new_event_loop()
        result = self._loop.run_until_complete(
            self.graph.ainvoke(session, self.config, context=self.context)
        )
        state = cast(SessionState, result)
        self.last_state = state
        spent = False
        for opinion in read_opinions(state):
            if opinion.status is not SignalStatus.OK:
                self.failed_opinions[(opinion.agent, opinion.status)] += 1
                spent = spent or opinion.status is SignalStatus.BUDGET_EXHAUSTED
        if spent:
            usage = self.context.usage
            raise ReplayBudgetSpentError(
                f"the LLM token budget of {usage.token_budget or 0:,} tokens is spent on "
                f"{view.date} ({usage.usage.total_tokens:,} used); the answers so far are "
                "cached: replay with a larger budget and only the days not yet asked cost tokens"
            )
        return state

    def close(self) -> None:
        """Close the event loop the graph runs on."""
        if self._loop is not None:
            loop, self._loop = self._loop, None
            try:
                loop.run_until_complete(loop.shutdown_asyncgens())
            finally:
                loop.close()

    def __enter__(self) -> AgentsStrategy:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
