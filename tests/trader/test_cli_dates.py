"""`trader session run --date`: only today's session trades; other dates are analysed only.

Today is the KRX date of the CLI's clock. A past or future `--date` runs the analysis on its own
thread (`<portfolio>:<date>:analysis`, or `demo-analysis`), so it never uses up that day's
session; a date outside the KRX calendar is one line and exit 2, before any thread exists.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner, Result

from core.clock import KST
from db.engine import create_db_engine
from db.models import Order, Run
from tests.trader.clocks import ShiftedClock
from trader.cli.main import app

TODAY = datetime(2026, 11, 26, 10, 0, tzinfo=KST)
"""A Thursday; the next day is a trading day too."""
TOMORROW = datetime(2026, 11, 27, 10, 0, tzinfo=KST)
TICKERS = "051910,035420"


def invoke(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def _pin(monkeypatch: pytest.MonkeyPatch, start: datetime) -> None:
    monkeypatch.setattr("trader.cli.clock.session_clock", partial(ShiftedClock, start))


def _rows(url: str) -> tuple[list[str], int]:
    engine = create_db_engine(url)
    try:
        with engine.connect() as conn:
            threads = list(conn.scalars(sa.select(Run.thread_id).order_by(Run.id)))
            orders = int(conn.scalar(sa.select(sa.func.count()).select_from(Order)) or 0)
        return threads, orders
    finally:
        engine.dispose()


def test_a_date_outside_the_calendar_is_one_line_before_any_thread(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _pin(monkeypatch, TODAY)
    for args in (("--demo",), ()):
        result = invoke("session", "run", *args, "--date", "2199-01-02")
        assert result.exit_code == 2, result.output
        assert len(result.output.strip().splitlines()) == 1, result.output
        assert "2199-01-02 is outside the KRX calendar" in result.output
        assert "Traceback" not in result.output
    assert not (tmp_path / "data" / "trader.db").exists()


def test_a_future_date_is_analysed_and_leaves_that_days_session_untouched(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", db_url)
    _pin(monkeypatch, TODAY)
    ahead = invoke("session", "run", "--demo", "--auto-approve", "--tickers", TICKERS,
                   "--date", "2026-11-27")  # fmt: skip
    assert ahead.exit_code == 0, ahead.output
    assert "default:2026-11-27:demo-analysis" in ahead.output
    assert "analysis only: 2026-11-27 is not today's session (2026-11-26 KST)" in ahead.output
    assert "Orders the risk gate would propose (not sent)" in ahead.output
    assert "Approving" not in ahead.output and "Proposed orders" not in ahead.output
    assert _rows(db_url) == (["default:2026-11-27:demo-analysis"], 0)

    # On the day itself, its session is still to be traded.
    _pin(monkeypatch, TOMORROW)
    on_the_day = invoke("session", "run", "--demo", "--tickers", TICKERS)
    assert on_the_day.exit_code == 0, on_the_day.output
    assert "Starting session default:2026-11-27:demo" in on_the_day.output
    assert "Proposed orders" in on_the_day.output
    assert "trader approve default:2026-11-27:demo --all" in on_the_day.output
    threads, orders = _rows(db_url)
    assert threads[-1] == "default:2026-11-27:demo" and orders > 0
