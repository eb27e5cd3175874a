"""A session continues only where it was proposed: the same venue, server and account.

The runs table records each session's venue, its server (the KIS base URL) and a fingerprint
of its account (a keyed hash, never the number). `trader approve`, `trader session run` on an
existing thread and `trader session resume` refuse another server or account with one line
naming what differs (the account only by its fingerprint) and exit code 2, before anything is
sent. The broker is the KIS simulator over real HTTP, reached through `KIS_BASE_URL`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner, Result

from core.orders import OrderStatus
from db.engine import create_db_engine
from db.models import Order, Run
from tests.trader.real_account_sim import ACCOUNT, THREAD, TICKERS, serve_real_account
from tools.kis.simulator import SimulatorServer
from trader.accounts import account_fingerprint
from trader.cli.main import app

OTHER_ACCOUNT = "87654399"
REAL_HOST = "https://openapi.koreainvestment.com:9443"


def invoke(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


@pytest.fixture
def simulator(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SimulatorServer]:
    yield from serve_real_account(tmp_path, monkeypatch)


def _run(url: str) -> Run:
    engine = create_db_engine(url)
    try:
        with engine.connect() as conn:
            row = conn.execute(sa.select(Run).where(Run.thread_id == THREAD)).one()
        return row  # type: ignore[return-value]
    finally:
        engine.dispose()


def _order_statuses(url: str) -> set[OrderStatus]:
    engine = create_db_engine(url)
    try:
        with engine.connect() as conn:
            return set(conn.scalars(sa.select(Order.status)))
    finally:
        engine.dispose()


def _refused(result: Result, *parts: str) -> str:
    assert result.exit_code == 2, result.output
    assert len(result.output.strip().splitlines()) == 1, result.output
    for part in parts:
        assert part in result.output, result.output
    return result.output


def test_a_session_continues_only_on_its_server_and_account(
    db_url: str, simulator: SimulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", db_url)
    first = invoke("session", "run", "--tickers", TICKERS)
    assert first.exit_code == 0, first.output
    assert f"trader approve {THREAD} --all" in first.output
    run = _run(db_url)
    fingerprint = account_fingerprint(f"{ACCOUNT}-01")
    assert (run.venue, run.venue_server, run.account_fingerprint) == (
        "kis-real", simulator.base_url, fingerprint,
    )  # fmt: skip
    assert ACCOUNT not in fingerprint and len(fingerprint) <= 32

    # Approved after forgetting KIS_BASE_URL: the real server would get simulated prices.
    monkeypatch.delenv("KIS_BASE_URL")
    for command in (
        ("approve", THREAD, "--all"),
        ("session", "run", "--tickers", TICKERS),
        ("session", "resume", THREAD),
    ):
        _refused(invoke(*command), "server", simulator.base_url, REAL_HOST,
                 f"KIS_BASE_URL={simulator.base_url}")  # fmt: skip

    # The right server, another account.
    monkeypatch.setenv("KIS_BASE_URL", simulator.base_url)
    monkeypatch.setenv("KIS_ACCOUNT_NO", OTHER_ACCOUNT)
    monkeypatch.setenv("KIS_REAL_ACCOUNT_CONFIRM", OTHER_ACCOUNT)
    other = _refused(
        invoke("approve", THREAD, "--all"),
        "account",
        fingerprint,
        account_fingerprint(f"{OTHER_ACCOUNT}-01"),
        "KIS_ACCOUNT_NO",
    )
    assert ACCOUNT not in other and OTHER_ACCOUNT not in other
    assert simulator.broker_orders() == []
    assert _order_statuses(db_url) == {OrderStatus.PROPOSED}

    # Back where it was proposed: it trades.
    monkeypatch.setenv("KIS_ACCOUNT_NO", ACCOUNT)
    monkeypatch.setenv("KIS_REAL_ACCOUNT_CONFIRM", ACCOUNT)
    done = invoke("approve", THREAD, "--all")
    assert done.exit_code == 0, done.output
    assert _order_statuses(db_url) == {OrderStatus.FILLED}
    assert len(simulator.broker_orders()) == 2
