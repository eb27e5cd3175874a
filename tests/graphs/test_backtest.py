"""The session graph replayed by the backtester: point in time, read-only, LLM answers cached.

The replays read recorded fundamentals and macro values (`recorded_econ/`, illustrative
figures), so point in time covers published facts as well as bars.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest

from agents.llm_cache import LLMAnswerCache, cached
from agents.risk.limits import RiskLimits
from agents.schemas import AnalystOpinion
from agents.state import read_opinions
from core.orders import Side
from db.models import SignalStatus, Stance
from evals.backtest.broker import BrokerConfig
from evals.backtest.broker_twin import BookBroker, ReadOnlyBrokerError
from evals.backtest.data import Bars, CsvBarSource
from evals.backtest.engine import BacktestConfig, BacktestResult, run_backtest
from evals.backtest.fundamentals import RecordedEcon
from evals.backtest.market_twin import PointInTimeMarket
from evals.backtest.orders import OrderIntent, PortfolioSnapshot
from evals.backtest.twin import AgentsStrategy
from evals.backtest.view import MarketData, PointInTimeView
from tests.graphs.fake_chat import OpinionChatModel
from tools.broker import OrderRequest
from tools.indicators import latest_snapshot
from tools.krx.costs import DEFAULT_COMMISSION_RATE
from tools.krx.rules import Market

HISTORY_FROM, START, END = date(2020, 8, 1), date(2021, 1, 1), date(2021, 12, 31)
TICKERS = ("005930", "000660", "069500")
MARKETS = {"069500": Market.ETF}
CASH = 100_000_000
RECORDED = Path(__file__).parent / "recorded_econ"
ECON = RecordedEcon.from_files(RECORDED / "filings.csv", RECORDED / "macro.csv")


class RecordingAgents(AgentsStrategy):
    """The agents strategy, keeping each replayed day's fundamental opinions."""

    def __init__(self, data: MarketData) -> None:
        super().__init__(data, markets=MARKETS, econ=ECON)
        self.fundamental: dict[date, dict[str, AnalystOpinion]] = {}

    def decide(self, view: PointInTimeView, portfolio: PortfolioSnapshot) -> list[OrderIntent]:
        intents = list(super().decide(view, portfolio))
        assert self.last_state is not None
        opinions = read_opinions(self.last_state)
        self.fundamental[view.date] = {o.ticker: o for o in opinions if o.agent == "fundamental"}
        return intents


@pytest.fixture(scope="module")
def universe(shared_dir: Path) -> list[Bars]:
    source = CsvBarSource(shared_dir / "market-data")
    return [source.daily_bars(t, HISTORY_FROM, END) for t in TICKERS]


def _config(end: date = END) -> BacktestConfig:
    return BacktestConfig(cash=CASH, broker=BrokerConfig(markets=MARKETS), start=START, end=end)


def _replay(bars: list[Bars], end: date = END) -> BacktestResult:
    data = MarketData(bars)
    with AgentsStrategy(data, markets=MARKETS, econ=ECON) as strategy:
        return run_backtest(data, strategy, _config(end))


@pytest.fixture(scope="module")
def recorded(universe: list[Bars]) -> tuple[BacktestResult, dict[date, dict[str, AnalystOpinion]]]:
    data = MarketData(universe)
    with RecordingAgents(data) as strategy:
        return run_backtest(data, strategy, _config()), strategy.fundamental


@pytest.fixture(scope="module")
def full(recorded: tuple[BacktestResult, dict[date, dict[str, AnalystOpinion]]]) -> BacktestResult:
    return recorded[0]


def test_every_decision_equals_the_decision_on_history_cut_at_that_day(
    universe: list[Bars], full: BacktestResult
) -> None:
    acting = [d for d in full.decisions if d.intents]
    sides = {i.side for d in acting for i in d.intents}
    assert len(full.decisions) > 240 and len(acting) >= 30 and sides == {Side.BUY, Side.SELL}
    assert full.fills and full.trades
    for decision in full.decisions:
        cut = MarketData([b.between(end=decision.day) for b in universe])
        assert cut.days[-1] == decision.day
        known = ECON.usable_on(decision.day)  # what a session on that day may read
        with AgentsStrategy(cut, markets=MARKETS, econ=known) as again:
            intents = again.decide(cut.view(len(cut) - 1), decision.portfolio)
        assert tuple(intents) == decision.intents, decision.day


def _first_day_after(days: list[date], published: date) -> date:
    return next(d for d in days if d > published)


def test_company_opinions_change_on_the_first_day_after_a_filing(
    recorded: tuple[BacktestResult, dict[date, dict[str, AnalystOpinion]]],
) -> None:
    result, opinions = recorded
    days = result.days
    assert list(opinions) == days

    def figures(o: AnalystOpinion) -> tuple[object, ...]:
        e = o.evidence
        return o.status, e.get("dart_fiscal_year"), e.get("roe"), e.get("debt_ratio")

    def changes(ticker: str) -> list[date]:
        seen = [(d, figures(opinions[d][ticker])) for d in days]
        return [d for (_, a), (d, b) in pairwise(seen) if a != b]

    # 005930: FY2019 until FY2020 is filed (2021-03-09), then its amendment (2021-08-13);
    # the FY2021 report filed after the replay never shows.
    fy2020, amended = (
        _first_day_after(days, date(2021, 3, 9)),
        _first_day_after(days, date(2021, 8, 13)),
    )
    assert changes("005930") == [fy2020, amended]
    assert {opinions[d]["005930"].evidence["dart_fiscal_year"] for d in days} == {2019, 2020}
    assert opinions[fy2020]["005930"].stance is Stance.BUY  # ROE 21 %, debt ratio 36 %
    # 000660: its FY2016 report is too old to read; FY2020 is filed on a Saturday.
    monday = _first_day_after(days, date(2021, 3, 20))
    assert monday == date(2021, 3, 22) and changes("000660") == [monday]
    before, after = opinions[date(2021, 3, 19)]["000660"], opinions[monday]["000660"]
    assert before.status is SignalStatus.DATA_FAILED
    assert (after.status, after.stance) == (SignalStatus.OK, Stance.SELL)  # loss, debt 275 %


def test_the_etf_macro_view_changes_when_a_cpi_print_is_usable(
    recorded: tuple[BacktestResult, dict[date, dict[str, AnalystOpinion]]],
) -> None:
    result, opinions = recorded
    stances = [(d, opinions[d]["069500"].stance) for d in result.days]
    # The May print (4.5 % y/y) is usable from 2021-06-07, the August one (3.0 %) from 09-07.
    changed = [d for (_, a), (d, b) in pairwise(stances) if a != b]
    assert changed == [date(2021, 6, 7), date(2021, 9, 7)]
    assert opinions[date(2021, 6, 7)]["069500"].stance is Stance.SELL
    assert opinions[date(2021, 6, 4)]["069500"].stance is Stance.HOLD


@pytest.mark.parametrize("poison", [np.nan, 1e12, -5.0])
def test_a_poisoned_future_does_not_change_past_decisions(
    universe: list[Bars], full: BacktestResult, poison: float
) -> None:
    k = 120
    cut_day = full.days[k]
    poisoned = []
    for b in universe:
        later = b.dates > np.datetime64(cut_day, "D")
        arrays = {}
        for name in ("open", "high", "low", "close"):
            values = getattr(b, name).copy()
            values[later] = poison
            arrays[name] = values
        poisoned.append(replace(b, dates=b.dates.copy(), volume=b.volume.copy(), **arrays))
    bad = _replay(poisoned, end=full.days[k + 3])  # the graph also meets the poison itself
    assert bad.decisions[: k + 1] == full.decisions[: k + 1]
    assert [f for f in bad.fills if f.day <= cut_day] == [f for f in full.fills if f.day <= cut_day]


def test_the_market_shows_the_day_close_and_nothing_later(universe: list[Bars]) -> None:
    data = MarketData(universe)
    market = PointInTimeMarket(data, MARKETS)
    t = data.days.index(date(2021, 3, 3))
    market.at(data.view(t))
    samsung = universe[0]
    row = int(np.searchsorted(samsung.dates, np.datetime64(date(2021, 3, 3), "D")))

    async def read() -> None:
        quote = await market.quote("005930")
        assert quote.last_price_krw == samsung.close[row]
        assert quote.prev_close_krw == samsung.close[row - 1]
        etf = await market.quote("069500")
        assert etf.market is Market.ETF
        bars = await market.daily_bars("005930", date(2021, 12, 31), 500)
        assert bars[-1].day == date(2021, 3, 3) and len(bars) == row + 1
        assert await market.news_titles("005930", date(2021, 3, 3)) == []
        count, snap = market.indicator_snapshot("005930", date(2021, 3, 3))
        cut = [b.model_dump() for b in bars]
        assert count == row + 1 and snap == latest_snapshot(cut)
        # Asking for a later day still answers as of today.
        assert market.indicator_snapshot("005930", date(2021, 12, 31)) == (count, snap)

    asyncio.run(read())
    assert market.is_trading_day(date(2021, 3, 3))
    assert not market.is_trading_day(date(2021, 3, 4))  # known to the data, but tomorrow


def test_the_book_broker_reads_the_book_and_places_nothing(universe: list[Bars]) -> None:
    data = MarketData(universe)
    view = data.view(data.days.index(date(2021, 3, 3)))
    broker = BookBroker()
    book = PortfolioSnapshot(
        day=view.date,
        cash=Decimal(CASH - 8_200_000),
        positions={"005930": 100},
        equity=float(CASH),
        cost_basis={"005930": Decimal(8_201_230)},
    )
    broker.show(book, view, at=datetime(2021, 3, 3, 6, 30, tzinfo=UTC))

    async def use() -> None:
        account = await broker.account_snapshot()
        assert account.cash.deposit == CASH - 8_200_000
        (position,) = account.positions
        assert position.qty == 100 and position.avg_price == Decimal("82012.3")
        assert position.last_price == view.last_close("005930")
        order = OrderRequest(
            client_order_id="x", ticker="005930", side=Side.BUY, qty=1, limit_price=82_000
        )
        with pytest.raises(ReadOnlyBrokerError):
            await broker.place(order)
        with pytest.raises(ReadOnlyBrokerError):
            await broker.cancel("x")

    asyncio.run(use())


def test_llm_answers_are_cached_so_a_second_replay_makes_no_call(
    universe: list[Bars], full: BacktestResult, tmp_path: Path
) -> None:
    end = full.days[40]
    short = [b.between(end=end) for b in universe]
    cache = LLMAnswerCache(tmp_path / "llm-cache.sqlite")

    def replay(model: OpinionChatModel) -> BacktestResult:
        data = MarketData(short)
        with AgentsStrategy(data, markets=MARKETS, econ=ECON, llm=cached(model, cache)) as strategy:
            result = run_backtest(data, strategy, _config(end))
            assert strategy.params()["reasoner"] == "llm:fake-opinion-1"
        return result

    first_model = OpinionChatModel()
    first = replay(first_model)
    assert len(first_model.calls) >= 40 and cache.misses == len(first_model.calls)
    assert len(cache) == len(first_model.calls)
    rules = [d.intents for d in full.decisions[:41]]
    assert [d.intents for d in first.decisions] != rules  # the model's convictions were used

    # An ETF's macro-only conversation is the same every day: asked once, then answered here.
    lookups, hits_before = cache.hits + cache.misses, cache.hits
    second_model = OpinionChatModel()
    second = replay(second_model)
    assert second_model.calls == []
    assert cache.hits - hits_before == lookups
    assert second.decisions == first.decisions
    assert second.final_equity == first.final_equity and second.fills == first.fills

    cache.clear()
    assert len(cache) == 0
    cache.close()


def test_callbacks_see_every_node_of_every_replayed_day(universe: list[Bars]) -> None:
    from langchain_core.callbacks import BaseCallbackHandler

    class Seen(BaseCallbackHandler):
        def __init__(self) -> None:
            self.names: list[str] = []

        def on_chain_start(self, serialized: object, inputs: object, **kw: object) -> None:
            self.names.append(str(kw.get("name")))

    data = MarketData([b.between(end=date(2021, 1, 8)) for b in universe])
    seen = Seen()
    with AgentsStrategy(data, markets=MARKETS, callbacks=[seen]) as strategy:
        result = run_backtest(data, strategy, _config(date(2021, 1, 8)))
    days = len(result.decisions)
    assert days == 5  # 2021-01-04 .. 2021-01-08
    nodes = ("load_context", "market_analyst", "fundamental", "signals", "risk_manager")
    assert {n: seen.names.count(n) for n in nodes} == dict.fromkeys(nodes, days)


def test_a_run_records_its_markets_and_where_its_economic_data_came_from(
    universe: list[Bars],
) -> None:
    data = MarketData(universe)
    with AgentsStrategy(data, markets=MARKETS, econ=ECON.usable_on(date(2021, 6, 30))) as s:
        params = s.params()
    assert params["markets"] == {"069500": "ETF"}
    assert params["econ"] == (
        f"filings:{RECORDED / 'filings.csv'}, macro:{RECORDED / 'macro.csv'} "
        "as usable on 2021-06-30"
    )
    with AgentsStrategy(data) as bare:
        assert (bare.params()["markets"], bare.params()["econ"]) == ({}, None)


def test_the_replay_uses_the_risk_limits_it_is_given(universe: list[Bars]) -> None:
    limits = RiskLimits(max_order_krw=1_000_000, max_ticker_exposure_pct=Decimal(5))
    data = MarketData([b.between(end=date(2021, 3, 31)) for b in universe])
    with AgentsStrategy(data, limits=limits, markets=MARKETS, econ=ECON) as strategy:
        result = run_backtest(data, strategy, _config(date(2021, 3, 31)))
        limits = strategy.params()["limits"]
    assert (limits["max_order_krw"], limits["max_ticker_exposure_pct"]) == (1_000_000, "5")
    buys = [f for f in result.fills if f.side is Side.BUY]
    assert buys and all(f.qty * (f.intent.limit_price or 0) <= 1_000_000 for f in buys if f.intent)


def test_the_risk_gate_reserves_the_commission_the_simulated_broker_charges(
    universe: list[Bars],
) -> None:
    from evals.backtest.strategies import build_strategy

    data = MarketData(universe)
    chosen = build_strategy("agents", data=data, commission_rate=Decimal("0.001"))
    assert isinstance(chosen, AgentsStrategy)
    with chosen:
        assert chosen.context.cost_model.commission_rate == Decimal("0.001")
    with AgentsStrategy(data) as default:
        assert default.context.cost_model.commission_rate == DEFAULT_COMMISSION_RATE


def test_a_spent_llm_budget_stops_the_replay_and_cached_days_cost_nothing_again(
    universe: list[Bars], tmp_path: Path
) -> None:
    from evals.backtest.twin import ReplayBudgetSpentError

    end = date(2021, 1, 29)
    data = MarketData([b.between(end=end) for b in universe])
    cache = LLMAnswerCache(tmp_path / "llm-cache.sqlite")

    def replay(budget: int | None) -> tuple[str, AgentsStrategy]:
        model = OpinionChatModel()  # 150 tokens an answer; 6 conversations a day
        strategy = AgentsStrategy(
            data, markets=MARKETS, econ=ECON, llm=cached(model, cache), llm_token_budget=budget
        )
        with strategy:
            try:
                run_backtest(data, strategy, _config(end))
            except ReplayBudgetSpentError as exc:
                return str(exc), strategy
        return "", strategy

    def spent_on(message: str) -> date:
        found = re.search(r"budget of 3,000 tokens is spent on (\S+) \(3,000 used\)", message)
        assert found, message
        return date.fromisoformat(found[1])

    first, spent = replay(3_000)  # 20 answers of 150 tokens
    assert date(2021, 1, 4) < spent_on(first) < end
    assert spent.failed_opinions[("market_analyst", SignalStatus.BUDGET_EXHAUSTED)] >= 1
    second, _ = replay(3_000)  # the first 20 answers now come from the cache, free
    assert spent_on(second) > spent_on(first)
    finished, done = replay(None)
    assert finished == ""
    # Only 000660's fundamentals fail, on each of the 20 days: its first report is from March.
    assert done.failed_opinions == {("fundamental", SignalStatus.DATA_FAILED): 20}
    cache.close()
