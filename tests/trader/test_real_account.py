"""A real account is never one setting away from trading.

- `TRADING_MODE=kis-real` needs `KIS_REAL_ACCOUNT_CONFIRM` naming the same account: missing or
  naming another, nothing starts (one line, exit 2).
- Automatic approval on a real account needs `KIS_REAL_AUTO_APPROVE=true` as well.
- A real account's sessions stay in one database, recorded by a per-user marker (`STATE_DIR`),
  not by the working directory: from another folder (another `./data`) they are refused until
  `DATABASE_URL` points back or `trader account claim` moves the marker.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner, Result

from core.errors import ConfigurationError
from core.orders import OrderStatus
from db.engine import create_db_engine
from db.models import Order, Run
from tests.trader.real_account_sim import ACCOUNT, THREAD, TICKERS, serve_real_account
from tools.kis.simulator import SimulatorServer
from trader.accounts import account_fingerprint
from trader.cli.main import app
from trader.settings import load_settings

KEYS = {"kis_app_key": "PS" + "k" * 34, "kis_app_secret": "s" * 180}


def invoke(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


@pytest.fixture
def simulator(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SimulatorServer]:
    yield from serve_real_account(tmp_path, monkeypatch)


def _one_line(result: Result, *parts: str) -> str:
    assert result.exit_code == 2, result.output
    assert len(result.output.strip().splitlines()) == 1, result.output
    for part in parts:
        assert part in result.output, result.output
    return result.output


def test_a_real_account_needs_a_second_opt_in_naming_it() -> None:
    with pytest.raises(ConfigurationError, match="KIS_REAL_ACCOUNT_CONFIRM") as missing:
        load_settings(trading_mode="kis-real", kis_account_no="12345678-01", **KEYS)
    assert "12345678" not in str(missing.value)
    with pytest.raises(ConfigurationError, match="names another account") as other:
        load_settings(
            trading_mode="kis-real",
            kis_account_no="12345678-01",
            kis_real_account_confirm="12345679",
            **KEYS,
        )
    assert "12345678" not in str(other.value) and "12345679" not in str(other.value)
    with pytest.raises(ConfigurationError, match="names another account"):
        load_settings(  # the same CANO, another product
            trading_mode="kis-real",
            kis_account_no="12345678-01",
            kis_real_account_confirm="12345678-22",
            **KEYS,
        )
    same = load_settings(
        trading_mode="kis-real",
        kis_account_no="12345678",
        kis_real_account_confirm=" 12345678-01 ",
        **KEYS,
    )
    assert not same.kis_real_auto_approve
    assert "12345678" not in repr(same)
    # A virtual account needs no second opt-in.
    load_settings(trading_mode="kis-virtual", kis_account_no="12345678", **KEYS)


def test_the_cli_refuses_a_real_account_without_the_opt_in(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TRADING_MODE", "kis-real")
    monkeypatch.setenv("KIS_APP_KEY", KEYS["kis_app_key"])
    monkeypatch.setenv("KIS_APP_SECRET", KEYS["kis_app_secret"])
    monkeypatch.setenv("KIS_ACCOUNT_NO", ACCOUNT)
    monkeypatch.setenv("KIS_BASE_URL", "http://127.0.0.1:9")  # nothing listens: never KIS
    _one_line(invoke("session", "run"), "KIS_REAL_ACCOUNT_CONFIRM")
    monkeypatch.setenv("KIS_REAL_ACCOUNT_CONFIRM", "11112222")
    output = _one_line(invoke("session", "run"), "names another account")
    assert ACCOUNT not in output and "11112222" not in output


def _runs(url: str) -> list[str]:
    engine = create_db_engine(url)
    try:
        with engine.connect() as conn:
            return list(conn.scalars(sa.select(Run.thread_id)))
    finally:
        engine.dispose()


def test_auto_approval_on_a_real_account_needs_its_own_opt_in(
    simulator: SimulatorServer, monkeypatch: pytest.MonkeyPatch, sqlite_url: str
) -> None:
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    _one_line(
        invoke("session", "run", "--auto-approve", "--tickers", TICKERS),
        "automatic approval (--auto-approve) is refused on a real account",
        "KIS_REAL_AUTO_APPROVE=true",
    )
    assert not Path(sqlite_url.removeprefix("sqlite:///")).exists(), "nothing was started"
    assert simulator.broker_orders() == []

    monkeypatch.setenv("KIS_REAL_AUTO_APPROVE", "true")
    allowed = invoke("session", "run", "--auto-approve", "--tickers", TICKERS)
    assert allowed.exit_code == 0, allowed.output
    assert "Approving every order automatically (--auto-approve)" in allowed.output
    assert len(simulator.broker_orders()) == 2
    engine = create_db_engine(sqlite_url)
    try:
        with engine.connect() as conn:
            assert set(conn.scalars(sa.select(Order.status))) == {OrderStatus.FILLED}
    finally:
        engine.dispose()


def test_a_real_accounts_sessions_stay_in_its_database_whatever_the_folder(
    simulator: SimulatorServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    state = tmp_path / "state"
    monkeypatch.setenv("STATE_DIR", str(state))
    # The database resolves from the working directory (as the default ./data does); the
    # token cache stays in one place (the simulator, like KIS, gives one token a minute).
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "kis"))
    monkeypatch.setenv("DATABASE_URL", "sqlite:///./trader.db")
    here, elsewhere = tmp_path / "here", tmp_path / "elsewhere"
    here.mkdir()
    elsewhere.mkdir()

    monkeypatch.chdir(here)
    first = invoke("session", "run", "--tickers", TICKERS)
    assert first.exit_code == 0, first.output
    assert f"trader approve {THREAD} --all" in first.output
    fingerprint = account_fingerprint(f"{ACCOUNT}-01")
    marker_file = state / "real-accounts" / f"{fingerprint}.json"
    marker = json.loads(marker_file.read_text())
    home_db = f"sqlite:///{here / 'trader.db'}"
    assert marker["database"] == home_db and marker["account_fingerprint"] == fingerprint
    assert ACCOUNT not in marker_file.read_text()

    # From another folder the default database is another file: refused, nothing created.
    monkeypatch.chdir(elsewhere)
    refused = _one_line(
        invoke("session", "run", "--tickers", TICKERS),
        fingerprint,
        home_db,
        f"sqlite:///{elsewhere / 'trader.db'}",
        "DATABASE_URL",
        "trader account claim",
    )
    assert ACCOUNT not in refused
    assert not (elsewhere / "trader.db").exists()
    _one_line(invoke("session", "resume", THREAD), "trader account claim")

    # Pointing DATABASE_URL back continues today's session instead of trading it again.
    monkeypatch.setenv("DATABASE_URL", home_db)
    again = invoke("session", "run", "--tickers", TICKERS)
    assert again.exit_code == 0, again.output
    assert "is waiting for approval: showing it instead of trading again" in again.output
    assert _runs(home_db) == [THREAD]

    # Moving on purpose.
    monkeypatch.setenv("DATABASE_URL", "sqlite:///./trader.db")
    claimed = invoke("account", "claim")
    assert claimed.exit_code == 0, claimed.output
    assert f"sqlite:///{elsewhere / 'trader.db'}" in claimed.output
    assert f"was {home_db}" in claimed.output
    moved = invoke("session", "run", "--tickers", TICKERS)
    assert moved.exit_code == 0, moved.output
    assert f"Starting session {THREAD}" in moved.output
    monkeypatch.chdir(here)
    _one_line(invoke("session", "run", "--tickers", TICKERS), "trader account claim")
    assert simulator.broker_orders() == []
