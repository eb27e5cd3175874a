"""The session commands end to end on the demo market: run, approve, status, demo.

Each test runs real sessions (the in-process KIS simulator, the rules reasoner, the configured
database), so there are few of them and each walks a whole story. The demo market's prices
depend on the day, so the CLI's clock is pinned to a trading day (running at real speed).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import partial

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session
from typer.testing import CliRunner, Result

from core.clock import KST
from core.orders import OrderStatus
from db import migrate
from db.engine import create_db_engine
from db.models import Approval, Fill, Order, Run, RunStatus
from db.repositories import PortfolioRepository, SessionClaimRepository
from tests.trader.clocks import ShiftedClock
from trader.cli.main import app
from trader.settings import load_settings

START = datetime(2026, 11, 26, 10, 0, tzinfo=KST)
"""A Thursday on which the seeded market proposes buys of 051910 and 035420."""
THREAD = "default:2026-11-26:demo"
TICKERS = "051910,035420"


@pytest.fixture(autouse=True)
def _pinned_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("trader.cli.clock.session_clock", partial(ShiftedClock, START))


def invoke(*args: str, input: str | None = None) -> Result:
    """Run one command in a fresh CliRunner (as a new invocation would)."""
    return CliRunner().invoke(app, list(args), input=input)


@pytest.fixture
def engine() -> Iterator[sa.Engine]:
    eng = create_db_engine(load_settings().resolved_database_url)
    yield eng
    eng.dispose()


def orders(engine: sa.Engine) -> list[Order]:
    with engine.connect() as conn:
        return list(conn.execute(sa.select(Order).order_by(Order.id)).all())  # type: ignore[arg-type]


def count(engine: sa.Engine, model: type[Fill] | type[Approval] | type[Order]) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(sa.select(sa.func.count()).select_from(model)) or 0)


def run_row(engine: sa.Engine, thread_id: str) -> tuple[str | None, RunStatus]:
    with engine.connect() as conn:
        row = conn.execute(sa.select(Run.venue, Run.status).where(Run.thread_id == thread_id)).one()
    return row.venue, row.status


def a_terminal() -> bool:
    """Stdin is a person at a terminal (CliRunner's stdin is not)."""
    return True


def interrupted(*args: object, **kwargs: object) -> object:
    """An approver who presses Ctrl-C at the prompt."""
    raise KeyboardInterrupt


def test_run_stops_at_approval_then_approve_in_a_new_invocation_trades_once(
    engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = invoke("session", "run", "--demo", "--tickers", f"{TICKERS},ZZZ999")
    assert first.exit_code == 0, first.output
    assert f"trader approve {THREAD} --all" in first.output
    assert "Proposed orders" in first.output
    proposed = orders(engine)
    assert len(proposed) == 2
    assert {o.status for o in proposed} == {OrderStatus.PROPOSED}
    assert run_row(engine, THREAD) == ("demo", RunStatus.AWAITING_APPROVAL)

    # Triggered again, in a terminal: it shows the same orders and asks; `q` leaves it waiting.
    monkeypatch.setattr("trader.cli.approve.stdin_is_terminal", a_terminal)
    again = invoke("session", "run", "--demo", "--tickers", TICKERS, input="q\n")
    assert again.exit_code == 0, again.output
    assert "is waiting for approval: showing it instead of trading again" in again.output
    assert f"trader approve {THREAD} --all" in again.output
    # Ctrl-C at the prompt: the same, with exit 130.
    monkeypatch.setattr("trader.cli.approve.ask_approval", interrupted)
    ctrl_c = invoke("session", "run", "--demo")
    assert ctrl_c.exit_code == 130, ctrl_c.output
    assert f"trader approve {THREAD} --all" in ctrl_c.output
    assert len(orders(engine)) == 2 and count(engine, Approval) == 0

    # Bad answers are one line, exit 2, and resume nothing.
    for bad, message in (
        (["--reject", "mat-"], "at least 4 characters"),
        (["--reject", "9"], "no row 9: rows are 1..2"),
        (["--edit", "3=5"], "no row 3: rows are 1..2"),
        (["--edit", "1=0"], "must be a whole number above 0"),
        ([], "say what to do"),
    ):
        result = invoke("approve", THREAD, *bad)
        assert result.exit_code == 2, result.output
        assert message in result.output
    assert invoke("approve", "nope:2026-11-26:demo", "--all").exit_code == 2
    assert {o.status for o in orders(engine)} == {OrderStatus.PROPOSED}

    done = invoke("approve", THREAD, "--all")
    assert done.exit_code == 0, done.output
    assert "2 approved, 0 edited, 0 rejected" in done.output
    assert "Portfolio: cash" in done.output and "Not analysed" in done.output
    assert "ZZZ999" in done.output
    executed = orders(engine)
    assert {o.status for o in executed} == {OrderStatus.FILLED}
    assert all(o.filled_qty == o.qty for o in executed)
    fills = count(engine, Fill)
    assert fills >= 2
    assert run_row(engine, THREAD) == ("demo", RunStatus.COMPLETED)

    # A third trigger shows the report; nothing trades twice.
    third = invoke("session", "run", "--demo", "--tickers", TICKERS)
    assert third.exit_code == 0, third.output
    assert "exists (done): showing it instead of trading again" in third.output
    assert count(engine, Order) == 2 and count(engine, Fill) == fills
    late = invoke("approve", THREAD, "--all")
    assert late.exit_code == 2 and "is finished" in late.output

    listing = invoke("session", "status")
    assert listing.exit_code == 0, listing.output
    line = next(li for li in listing.output.splitlines() if THREAD in li)
    assert line.split()[:4] == [THREAD, "demo", "completed", "2"], line
    one = invoke("session", "status", THREAD)
    assert one.exit_code == 0, one.output
    assert "venue demo · status done" in one.output
    assert len(re.findall(r"│ filled \d+/\d+ @ [\d,]+", one.output)) == 2


def test_reject_and_edit_on_postgres(pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", pg_url)
    first = invoke("session", "run", "--demo", "--tickers", TICKERS)
    assert first.exit_code == 0, first.output
    assert f"trader approve {THREAD} --all" in first.output

    result = invoke("approve", THREAD, "--reject", "1", "--edit", "2=3", "--by", "tester")
    assert result.exit_code == 0, result.output
    assert "0 approved, 1 edited, 1 rejected" in result.output
    engine = create_db_engine(pg_url)
    try:
        rejected, edited = orders(engine)
        assert rejected.status is OrderStatus.REJECTED and rejected.filled_qty == 0
        assert edited.status is OrderStatus.FILLED and edited.qty == edited.filled_qty == 3
        with engine.connect() as conn:
            decisions = dict(
                conn.execute(sa.select(Approval.client_order_id, Approval.decision)).all()
            )
            by = set(conn.scalars(sa.select(Approval.decided_by)))
        assert decisions == {rejected.client_order_id: "reject", edited.client_order_id: "edit"}
        assert by == {"tester"}
        assert run_row(engine, THREAD) == ("demo", RunStatus.COMPLETED)
    finally:
        engine.dispose()


def test_demo_runs_a_whole_session_then_shows_it_then_fresh_starts_another(
    engine: sa.Engine,
) -> None:
    result = invoke("demo", "--tickers", "051910")
    assert result.exit_code == 0, result.output
    assert "Approving every order automatically (no terminal to ask in)" in result.output
    for part in ("Signals", "Orders", "Holdings", "Portfolio: cash", "LLM: none"):
        assert part in result.output
    assert count(engine, Order) == 1

    again = invoke("demo", "--tickers", "051910")
    assert again.exit_code == 0, again.output
    assert "showing it instead of trading again" in again.output
    assert "trader demo --fresh" in again.output
    assert count(engine, Order) == 1

    fresh = invoke("demo", "--fresh", "--tickers", "051910")
    assert fresh.exit_code == 0, fresh.output
    assert "Starting session default:2026-11-26:demo-2" in fresh.output
    assert "Portfolio: cash" in fresh.output
    assert run_row(engine, "default:2026-11-26:demo-2") == ("demo", RunStatus.COMPLETED)


def test_unreachable_database_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://trader:hunter2@127.0.0.1:1/trading")
    result = invoke("session", "run", "--demo")
    assert result.exit_code == 3
    assert len(result.output.strip().splitlines()) == 1, result.output
    assert "cannot reach the database" in result.output and "hunter2" not in result.output


def test_an_edit_the_risk_rules_would_move_is_shown_first_and_never_sent_unseen(
    engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = invoke("session", "run", "--demo", "--tickers", TICKERS)
    assert first.exit_code == 0, first.output
    one, two = orders(engine)
    price = one.limit_price_krw
    assert price is not None and price > 200_000  # a 500-won tick: price + 1 is off the grid
    off_tick, above_band = price + 1, price * 2

    # Without a terminal the approver cannot see the adjusted order: refused, nothing resumed.
    for edit, why in ((f"1=1@{off_tick}", "tick grid"), (f"1=1@{above_band}", "limits")):
        refused = invoke("approve", THREAD, "--edit", edit, "--all")
        assert refused.exit_code == 2, refused.output
        lines = refused.output.strip().splitlines()
        assert len(lines) == 1, refused.output
        assert why in lines[0] and "nothing was sent" in lines[0]
    assert f"1 @ {price:,}" in invoke("approve", THREAD, "--edit", f"1=1@{off_tick}").output
    assert {o.status for o in orders(engine)} == {OrderStatus.PROPOSED}
    assert count(engine, Approval) == 0

    # In a terminal the adjusted order is shown and asked about; `q` leaves the session waiting.
    monkeypatch.setattr("trader.cli.approve.stdin_is_terminal", a_terminal)
    later = invoke("approve", THREAD, "--edit", f"1=1@{off_tick}", input="q\n")
    assert later.exit_code == 0, later.output
    assert f"1 @ {price:,}" in later.output and f"trader approve {THREAD} --all" in later.output
    assert {o.status for o in orders(engine)} == {OrderStatus.PROPOSED}
    assert count(engine, Approval) == 0

    # The session's own prompt does the same: `e`, an off-grid price, then accept what is shown.
    accepted = invoke(
        "session", "run", "--demo", "--tickers", TICKERS, input=f"e\n1@{off_tick}\nr\na\n"
    )
    assert accepted.exit_code == 0, accepted.output
    assert f"1 @ {price:,}" in accepted.output
    assert "0 approved, 1 edited, 1 rejected" in accepted.output
    by_id = {o.client_order_id: o for o in orders(engine)}
    sent = by_id[one.client_order_id]
    assert (sent.status, sent.qty, sent.limit_price_krw) == (OrderStatus.FILLED, 1, price)
    assert by_id[two.client_order_id].status is OrderStatus.REJECTED


def test_run_of_a_session_a_studio_thread_holds_shows_that_thread_and_trades_nothing(
    engine: sa.Engine,
) -> None:
    migrate.upgrade(load_settings().resolved_database_url)
    with Session(engine) as session, session.begin():
        book = PortfolioRepository(session).ensure("default", "demo", 100_000_000)
        SessionClaimRepository(session).claim(
            book.id, START.date(), "demo", "studio-thread-7f2", datetime.now(UTC)
        )
    result = invoke("session", "run", "--demo", "--tickers", TICKERS)
    assert result.exit_code == 0, result.output
    assert "held by thread studio-thread-7f2" in result.output
    assert "stopped part-way" not in result.output
    assert count(engine, Order) == 0
