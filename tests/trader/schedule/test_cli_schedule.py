"""`trader schedule` end to end: the dry-run plan, and a run through the session CLI's path.

The run test starts a real session on the demo market (the in-process KIS simulator, the rules
reasoner, a SQLite database): it stops at the approval and leaves it pending.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import date, datetime
from functools import partial
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from core.clock import KST
from db import migrate
from db.engine import create_db_engine
from db.models import Approval, Order, Run, RunStatus, SessionClaim
from tests.trader.clocks import ShiftedClock
from tests.trader.real_account_sim import serve_real_account
from tools.kis.simulator import SimulatorServer
from trader.cli.main import app
from trader.cli.schedule import build_schedule, calendar_for
from trader.schedule.days import KisCheckedCalendar, XkrxCalendar
from trader.schedule.runner import Outcome
from trader.settings import load_settings


def pin_clock(monkeypatch: pytest.MonkeyPatch, start: datetime) -> None:
    monkeypatch.setattr("trader.cli.clock.session_clock", partial(ShiftedClock, start))


def test_dry_run_prints_the_plan_across_the_new_year(monkeypatch: pytest.MonkeyPatch) -> None:
    pin_clock(monkeypatch, datetime(2024, 12, 30, 12, 0, tzinfo=KST))
    result = CliRunner().invoke(app, ["schedule", "--dry-run", "--days", "6"])
    assert result.exit_code == 0, result.output
    lines = {
        line.split("│")[1].strip(): line for line in result.output.splitlines() if "│ 20" in line
    }
    assert list(lines) == [f"2024-12-{d}" for d in (30, 31)] + [
        f"2025-01-0{d}" for d in (1, 2, 3, 4)
    ]
    assert "08:40 pre_open, 14:30 regular" in lines["2024-12-30"]
    assert (
        "none (KRX holiday)" in lines["2024-12-31"] and "none (KRX holiday)" in lines["2025-01-01"]
    )
    assert "09:40 pre_open (late opening: 08:40 + 1:00:00)" in lines["2025-01-02"]
    assert "none (weekend)" in lines["2025-01-04"]
    assert "Next run: 2024-12-30 14:30 KST regular" in result.output


def test_dry_run_reads_schedule_runs_and_refuses_a_bad_one(monkeypatch: pytest.MonkeyPatch) -> None:
    pin_clock(monkeypatch, datetime(2025, 1, 3, 7, 0, tzinfo=KST))
    monkeypatch.setenv("SCHEDULE_RUNS", "10:15 regular")
    shown = CliRunner().invoke(app, ["schedule", "--dry-run", "--days", "1", "--demo"])
    assert shown.exit_code == 0, shown.output
    assert "10:15 demo" in shown.output and "pre_open" not in shown.output
    monkeypatch.setenv("SCHEDULE_RUNS", "10:15 lunch")
    refused = CliRunner().invoke(app, ["schedule", "--dry-run"])
    assert refused.exit_code != 0
    assert "SCHEDULE_RUNS" in refused.output and "phase must be one of" in refused.output


def test_a_scheduled_run_stops_at_the_approval_and_a_restart_does_not_run_it_again(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="trader")
    # 2026-11-26 is a Thursday on which the seeded demo market proposes buys.
    pin_clock(monkeypatch, datetime(2026, 11, 26, 10, 0, tzinfo=KST))
    monkeypatch.setenv("SCHEDULE_RUNS", "10:00 regular")
    monkeypatch.setenv("WATCHLIST", "051910,035420")
    settings = load_settings()
    migrate.upgrade(settings.resolved_database_url)  # `trader schedule` does it before serving
    schedule = build_schedule(settings, demo=True)
    assert schedule.fire("regular") is Outcome.STARTED
    assert "waiting for approval: trader approve default:2026-11-26:demo" in caplog.text
    assert "default:2026-11-26:demo: risk_manager: 2 orders proposed" in caplog.text
    assert "next run: 2026-11-27 10:00 KST regular" in caplog.text

    engine = create_db_engine(settings.resolved_database_url)
    try:
        with engine.connect() as conn:
            runs = conn.execute(sa.select(Run.thread_id, Run.status)).all()
            assert [(r.thread_id, r.status) for r in runs] == [
                ("default:2026-11-26:demo", RunStatus.AWAITING_APPROVAL)
            ]
            proposed = conn.scalar(sa.select(sa.func.count()).select_from(Order))
            assert proposed and proposed > 0
            # Never approved by itself.
            assert conn.scalar(sa.select(sa.func.count()).select_from(Approval)) == 0

        # A restart later that morning: the run is found in the database and not started.
        caplog.clear()
        restarted = build_schedule(load_settings(), demo=True)
        restarted.clock = ShiftedClock(datetime(2026, 11, 26, 10, 10, tzinfo=KST))
        assert list(restarted.catch_up().values()) == [Outcome.SKIPPED]
        assert "already started as thread default:2026-11-26:demo" in caplog.text
        with engine.connect() as conn:
            assert conn.scalar(sa.select(sa.func.count()).select_from(Run)) == 1
            assert conn.scalar(sa.select(sa.func.count()).select_from(SessionClaim)) == 1
            assert conn.scalar(sa.select(sa.func.count()).select_from(Order)) == proposed
    finally:
        engine.dispose()


@pytest.fixture
def real_account(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SimulatorServer]:
    yield from serve_real_account(tmp_path, monkeypatch)


def test_a_real_account_cross_checks_the_calendar_with_kis_over_http(
    real_account: SimulatorServer, caplog: pytest.LogCaptureFixture
) -> None:
    calendar = calendar_for(load_settings(), demo=False)
    assert isinstance(calendar, KisCheckedCalendar)
    # The simulator answered chk-holiday from the pinned day (2026-11-26) on.
    assert calendar.kis_open[date(2026, 11, 26)] is True
    assert calendar.kis_open[date(2026, 11, 28)] is False  # a Saturday
    assert "disagree" not in caplog.text
    shown = CliRunner().invoke(app, ["schedule", "--dry-run", "--days", "3"])
    assert shown.exit_code == 0, shown.output
    assert "2026-11-28 │ Sat │ none (weekend)" in shown.output


def test_without_a_real_account_kis_is_not_asked() -> None:
    assert isinstance(calendar_for(load_settings(), demo=False), XkrxCalendar)
