"""A replay without company figures for some tickers says so once, and decides them honestly.

Without data the fundamental analyst would answer `data_failed` for a ticker on every replayed
day; the replay instead leaves the ticker out of that analyst, names it once, and the market
analyst's opinion alone decides it.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from agents.schemas import Signal
from agents.state import read_opinions, read_signals
from db.models import SignalStatus
from evals.backtest.broker import BrokerConfig
from evals.backtest.data import Bars, CsvBarSource
from evals.backtest.engine import BacktestConfig, run_backtest
from evals.backtest.fundamentals import RecordedEcon
from evals.backtest.report import write_html_report
from evals.backtest.twin import AgentsStrategy
from evals.backtest.view import MarketData
from tools.krx.rules import Market

HISTORY_FROM, START, END = date(2020, 8, 1), date(2021, 1, 4), date(2021, 1, 29)
TICKERS = ("005930", "000660", "069500")
MARKETS = {"069500": Market.ETF}
RECORDED = Path(__file__).parents[2] / "graphs" / "recorded_econ"


@pytest.fixture(scope="module")
def data(shared_dir: Path) -> MarketData:
    source = CsvBarSource(shared_dir / "market-data")
    bars: list[Bars] = [source.daily_bars(t, HISTORY_FROM, END) for t in TICKERS]
    return MarketData(bars)


def _config() -> BacktestConfig:
    return BacktestConfig(
        cash=100_000_000, broker=BrokerConfig(markets=MARKETS), start=START, end=END
    )


def _signal(strategy: AgentsStrategy, ticker: str) -> Signal:
    assert strategy.last_state is not None
    (signal,) = [s for s in read_signals(strategy.last_state) if s.ticker == ticker]
    return signal


def test_without_fundamentals_the_analyst_is_left_out_once_not_failed_daily(
    data: MarketData, tmp_path: Path
) -> None:
    with AgentsStrategy(data, markets=MARKETS) as strategy:
        result = run_backtest(data, strategy, _config())
        assert strategy.fundamental_missing == TICKERS
        assert strategy.params()["fundamental_no_data"] == list(TICKERS)
        # Not one data_failed opinion over the replay: the analyst judged nobody.
        assert strategy.failed_opinions == {}
        assert strategy.last_state is not None
        agents = {o.agent for o in read_opinions(strategy.last_state)}
        assert agents == {"market_analyst"}
        for ticker in TICKERS:
            signal = _signal(strategy, ticker)
            (market,) = signal.opinions
            assert market.agent == "market_analyst" and signal.failed_agents == ()
            assert signal.reason.startswith("1 of 1 opinions ok")
    assert len(result.decisions) == len(result.days) > 15
    report = tmp_path / "report.html"
    write_html_report(result, report)
    text = report.read_text(encoding="utf-8")
    assert "The fundamental analyst had no data for 005930, 000660, 069500" in text
    assert text.count("had no data for") == 1


def test_only_the_tickers_without_data_are_left_out(data: MarketData) -> None:
    filings_only = RecordedEcon.from_files(RECORDED / "filings.csv")  # no macro: ETFs lack data
    with AgentsStrategy(data, markets=MARKETS, econ=filings_only) as strategy:
        run_backtest(data, strategy, _config())
        assert strategy.fundamental_missing == ("069500",)
        assert strategy.last_state is not None
        judged = {o.ticker for o in read_opinions(strategy.last_state) if o.agent == "fundamental"}
        assert judged == {"005930", "000660"}
        assert [o.agent for o in _signal(strategy, "069500").opinions] == ["market_analyst"]
        # A company with recorded reports still fails honestly on days none is usable yet:
        # 000660's only report in range is filed in March 2021, after this replay.
        assert strategy.failed_opinions == {("fundamental", SignalStatus.DATA_FAILED): 20}
    everything = RecordedEcon.from_files(RECORDED / "filings.csv", RECORDED / "macro.csv")
    with AgentsStrategy(data, markets=MARKETS, econ=everything) as covered:
        assert covered.fundamental_missing == ()
        assert "fundamental_no_data" not in covered.params()
