"""`trader approve` with `SERVICE_FOLLOWS_FILLS`: the service follows fills, the terminal is free.

The service is the real app under Uvicorn on a free port (`tests.trader.service.test_sessions.
served`), on the same database and demo market as the CLI; without one listening, the command
follows the fills itself as before.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner, Result

from core.clock import Clock
from core.orders import OrderStatus
from tests.trader.clocks import ShiftedClock
from tests.trader.service.conftest import AUTH, START, THREAD, TOKEN, service_settings
from tests.trader.service.test_sessions import broker_orders, db_orders, served
from tests.trader.service.test_telegram_approvals import approvers_of
from trader.cli.main import app
from trader.settings import Settings, load_settings

TICKERS = "051910,035420"


def invoke(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def use_same_books(monkeypatch: pytest.MonkeyPatch, settings: Settings, url: str) -> None:
    """The CLI on the service's database and demo market, handing over to `url`."""
    monkeypatch.setenv("DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("WATCHLIST", TICKERS)
    monkeypatch.setenv("SERVICE_PUBLIC_URL", url)
    monkeypatch.setenv("SERVICE_FOLLOWS_FILLS", "true")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_approve_hands_over_to_the_service_and_returns_once_placed(
    tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = service_settings(tmp_path / "data", db_url)
    clock: Callable[[], Clock] = partial(ShiftedClock, START)
    with served(settings, clock) as base, httpx.Client(base_url=base, timeout=120) as http:
        assert http.post("/api/sessions", headers=AUTH).json()["session"]["awaiting_approval"]
        use_same_books(monkeypatch, settings, base)

        # Without the service's token: refused, nothing sent.
        refused = invoke("approve", THREAD, "--all")
        assert refused.exit_code != 0
        assert "refused the token: set SERVICE_AUTH_TOKEN" in refused.output, refused.output
        assert broker_orders(settings) == []

        monkeypatch.setenv("SERVICE_AUTH_TOKEN", TOKEN)
        result = invoke("approve", THREAD, "--all")
        assert result.exit_code == 0, result.output
        assert f"Handing {THREAD} to the service: " in result.output
        assert "The service placed 2 of 2 orders; it follows their fills" in result.output, (
            result.output
        )
        assert f"Watch: {base}/sessions/{THREAD}" in result.output, result.output
        assert "Portfolio: cash" not in result.output  # the report is the service's to show
        assert TOKEN not in result.output

        # The service finishes following; each order once, decided by the CLI.
        deadline = time.monotonic() + 60
        while not http.get(f"/api/sessions/{THREAD}", headers=AUTH).json()["finished"]:
            assert time.monotonic() < deadline, "the service did not finish the session"
            time.sleep(0.1)
        late = invoke("approve", THREAD, "--all")
        assert late.exit_code != 0 and "is finished" in late.output, late.output
    rows = db_orders(settings)
    assert len(rows) == 2 and {r.status for r in rows} == {OrderStatus.FILLED}, rows
    assert len(broker_orders(settings)) == 2
    assert approvers_of(settings) == {"cli"}


def test_without_a_service_approve_follows_the_fills_itself(
    tmp_path: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("trader.cli.clock.session_clock", partial(ShiftedClock, START))
    settings = load_settings(data_dir=tmp_path / "data", database_url=sqlite_url)
    use_same_books(monkeypatch, settings, f"http://127.0.0.1:{free_port()}")
    first = invoke("session", "run", "--demo", "--tickers", TICKERS)
    assert first.exit_code == 0, first.output
    result = invoke("approve", THREAD, "--all")
    assert result.exit_code == 0, result.output
    assert "No service answers at http://127.0.0.1:" in result.output
    assert "following the fills here" in result.output
    assert "Portfolio: cash" in result.output  # followed to the end, as without the setting
    rows = db_orders(settings)
    assert len(rows) == 2 and {r.status for r in rows} == {OrderStatus.FILLED}
