"""The `fundamentals` table as a replay's company figures: point in time through `known_by`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from agents.schemas import AnalystOpinion
from agents.state import read_context, read_opinions
from db import migrate
from db.engine import create_db_engine, session_factory, transaction
from db.fundamentals import FundamentalsRepository
from evals.backtest.broker import BrokerConfig
from evals.backtest.data import CsvBarSource
from evals.backtest.engine import BacktestConfig, run_backtest
from evals.backtest.orders import OrderIntent, PortfolioSnapshot
from evals.backtest.stored_fundamentals import (
    StoredFundamentals,
    StoredKisRatios,
    stored_report_tickers,
)
from evals.backtest.twin import AgentsStrategy
from evals.backtest.view import MarketData, PointInTimeView
from tests.evals.backtest.stored_reports import FILED_FY2020, annual_report_row


@contextmanager
def storing(db_url: str, rows: list[dict[str, Any]]) -> Iterator[sessionmaker[Session]]:
    """A migrated database holding `rows` in `fundamentals`."""
    migrate.upgrade(db_url)
    engine = create_db_engine(db_url)
    sessions = session_factory(engine)
    with transaction(sessions) as session:
        FundamentalsRepository(session).save(rows)
    try:
        yield sessions
    finally:
        engine.dispose()


@pytest.fixture
def stored(db_url: str) -> Iterator[sessionmaker[Session]]:
    rows = [
        annual_report_row(2019, date(2020, 3, 17), 14_000_000_000_000),
        annual_report_row(2020, FILED_FY2020, 60_000_000_000_000),
        # A KIS ratio row is no annual report: it does not count as one.
        {
            **annual_report_row(2020, FILED_FY2020, 1),
            "source": "kis",
            "kind": "financial_ratio",
            "period": "202012",
            "ticker": "000660",
        },
    ]
    with storing(db_url, rows) as sessions:
        yield sessions


def test_a_report_is_read_from_the_day_it_became_known(stored: sessionmaker[Session]) -> None:
    assert stored_report_tickers(stored, ["000660", "005930", "035420"]) == ["005930"]
    econ = StoredFundamentals(stored, ["005930", "000660"])
    assert econ.tickers == frozenset({"005930"}) and not econ.has_macro
    before = econ.fundamentals_on("005930", FILED_FY2020)
    after = econ.fundamentals_on("005930", FILED_FY2020 + timedelta(days=1))
    assert before is not None and after is not None
    assert (before.fiscal_year, before.net_income) == (2019, 14_000_000_000_000)
    assert (after.fiscal_year, after.net_income) == (2020, 60_000_000_000_000)
    assert after.published_on == FILED_FY2020 and after.as_of == FILED_FY2020 + timedelta(days=1)
    assert econ.fundamentals_on("005930", date(2020, 3, 17)) is None  # FY2019 not yet known
    assert econ.fundamentals_on("005930", date(2024, 6, 3)) is None  # too old for live rules
    assert econ.fundamentals_on("000660", date(2021, 6, 1)) is None


class Recording(AgentsStrategy):
    """The agents strategy, keeping each day's fundamental opinion of 005930."""

    def __init__(self, data: MarketData, econ: StoredFundamentals) -> None:
        super().__init__(data, econ=econ)
        self.seen: dict[date, AnalystOpinion] = {}

    def decide(self, view: PointInTimeView, portfolio: PortfolioSnapshot) -> list[OrderIntent]:
        intents = list(super().decide(view, portfolio))
        assert self.last_state is not None
        (opinion,) = [o for o in read_opinions(self.last_state) if o.agent == "fundamental"]
        self.seen[view.date] = opinion
        return intents


def test_a_report_known_after_day_t_never_reaches_day_t_decision(
    stored: sessionmaker[Session], shared_dir: Path
) -> None:
    bars = CsvBarSource(shared_dir / "market-data").daily_bars(
        "005930", date(2020, 8, 1), date(2021, 3, 19)
    )
    data = MarketData([bars])
    econ = StoredFundamentals(stored, ["005930"])
    config = BacktestConfig(
        cash=100_000_000, broker=BrokerConfig(), start=date(2021, 3, 2), end=date(2021, 3, 19)
    )
    with Recording(data, econ) as strategy:
        result = run_backtest(data, strategy, config)
        assert strategy.fundamental_missing == ()
    years = {d: o.evidence.get("dart_fiscal_year") for d, o in strategy.seen.items()}
    assert list(years) == result.days
    assert {y for d, y in years.items() if d <= FILED_FY2020} == {2019}
    assert {y for d, y in years.items() if d > FILED_FY2020} == {2020}
    assert FILED_FY2020 in years  # the filing day itself is replayed and still sees FY2019


def kis_ratio_row(period: str, known_on: date, eps: int, bps: int) -> dict[str, Any]:
    """A KIS financial-ratio row as `trader data collect` stores it (deadline-dated)."""
    return {
        "ticker": "005930",
        "source": "kis",
        "kind": "financial_ratio",
        "period": period,
        "figures": {"eps": str(eps), "bps": str(bps), "roe": "9.5", "debt_ratio": "35.0"},
        "known_on": known_on,
        "known_basis": "deadline",
        "fetched_at": datetime(2024, 6, 1, tzinfo=UTC),
    }


FY2020_RATIOS_DUE = date(2021, 3, 31)
"""The FY2020 annual ratios count as known from the 90-day filing deadline."""


@pytest.fixture
def stored_ratios(db_url: str) -> Iterator[sessionmaker[Session]]:
    rows = [
        kis_ratio_row("201912", date(2020, 3, 30), eps=5_000, bps=40_000),
        kis_ratio_row("202012", FY2020_RATIOS_DUE, eps=4_000, bps=45_000),
    ]
    with storing(db_url, rows) as sessions:
        yield sessions


class RecordingValuation(AgentsStrategy):
    """The agents strategy, keeping what the fundamental analyst read of 005930 each day."""

    def __init__(self, data: MarketData, figures: StoredKisRatios) -> None:
        super().__init__(data, figures=figures)
        self.seen: dict[date, tuple[object, object, int | None]] = {}

    def decide(self, view: PointInTimeView, portfolio: PortfolioSnapshot) -> list[OrderIntent]:
        intents = list(super().decide(view, portfolio))
        assert self.last_state is not None
        (opinion,) = [o for o in read_opinions(self.last_state) if o.agent == "fundamental"]
        price = read_context(self.last_state).market["005930"].last_price_krw
        self.seen[view.date] = (
            opinion.evidence.get("kis_period"),
            opinion.evidence.get("per"),
            price,
        )
        return intents


def test_stored_kis_ratios_reach_a_replay_point_in_time_with_the_day_s_per(
    stored_ratios: sessionmaker[Session], shared_dir: Path
) -> None:
    assert stored_report_tickers(stored_ratios, ["005930"]) == []  # no annual report stored
    assert stored_report_tickers(stored_ratios, ["005930"], source="kis") == ["005930"]
    figures = StoredKisRatios(stored_ratios, ["005930", "000660"])
    assert figures.tickers == frozenset({"005930"})
    assert figures.kis_ratios_on("005930", date(2020, 3, 29)).financial is None
    bars = CsvBarSource(shared_dir / "market-data").daily_bars(
        "005930", date(2020, 8, 1), date(2021, 4, 9)
    )
    data = MarketData([bars])
    config = BacktestConfig(
        cash=100_000_000, broker=BrokerConfig(), start=date(2021, 3, 22), end=date(2021, 4, 9)
    )
    with RecordingValuation(data, figures) as strategy:
        result = run_backtest(data, strategy, config)
        # The stored ratios alone make the company covered: no annual report is needed.
        assert strategy.fundamental_missing == ()
        assert strategy.params()["company_figures"] == "db:fundamentals (kis ratios)"
    assert list(strategy.seen) == result.days
    for day, (period, per, price) in strategy.seen.items():
        eps = 5_000 if day < FY2020_RATIOS_DUE else 4_000
        assert period == (201912 if day < FY2020_RATIOS_DUE else 202012), day
        assert price is not None and per == round(Decimal(price) / eps, 2), day
    assert {p for d, (p, _, _) in strategy.seen.items() if d >= FY2020_RATIOS_DUE} == {202012}
