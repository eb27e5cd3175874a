"""`trader data collect` on the built-in market: fills the database, then finds nothing to fetch."""

from __future__ import annotations

from datetime import datetime
from functools import partial

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from core.clock import KST
from db.engine import create_db_engine
from db.models import Fundamental, MarketBar
from tests.trader.clocks import ShiftedClock
from trader.cli.main import app
from trader.settings import load_settings

START = datetime(2026, 11, 26, 10, 0, tzinfo=KST)
"""A Thursday: bars are collected up to Wednesday 2026-11-25."""


@pytest.fixture(autouse=True)
def _pinned_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("trader.cli.clock.session_clock", partial(ShiftedClock, START))


def stored() -> tuple[int, int, datetime | None]:
    engine = create_db_engine(load_settings().resolved_database_url)
    try:
        with engine.connect() as conn:
            bars = conn.scalar(sa.select(sa.func.count()).select_from(MarketBar)) or 0
            figures = conn.scalar(sa.select(sa.func.count()).select_from(Fundamental)) or 0
            last = conn.scalar(sa.select(sa.func.max(MarketBar.bar_time)))
    finally:
        engine.dispose()
    return int(bars), int(figures), last


def test_collect_fills_the_database_and_a_rerun_fetches_nothing() -> None:
    args = ["data", "collect", "--demo", "--tickers", "005930,000660", "--since", "2026-06-01"]
    first = CliRunner().invoke(app, [*args, "--no-econ"])
    assert first.exit_code == 0, first.output
    assert "bars written" in first.output and "EGW00201 answers 0" in first.output
    bars, figures, last = stored()
    assert bars > 2 * 100 and figures > 0
    assert last is not None and last.astimezone(KST).date().isoformat() == "2026-11-25"

    again = CliRunner().invoke(app, [*args, "--no-econ"])
    assert again.exit_code == 0, again.output
    assert "up_to_date 2" in again.output
    assert stored() == (bars, figures, last)


def test_tickers_and_universe_are_exclusive() -> None:
    result = CliRunner().invoke(app, ["data", "collect", "--tickers", "005930", "--universe"])
    assert result.exit_code == 2
    assert "not both" in result.output
