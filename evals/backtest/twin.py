"""The backtest replay driver: the session graph's decision part as a backtest `Strategy`.

Each replayed day t the backtester (evals/backtest/engine.py) calls `AgentsStrategy.decide`
with the point-in-time view after t's close and a snapshot of its book. The strategy runs the
decision graph (`build_decision_graph()`: load_context, market_analyst ∥ fundamental, signals,
risk_manager — the very node functions that trade live) with a `SessionContext` whose

- `market` is `PointInTimeMarket` (`evals.backtest.market_twin`): quotes at t's close, daily
  bars ending at t, no news, and the indicators of day t from rows computed once per ticker;
- `broker` is `BookBroker` (`evals.backtest.broker_twin`): the engine's book as an account
  snapshot; it places nothing;
- `clock` stands at t's close; the recorder keeps nothing (`NullRecorder`); no KIS finance
  client; no settings (the risk limits and commission are given, typed);
- `econ` is the recorded, point-in-time source given (`evals.backtest.fundamentals.RecordedEcon`
  over files, `evals.backtest.stored_fundamentals.StoredFundamentals` over the `fundamentals`
  table: annual reports from the day after their filing, macro values from their release), or
  None. The fundamental analyst runs only on the tickers it has data for (a company with a
  recorded report, an ETF when macro values are recorded); the others are named once in
  `fundamental_missing` (and the run's parameters), get no fundamental opinion, and the market
  analyst alone decides them, instead of a `data_failed` opinion every replayed day.

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
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from functools import cache
from types import TracebackType
from typing import Any, cast

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.language_models import BaseChatModel
from langchain_core.runnables import RunnableConfig
from langgraph.graph.state import CompiledStateGraph
from sqlalchemy.orm import sessionmaker

from agents.context import SessionContext
from agents.llm import UsageMeter, model_name_of
from agents.recorder import NullRecorder
from agents.risk.limits import RiskLimits
from agents.risk.models import ProposedOrder, RiskReport
from agents.state import SessionState, read_opinions, read_risk_report
from agents.venue_hours import MARKET_CLOSE
from core.clock import KST, FixedClock
from core.errors import OperationalError
from core.orders import OrderType
from db.models import SignalStatus
from evals.backtest.broker_twin import BookBroker
from evals.backtest.market_twin import PointInTimeMarket
from evals.backtest.orders import OrderIntent, PortfolioSnapshot
from evals.backtest.view import MarketData as BarData
from evals.backtest.view import PointInTimeView
from graphs.trading_session import build_decision_graph
from tools.company_figures import CompanyFigures
from tools.econ.source import EconSource
from tools.krx.costs import CostModel
from tools.krx.rules import Market

PORTFOLIO = "backtest"


class ReplayBudgetSpentError(OperationalError):
    """The replay's LLM token budget is spent: the days after would be decided without the LLM.

    The answers so far are in the LLM cache, so a replay with a larger budget pays only for the
    days not yet asked about.
    """


@cache
def decision_graph(
    fundamental_tickers: frozenset[str] | None = None,
) -> CompiledStateGraph[Any, Any, Any, Any]:
    """The decision part of the session graph, compiled once per process (and scope)."""
    return build_decision_graph(fundamental_tickers=fundamental_tickers).compile(
        name="trading_session_decision"
    )


def fundamental_coverage(
    econ: EconSource | None,
    tickers: Iterable[str],
    markets: Mapping[str, Market],
    figures: CompanyFigures | None = None,
) -> frozenset[str]:
    """The tickers the fundamental analyst has data for in a replay.

    A company needs a recorded annual report or stored KIS ratios (`figures`); an ETF is judged
    on macro alone, so it needs macro values. A source that does not say what it holds (no
    `tickers`) covers everything.
    """
    if econ is None and figures is None:
        return frozenset()
    held: list[frozenset[str] | None] = [
        getattr(source, "tickers", None) for source in (econ, figures) if source is not None
    ]
    if any(h is None for h in held):
        return frozenset(tickers)
    reported = frozenset().union(*(h for h in held if h is not None))
    has_macro = econ is not None and bool(getattr(econ, "has_macro", True))
    return frozenset(
        t for t in tickers if (has_macro if markets.get(t) is Market.ETF else t in reported)
    )


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
        limits: RiskLimits | None = None,
        cost_model: CostModel | None = None,
        llm: BaseChatModel | None = None,
        markets: Mapping[str, Market] | None = None,
        econ: EconSource | None = None,
        figures: CompanyFigures | None = None,
        portfolio: str = PORTFOLIO,
        concurrency: int = 8,
        callbacks: Sequence[BaseCallbackHandler] = (),
        llm_token_budget: int | None = None,
    ) -> None:
        """Replay the decision graph over `data` (the same data the engine replays).

        Args:
            data: the backtest's bars; indicators are precomputed from them lazily.
            limits: the risk limits (default: the built-in ones; the CLI gives the settings'
                `RISK_*`, as a live session uses).
            cost_model: commission the risk gate's cash check uses (default: the standard
                rate; the CLI gives the simulated broker's).
            llm: a chat model for LLM mode (wrap it with `agents.llm_cache.cached`); None is
                the rules reasoner.
            markets: listing market per ticker (ticks and ETF rules); default KOSPI.
            econ: macro data and annual reports as of each replayed day (it must answer
                point in time, as `RecordedEcon` does); None: no company figures.
            figures: stored KIS ratios as of each replayed day (`StoredKisRatios`: point in
                time, as a live session reads them); None: none.
            portfolio: the portfolio name in thread ids and client order ids.
            concurrency: tickers an analyst judges at once (LLM calls in flight).
            callbacks: LangChain callback handlers for every replayed day's graph run
                (tracing, or timing the nodes as bench/backtest.py does).
            llm_token_budget: LLM tokens the whole replay may spend (cached answers are
                free); once spent, `decide` raises `ReplayBudgetSpentError`. None: no limit.
        """
        self.data = data
        self.markets = dict(markets or {})
        self.market = PointInTimeMarket(data, self.markets)
        self.broker = BookBroker()
        self.clock = FixedClock(datetime(2000, 1, 1, tzinfo=KST))
        self.portfolio = portfolio
        self.llm = llm
        self.context = SessionContext(
            market=self.market,
            broker=self.broker,
            sessions=sessionmaker(),
            venue="backtest",
            portfolio=portfolio,
            starting_cash_krw=0,  # read only by the database recorder; a backtest records nothing
            clock=self.clock,
            llm=llm,
            econ=econ,
            company_figures=figures,
            limits=limits or RiskLimits(),
            cost_model=cost_model or CostModel(),
            # Every replayed day is run 0 (nothing persisted), so the budget spans the replay.
            usage=UsageMeter(
                model_name=model_name_of(llm) if llm else "", token_budget=llm_token_budget
            ),
            analyst_concurrency=concurrency,
            recorder=NullRecorder(),
            overlap_io=False,
            is_trading_day=self.market.is_trading_day,
        )
        covered = fundamental_coverage(econ, data.tickers, self.markets, figures)
        self.fundamental_missing: tuple[str, ...] = tuple(
            t for t in data.tickers if t not in covered
        )
        """Tickers the fundamental analyst has no data for: left out of its node, decided by
        the market analyst alone (said once, not as a `data_failed` opinion a day)."""
        self.graph = decision_graph(covered if self.fundamental_missing else None)
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
        params: dict[str, Any] = {
            "reasoner": reasoner,
            "portfolio": self.portfolio,
            "limits": self.context.limits.model_dump(mode="json"),
            "markets": {t: m.value for t, m in sorted(self.markets.items())},
            "econ": None if econ is None else getattr(econ, "source", type(econ).__name__),
        }
        figures = self.context.company_figures
        if figures is not None:
            params["company_figures"] = getattr(figures, "source", type(figures).__name__)
        if self.fundamental_missing:
            params["fundamental_no_data"] = list(self.fundamental_missing)
        return params

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
