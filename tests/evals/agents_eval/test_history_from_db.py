"""The history scenarios built from the database's bars: the prices `trader data collect` stores.

The real KRX prices of `../shared/market-data` are stored in `market_data` (as the collector
would), then read back through `DatabaseBarSource`: the dates are the quarter starts the stored
bars cover, and each scenario holds the same known bars and outcome as the folder's dataset.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from core.clock import KST
from db import migrate
from db.engine import create_db_engine, session_factory, transaction
from db.repositories import MarketDataRepository
from evals.agents_eval.datasets import load_dataset
from evals.agents_eval.history import HISTORY_TICKERS, HORIZON, LOOKBACK_BARS
from evals.backtest.data import CsvBarSource, DatabaseBarSource
from trader.cli.main import app

STORED_FROM, STORED_TO = date(2022, 1, 3), date(2023, 12, 22)


def store_shared_bars(db_url: str, shared_dir: Path) -> None:
    """The four tickers' real daily bars of 2022-2023, stored as the collector stores bars."""
    migrate.upgrade(db_url)
    engine = create_db_engine(db_url)
    csv = CsvBarSource(shared_dir / "market-data")
    try:
        with transaction(session_factory(engine)) as session:
            for ticker in HISTORY_TICKERS:
                bars = csv.daily_bars(ticker, STORED_FROM, STORED_TO)
                MarketDataRepository(session).save_bars(
                    [
                        {
                            "ticker": ticker,
                            "interval": "1d",
                            "bar_time": datetime.combine(d.item(), time(9), KST).astimezone(UTC),
                            "open_krw": int(o),
                            "high_krw": int(h),
                            "low_krw": int(lo),
                            "close_krw": int(c),
                            "volume": int(v),
                            "source": "test",
                        }
                        for d, o, h, lo, c, v in zip(
                            bars.dates,
                            bars.open,
                            bars.high,
                            bars.low,
                            bars.close,
                            bars.volume,
                            strict=True,
                        )
                    ]
                )
    finally:
        engine.dispose()


@pytest.mark.shared
def test_the_history_scenarios_come_from_the_stored_bars(db_url: str, shared_dir: Path) -> None:
    store_shared_bars(db_url, shared_dir)
    engine = create_db_engine(db_url)
    try:
        data = load_dataset("history", DatabaseBarSource(session_factory(engine)))
    finally:
        engine.dispose()
    assert data.version == "history-1+db"
    # 130 bars from 2022-01-03 reach into July 2022; 5 after leave the last quarter of 2023 in.
    days = [s.as_of for s in data.scenarios]
    assert days[0] == date(2022, 10, 4) and days[-1] == date(2023, 10, 4)
    assert len(days) == 5
    folder = load_dataset("history", shared_dir / "market-data")
    for scenario in data.scenarios:
        same = folder.by_id(scenario.id)
        assert scenario.returns == same.returns
        for stored, csv in zip(scenario.bars, same.bars, strict=True):
            assert len(stored) == LOOKBACK_BARS and stored.dates[-1].item() == scenario.as_of
            assert stored.close.tolist() == csv.close.tolist()
    assert all(s.horizon == HORIZON for s in data.scenarios)


@pytest.mark.shared
def test_trader_evals_run_from_db(
    sqlite_url: str, shared_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store_shared_bars(sqlite_url, shared_dir)
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    monkeypatch.delenv("LANGSMITH_API_KEY", raising=False)
    monkeypatch.setenv("LLM_PROVIDER", "none")
    result = CliRunner().invoke(app, ["evals", "run", "--dataset", "history", "--from-db"])
    assert result.exit_code == 0, result.output
    assert "evaluating history@history-1+db (5 scenarios)" in result.output
    empty = tmp_path / "empty.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{empty}")
    nothing = CliRunner().invoke(app, ["evals", "run", "--dataset", "history", "--from-db"])
    assert nothing.exit_code != 0
    assert "the database has no daily bars of 005930" in nothing.output
    assert "trader data collect --tickers 005930,000660,035420,069500" in nothing.output
    both = ["evals", "run", "--from-db", "--market-data", str(tmp_path)]
    refused = CliRunner().invoke(app, both)
    assert refused.exit_code != 0 and "not both" in refused.output
