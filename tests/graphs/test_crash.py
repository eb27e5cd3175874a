"""The executor survives SIGKILL: no approved order reaches the broker twice, none is lost.

A runner process (`tests.graphs.crash_runner`) runs a demo session to the approval, approves
everything and is killed at one point of the executor; a fresh process continues the thread.
The broker is the KIS simulator, whose books are a file both processes open, so what the killed
process sent is still there. Checked on SQLite and PostgreSQL.

An order whose row the killed process had moved to `submitting` may or may not have reached
the broker; the fresh process never sends it again. Found in the broker's list, it is followed
and filled; not found within the follow window, it is handed to a person (`needs_review`).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from core.orders import OrderStatus
from db.engine import create_db_engine, session_factory
from db.models import Approval, Fill, Order
from tests.graphs.crash_runner import CRASH_POINTS
from tools.kis.simulator.store import Order as SimOrder
from tools.kis.simulator.store import Store
from trader.wiring.venue import DEMO_STORE

REPO = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 120.0

pytestmark = pytest.mark.slow


def _command(action: str, db_url: str, data: Path, epoch: float, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "tests.graphs.crash_runner",
        action,
        "--db",
        db_url,
        "--data",
        str(data),
        "--thread",
        "crash-session",
        "--epoch",
        str(epoch),
        *extra,
    ]


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO)}


def _run_and_kill(cmd: list[str], marker: Path, cwd: Path) -> None:
    """Start the runner, wait for it to reach the crash point, SIGKILL it."""
    proc = subprocess.Popen(
        cmd, env=_env(), cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + START_TIMEOUT_S
    try:
        while not marker.exists():
            if proc.poll() is not None:
                out, err = proc.communicate()
                pytest.fail(f"runner ended before the crash point:\n{out.decode()}{err.decode()}")
            if time.monotonic() > deadline:
                pytest.fail("runner did not reach the crash point")
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        assert proc.returncode == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stdout:
            proc.stdout.close()
        if proc.stderr:
            proc.stderr.close()


def _broker_orders(data: Path) -> list[SimOrder]:
    """Every new order the simulated broker holds (read from its store file)."""
    sim = Store(data / DEMO_STORE)
    try:
        return sim.orders("kind='new'")
    finally:
        sim.close()


def _continue(cmd: list[str], cwd: Path) -> dict[str, Any]:
    done = subprocess.run(cmd, env=_env(), cwd=cwd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-4000:]
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


@pytest.mark.parametrize("point", CRASH_POINTS)
def test_killed_executor_resumes_without_sending_twice_or_losing_an_order(
    point: str, db_url: str, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    marker = tmp_path / "crashed"
    epoch = time.time()
    _run_and_kill(
        _command("run", db_url, data, epoch, "--crash", point, "--marker", str(marker)),
        marker,
        tmp_path,
    )
    assert marker.read_text() == point

    engine = create_db_engine(db_url)
    sessions = session_factory(engine)
    try:
        with sessions() as session:
            approved = session.scalars(sa.select(Approval.client_order_id)).all()
            before = sorted(
                (o.status, o.broker_order_no is not None) for o in session.scalars(sa.select(Order))
            )
        assert len(approved) >= 2, "the session must approve at least two orders"
        # Where the killed process left our books (the broker holds what it was sent).
        rest = len(approved) - 1
        expected = {
            "before-first-place": [(OrderStatus.APPROVED, False)] * rest
            + [(OrderStatus.SUBMITTING, False)],
            "after-first-place": [(OrderStatus.APPROVED, False)] * rest
            + [(OrderStatus.SUBMITTING, False)],
            "before-second-place": [(OrderStatus.APPROVED, False)] * (rest - 1)
            + [(OrderStatus.SUBMITTING, False), (OrderStatus.SUBMITTED, True)],
            "in-follow": [(OrderStatus.SUBMITTED, True)] * len(approved),
        }[point]
        assert before == sorted(expected)
        sent_when_killed = {
            "before-first-place": 0,
            "after-first-place": 1,
            "before-second-place": 1,
            "in-follow": len(approved),
        }[point]
        assert len(_broker_orders(data)) == sent_when_killed
    finally:
        engine.dispose()

    result = _continue(_command("continue", db_url, data, epoch), tmp_path)
    # Killed between writing `submitting` and calling `place`: that order never reached the
    # broker, and nobody can know it did not; it is handed to a person, not sent.
    never_sent = {"before-first-place": 1, "before-second-place": 1}.get(point, 0)
    _assert_each_approved_order_once(db_url, data, result, needs_review=never_sent)


def test_killed_twice_while_recovering_still_sends_each_order_once(
    db_url: str, tmp_path: Path
) -> None:
    # Killed right after the broker took the first order, then again in the process that
    # recovered it, right after the broker took the next one: two orders in doubt in a row.
    data = tmp_path / "data"
    epoch = time.time()
    for action in ("run", "continue"):
        marker = tmp_path / f"crashed-{action}"
        cmd = _command(action, db_url, data, epoch, "--crash", "after-first-place")
        _run_and_kill([*cmd, "--marker", str(marker)], marker, tmp_path)
    assert len(_broker_orders(data)) == 2
    result = _continue(_command("continue", db_url, data, epoch), tmp_path)
    _assert_each_approved_order_once(db_url, data, result)
    notes = [e["note"] for e in result["executions"]]
    assert notes.count("recovered after a restart") == 1  # the second; the first was earlier


def _assert_each_approved_order_once(
    db_url: str, data: Path, result: dict[str, Any], *, needs_review: int = 0
) -> None:
    """The broker holds each approved order once; our books agree with it, fills booked once.

    `needs_review` orders are at no broker: they were never sent, and wait for a person.
    """
    assert result["status"] == "done"
    at_broker = _broker_orders(data)
    engine = create_db_engine(db_url)
    try:
        with session_factory(engine)() as session:
            approved = session.scalars(sa.select(Approval.client_order_id)).all()
            rows = {o.client_order_id: o for o in session.scalars(sa.select(Order))}
            fills = session.scalars(sa.select(Fill)).all()
    finally:
        engine.dispose()

    # Every approved order is at the broker exactly once (or, never sent, with a person), and
    # nothing else is.
    assert sorted(rows) == sorted(approved)
    held = [r for r in rows.values() if r.status is OrderStatus.NEEDS_REVIEW]
    assert len(held) == needs_review
    assert all(r.broker_order_no is None and r.reason for r in held)
    sent_rows = [r for r in rows.values() if r.status is not OrderStatus.NEEDS_REVIEW]
    assert len(at_broker) == len(sent_rows)
    by_odno = {o.odno: o for o in at_broker}
    assert sorted(r.broker_order_no or "" for r in sent_rows) == sorted(by_odno)
    for row in sent_rows:
        sent = by_odno[row.broker_order_no or ""]
        assert (sent.pdno, sent.side, sent.qty, sent.price) == (
            row.ticker,
            row.side.value,
            row.qty,
            row.limit_price_krw,
        )
        # Our books agree with the broker's: status, filled quantity, and fills booked once.
        assert sent.status == "done"
        assert row.status is OrderStatus.FILLED
        assert row.filled_qty == sent.filled_qty == row.qty
        assert row.filled_value_krw == sent.filled_amt
        assert sum(f.qty for f in fills if f.order_id == row.id) == row.qty
    outcomes = {e["client_order_id"]: e for e in result["executions"]}
    assert sorted(outcomes) == sorted(approved)
    statuses = [e["status"] for e in outcomes.values()]
    assert statuses.count("needs_review") == needs_review
    assert statuses.count("filled") == len(approved) - needs_review


def test_two_processes_approving_one_session_at_once_send_each_order_once(
    db_url: str, tmp_path: Path
) -> None:
    # Two approvers (two `trader approve`, Studio and the CLI) resume the same waiting session at
    # the same moment; both find it waiting. The executor lease lets one of them execute.
    data = tmp_path / "data"
    epoch = time.time()
    proposed = _continue(_command("propose", db_url, data, epoch), tmp_path)
    assert len(proposed["interrupt"]) >= 2
    go = tmp_path / "go"
    racers = [
        subprocess.Popen(
            _command("approve", db_url, data, epoch, "--go", str(go), "--hold", "15"),
            env=_env(),
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    time.sleep(8.0)  # both processes start and wait for the go file (a slow start only waits)
    go.write_text("go")
    answers = []
    for proc in racers:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err[-4000:]
        answers.append(json.loads(out.strip().splitlines()[-1]))
    busy = [a for a in answers if "busy" in a]
    done = [a for a in answers if "busy" not in a]
    assert len(busy) == 1 and len(done) == 1, answers
    assert "another process is executing session crash-session" in busy[0]["busy"]
    _assert_each_approved_order_once(db_url, data, done[0])
