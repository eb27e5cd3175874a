"""Sessions through the API on the demo market: trigger, read, approve; once, and without secrets.

Real sessions (the in-process KIS simulator, the rules reasoner, SQLite and PostgreSQL), so few
tests, each walking a whole story.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
import uvicorn
from fastapi.testclient import TestClient

from core.clock import Clock
from core.orders import OrderStatus
from db.engine import create_db_engine
from db.models import Fill, Order
from tests.trader.service.conftest import AUTH, SECRETS, THREAD, TOKEN
from trader.service.app import create_app
from trader.settings import Settings
from trader.wiring.venue import DEMO_STORE


class Recorder:
    """Wraps a client: every response body is kept, to be scanned for secrets at the end."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.bodies: list[str] = []

    def __call__(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        response = self.client.request(method, path, **kwargs)
        self.bodies.append(response.text)
        return response


def db_orders(settings: Settings) -> list[Any]:
    engine = create_db_engine(settings.resolved_database_url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(sa.select(Order).order_by(Order.id)).all())
    finally:
        engine.dispose()


def db_fills(settings: Settings) -> int:
    engine = create_db_engine(settings.resolved_database_url)
    try:
        with engine.connect() as conn:
            return int(conn.scalar(sa.select(sa.func.count()).select_from(Fill)) or 0)
    finally:
        engine.dispose()


def broker_orders(settings: Settings) -> list[tuple[str, int, int]]:
    """The orders the demo market's broker (the KIS simulator's store) received."""
    with sqlite3.connect(settings.data_dir / DEMO_STORE) as conn:
        return list(conn.execute("SELECT pdno, qty, filled_qty FROM orders ORDER BY odno"))


def test_trigger_read_approve_and_nothing_secret(client: TestClient, settings: Settings) -> None:
    call = Recorder(client)
    assert call("GET", "/api/sessions", headers=AUTH).json() == []
    assert call("GET", "/api/portfolio", headers=AUTH).json()["recorded"] is False

    triggered = call("POST", "/api/sessions", headers=AUTH)
    assert triggered.status_code == 200, triggered.text
    body = triggered.json()
    assert body["thread_id"] == THREAD and body["started"] is True
    session = body["session"]
    assert session["awaiting_approval"] is True and session["status"] == "awaiting_approval"

    # The session as a page would read it: signals with each analyst's opinion, proposed
    # orders with their reason and risk notes, the pending approval and its expiry.
    view = call("GET", f"/api/sessions/{THREAD}", headers=AUTH).json()
    assert {s["ticker"] for s in view["signals"]} == {"051910", "035420"}
    for signal in view["signals"]:
        assert signal["opinions"], signal
        for opinion in signal["opinions"]:
            assert opinion["agent"] and opinion["stance"] and opinion["conviction"]
            assert opinion["rationale"] and isinstance(opinion["evidence"], dict)
    approval = view["approval"]
    assert approval["expires_at"] and "approve_all" in approval["resume_schema"]
    orders = [p["order"] for p in approval["orders"]]
    assert {o["ticker"] for o in orders} == {"051910", "035420"}
    assert all(o["reason"].startswith("buy signal") for o in orders)
    assert all(isinstance(p["risk"], list) for p in approval["orders"])
    assert [p["order"] for p in view["proposed"]] == orders
    listed = call("GET", "/api/sessions", headers=AUTH).json()
    assert [(r["thread_id"], r["status"], r["orders"]) for r in listed] == [
        (THREAD, "awaiting_approval", 2)
    ]
    assert {o["status"] for o in call("GET", "/api/orders", headers=AUTH).json()} == {"proposed"}

    # A second trigger shows the waiting session instead of trading again.
    again = call("POST", "/api/sessions", headers=AUTH).json()
    assert again["started"] is False and again["session"]["awaiting_approval"] is True

    # Bad answers are refused (400) and resume nothing.
    for bad in (
        {},
        {"decisions": [{"client_order_id": "mat-unknown", "action": "approve"}]},
        {"approve_all": True, "decided_by": "   "},
    ):
        response = call("POST", f"/api/sessions/{THREAD}/approval", headers=AUTH, json=bad)
        assert response.status_code == 400, (bad, response.text)
    extra = call("POST", f"/api/sessions/{THREAD}/approval", headers=AUTH, json={"x": 1})
    assert extra.status_code == 422
    assert {o.status for o in db_orders(settings)} == {OrderStatus.PROPOSED}
    missing = call("POST", "/api/sessions/nope:2026-11-26:demo/approval", headers=AUTH, json={})
    assert missing.status_code == 404

    # An edit the risk rules would change (a price off the tick grid) is refused: nobody is
    # asked here, as `trader approve` without a terminal.
    first, second = orders
    off_grid = {
        "decisions": [
            {
                "client_order_id": first["client_order_id"],
                "action": "edit",
                "limit_price_krw": first["limit_price_krw"] + 1,
            }
        ]
    }
    refused = call("POST", f"/api/sessions/{THREAD}/approval", headers=AUTH, json=off_grid)
    assert refused.status_code == 400 and "risk rules change an edit" in refused.text
    assert broker_orders(settings) == []

    # Edit the first order to one share, reject the second: the graph's own answer schema.
    answer = {
        "decisions": [
            {"client_order_id": first["client_order_id"], "action": "edit", "qty": 1},
            {"client_order_id": second["client_order_id"], "action": "reject"},
        ],
        "decided_by": "browser",
    }
    done = call("POST", f"/api/sessions/{THREAD}/approval", headers=AUTH, json=answer)
    assert done.status_code == 200, done.text
    finished = done.json()
    assert finished["finished"] is True and finished["approval"] is None
    executions = {e["client_order_id"]: e for e in finished["report"]["executions"]}
    assert executions[first["client_order_id"]]["status"] == "filled"
    assert executions[first["client_order_id"]]["filled_qty"] == 1
    assert second["client_order_id"] not in executions

    listed_orders = {
        o["client_order_id"]: o for o in call("GET", "/api/orders", headers=AUTH).json()
    }
    filled = listed_orders[first["client_order_id"]]
    assert filled["status"] == "filled" and filled["qty"] == filled["filled_qty"] == 1
    assert sum(f["qty"] for f in filled["fills"]) == 1
    assert listed_orders[second["client_order_id"]]["status"] == "rejected"
    assert broker_orders(settings) == [(first["ticker"], 1, 1)]

    portfolio = call("GET", "/api/portfolio", headers=AUTH).json()
    assert portfolio["recorded"] is True
    assert [(p["ticker"], p["qty"]) for p in portfolio["positions"]] == [(first["ticker"], 1)]
    assert portfolio["positions"][0]["last_price_krw"] > 0
    assert portfolio["equity_krw"] == finished["report"]["equity_krw"]

    # Answered already: 409, nothing more sent.
    late = call("POST", f"/api/sessions/{THREAD}/approval", headers=AUTH, json={"approve_all": 1})
    assert late.status_code == 409 and "is finished" in late.json()["detail"]
    assert len(broker_orders(settings)) == 1

    # Every body served in this story, the schema and the docs included: no secret, no token.
    call("GET", "/openapi.json")
    call("GET", "/docs")
    call("GET", "/api/health")
    call("GET", f"/api/sessions/{THREAD}", headers=AUTH)
    assert len(call.bodies) >= 20
    for text in call.bodies:
        for secret in (*SECRETS, TOKEN):
            assert secret not in text
        assert "Traceback" not in text


@contextmanager
def served(settings: Settings, clock: Callable[[], Clock]) -> Iterator[str]:
    """The app under a real Uvicorn server on a free local port; yields its base URL."""
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings, clock=clock, demo=True),
            host="127.0.0.1",
            port=0,
            log_level="warning",
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the service did not start")
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def test_two_concurrent_approvals_execute_once(
    settings: Settings, clock: Callable[[], Clock], tmp_path: Path
) -> None:
    with served(settings, clock) as base, httpx.Client(base_url=base, timeout=120) as http:
        started = http.post("/api/sessions", headers=AUTH)
        assert started.status_code == 200, started.text
        assert started.json()["session"]["awaiting_approval"] is True
        expected = len(started.json()["session"]["approval"]["orders"])
        assert expected == 2

        barrier = threading.Barrier(2)
        answers: list[httpx.Response] = []

        def approve(who: str) -> None:
            with httpx.Client(base_url=base, timeout=120) as own:
                barrier.wait()
                answers.append(
                    own.post(
                        f"/api/sessions/{THREAD}/approval",
                        headers=AUTH,
                        json={"approve_all": True, "decided_by": who},
                    )
                )

        browsers = [threading.Thread(target=approve, args=(f"browser-{i}",)) for i in (1, 2)]
        for browser in browsers:
            browser.start()
        for browser in browsers:
            browser.join(timeout=120)

        statuses = sorted(a.status_code for a in answers)
        assert statuses == [200, 409], [a.text for a in answers]
        loser = next(a for a in answers if a.status_code == 409).json()
        # Either it found the lease held, or the session already answered.
        assert loser["error"] in {"ExecutorBusyError", "NotWaitingError"}, loser
        if loser["error"] == "ExecutorBusyError":
            assert "another process is executing session" in loser["detail"]
        winner = next(a for a in answers if a.status_code == 200).json()
        assert winner["finished"] is True

        listed = http.get("/api/orders", headers=AUTH).json()
    # Each order once: in our books, at the broker, and filled once.
    rows = db_orders(settings)
    assert len(rows) == expected and len({r.client_order_id for r in rows}) == expected
    assert {r.status for r in rows} == {OrderStatus.FILLED}
    assert all(r.filled_qty == r.qty for r in rows)
    at_broker = broker_orders(settings)
    assert len(at_broker) == expected
    assert sorted(b[0] for b in at_broker) == sorted(r.ticker for r in rows)
    assert all(qty == filled for _, qty, filled in at_broker)
    assert db_fills(settings) == sum(len(o["fills"]) for o in listed)
    assert all(sum(f["qty"] for f in o["fills"]) == o["qty"] for o in listed)


def test_without_demo_the_trigger_is_todays_regular_session(
    settings: Settings, clock: Callable[[], Clock]
) -> None:
    # Paper settings without a KIS account: quotes from the built-in market, the paper broker.
    with TestClient(create_app(settings, clock=clock)) as client:
        body = client.post("/api/sessions", headers=AUTH).json()
        thread = "default:2026-11-26:regular"
        assert body["thread_id"] == thread and body["session"]["awaiting_approval"] is True
        done = client.post(
            f"/api/sessions/{thread}/approval", headers=AUTH, json={"approve_all": True}
        )
        assert done.status_code == 200, done.text
        runs = client.get("/api/sessions", headers=AUTH).json()
        assert [(r["thread_id"], r["venue"], r["status"]) for r in runs] == [
            (thread, "paper", "completed")
        ]
        orders = client.get("/api/orders", headers=AUTH, params={"thread_id": thread}).json()
    assert len(orders) == 2 and {o["status"] for o in orders} == {"filled"}
    assert {o.status for o in db_orders(settings)} == {OrderStatus.FILLED}
