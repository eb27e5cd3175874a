"""The Studio path end to end: a real `langgraph dev` with our auth, driven over HTTP by the SDK.

- Auth: the served graph answers only requests bearing STUDIO_AUTH_TOKEN, including requests
  that claim to come from Studio (`x-auth-scheme: langsmith`), and serves nothing at all on a
  real account without a token.
- One session, one trade: a second Studio thread (a new random thread id) for the same
  portfolio, day and phase stops at load_context naming the thread that holds the session; both
  approved, the broker still receives each order once.
- Durability: resumed with the SDK's default durability (and with "exit", which keeps no
  checkpoint until the run ends), the server is SIGKILLed while the executor is sending; after a
  restart the thread goes on from the decision recorded in our database, whatever the
  checkpoints kept and whatever a second answer says: every approved order reaches the broker
  once, as approved; a rejected one never.

The broker is the demo market's KIS simulator, in the server process, with its books in a SQLite
file in the data folder. To stop the executor at a known point, the test holds that file's write
lock while the approval is resumed: the broker cannot take the first order, the executor waits
in `place` with its row `submitting`, and the server is killed right there.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Awaitable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from core.orders import OrderStatus
from db import migrate
from db.models import Approval, ApprovalDecision, Order, Run
from tests.graphs.served import GRAPH_ID, TOKEN, DevServer, dev_server, rows
from tests.graphs.session_harness import SESSION_DAY, TICKERS
from tools.kis.simulator.store import Order as SimOrder
from tools.kis.simulator.store import Store
from trader.wiring.venue import DEMO_STORE

pytestmark = [pytest.mark.anyio, pytest.mark.postgres, pytest.mark.slow]

SESSION_INPUT = {"session_date": SESSION_DAY.isoformat(), "tickers": list(TICKERS)}
WAIT_S = 120.0


@pytest.fixture
def server(pg_url: str, tmp_path: Path) -> Iterator[DevServer]:
    """A `langgraph dev` folder on a migrated PostgreSQL database (started by the test)."""
    migrate.upgrade(pg_url)
    served = dev_server(pg_url, tmp_path)
    try:
        yield served
    finally:
        served.stop()


def _broker_orders(server: DevServer) -> list[SimOrder]:
    """Every new order the demo market's broker holds (read from its books file)."""
    path = Path(server.env["DATA_DIR"]) / DEMO_STORE
    sim = Store(path)
    try:
        return sim.orders("kind='new'")
    finally:
        sim.close()


async def _to_approval(server: DevServer, thread_id: str) -> list[dict[str, Any]]:
    """Run a thread to the approval interrupt; return the proposed orders."""
    out = await server.client().runs.wait(thread_id, GRAPH_ID, input=SESSION_INPUT)
    assert isinstance(out, dict), out
    assert "__error__" not in out, f"{out['__error__']}\n{server.tail()}"
    assert out.get("__interrupt__"), f"no approval asked: {out.get('status')}"
    orders: list[dict[str, Any]] = out["__interrupt__"][0]["value"]["orders"]
    assert orders, "the session must propose orders"
    return orders


# --- auth ------------------------------------------------------------------------------------


def _post(server: DevServer, path: str, headers: dict[str, str]) -> httpx.Response:
    return httpx.post(f"{server.url}{path}", json={}, headers=headers, timeout=10.0)


async def test_served_graph_answers_only_requests_with_the_token(server: DevServer) -> None:
    server.start()
    refused = {
        "no token": {},
        "wrong token": {"Authorization": "Bearer not-the-token"},
        "not a bearer": {"Authorization": TOKEN},
        "claims to be Studio": {"x-auth-scheme": "langsmith"},
        "Studio with a wrong token": {
            "x-auth-scheme": "langsmith",
            "Authorization": "Bearer nope",
        },
        "a web page": {"Origin": "http://evil.example"},
    }
    for what, headers in refused.items():
        for path in ("/threads", "/assistants/search", "/threads/search"):
            answer = _post(server, path, headers)
            assert answer.status_code in (401, 403), (what, path, answer.status_code, answer.text)
    assert _post(server, "/threads", {}).status_code == 401

    # With the token, the SDK works.
    client = server.client()
    assistants = await client.assistants.search(graph_id=GRAPH_ID)
    assert [a["graph_id"] for a in assistants] == [GRAPH_ID]
    thread = await client.threads.create()
    assert (await client.threads.get(thread["thread_id"]))["thread_id"] == thread["thread_id"]
    assert TOKEN not in server.log.read_text(errors="replace"), "the token never reaches the log"


async def test_real_account_without_token_is_served_to_nobody(pg_url: str, tmp_path: Path) -> None:
    migrate.upgrade(pg_url)
    server = dev_server(
        pg_url,
        tmp_path,
        TRADING_MODE="kis-real",
        STUDIO_AUTH_TOKEN="",
        KIS_APP_KEY="app-key-not-used",
        KIS_APP_SECRET="app-secret-not-used",
        KIS_ACCOUNT_NO="12345678-01",
        KIS_REAL_ACCOUNT_CONFIRM="12345678-01",  # every opt-in given but the token
    )
    try:
        server.start()
        for headers in ({}, {"Authorization": "Bearer anything"}, {"x-auth-scheme": "langsmith"}):
            answer = _post(server, "/threads", headers)
            assert answer.status_code == 403, (headers, answer.status_code, answer.text)
            assert "STUDIO_AUTH_TOKEN" in answer.text
        assert "app-secret-not-used" not in server.log.read_text(errors="replace")
    finally:
        server.stop()
    assert rows(pg_url, Run) == [], "nothing ran"


async def _past_the_lease(client: Any, thread_id: str, first: Awaitable[Any]) -> Any:
    """Continue a thread, again while the killed server's executor lease still holds it.

    A killed executor's lease lapses after its time-to-live (`served_graph.EXECUTOR_LEASE_TTL`);
    until then a continuation is refused with ExecutorBusyError and sends nothing, as a person
    retrying would see it.
    """
    deadline = time.monotonic() + 60
    attempt = first
    while True:
        try:
            return await attempt
        except Exception as exc:
            if "ExecutorBusyError" not in str(exc) or time.monotonic() > deadline:
                raise
        await asyncio.sleep(1)
        attempt = client.runs.wait(thread_id, GRAPH_ID, input=None)


# --- one session, one trade --------------------------------------------------------------------


async def test_two_studio_threads_of_one_session_trade_once(server: DevServer) -> None:
    server.start()
    client = server.client()
    first = (await client.threads.create())["thread_id"]
    second = (await client.threads.create())["thread_id"]
    proposed = await _to_approval(server, first)

    # The same session (default portfolio, same day, same phase) on a second thread.
    out = await client.runs.wait(second, GRAPH_ID, input=SESSION_INPUT)
    assert isinstance(out, dict), out
    assert "__error__" not in out, f"{out['__error__']}\n{server.tail()}"
    approve_all = {"approve_all": True, "decided_by": "sdk"}
    if out.get("__interrupt__"):  # what a second session would do: ask, and be approved too
        await client.runs.wait(second, GRAPH_ID, command={"resume": approve_all})
    else:
        assert out["status"] == "duplicate", out
        assert first in out["duplicate_of"], out
        assert "approval_request" not in out
    done = await client.runs.wait(first, GRAPH_ID, command={"resume": approve_all})
    assert isinstance(done, dict) and done["status"] == "done", done

    at_broker = _broker_orders(server)
    assert sorted((o.pdno, o.side) for o in at_broker) == sorted(
        (o["ticker"], o["side"]) for o in proposed
    ), "each order reached the broker once"

    # A third trigger after the session traded stops the same way.
    third = (await client.threads.create())["thread_id"]
    again = await client.runs.wait(third, GRAPH_ID, input=SESSION_INPUT)
    assert isinstance(again, dict) and again.get("status") == "duplicate", again
    assert not again.get("__interrupt__")
    assert first in again["notice"]
    runs = {r["thread_id"] for r in rows(server.database_url, Run)}
    assert runs == {first}, "only the thread that holds the session has a run"
    orders = rows(server.database_url, Order)
    assert {r["client_order_id"] for r in orders} == {o["client_order_id"] for o in proposed}


# --- durability ------------------------------------------------------------------------------


def _ops_flushed_after(server: DevServer, since: float, timeout_s: float = 30.0) -> None:
    """Wait until the dev server flushes its threads/runs file after `since` (every 10 s)."""
    ops = server.folder / ".langgraph_api" / ".langgraph_ops.pckl"
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if ops.exists() and ops.stat().st_mtime > since:
            return
        time.sleep(0.1)
    pytest.fail("the dev server never flushed its state")


def _hold_broker_books(server: DevServer) -> sqlite3.Connection:
    """Take the write lock of the demo broker's books: it can take no order until released."""
    conn = sqlite3.connect(
        Path(server.env["DATA_DIR"]) / DEMO_STORE, isolation_level=None, timeout=30
    )
    conn.execute("BEGIN IMMEDIATE")
    return conn


def _order_rows(server: DevServer) -> dict[str, Any]:
    return {r["client_order_id"]: r for r in rows(server.database_url, Order)}


async def _wait_for(predicate: Any, what: str, server: DevServer) -> None:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        if await predicate():
            return
        await asyncio.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}:\n{server.tail()}")


@pytest.mark.parametrize("durability", [None, "exit"], ids=["sdk-default", "exit"])
async def test_killed_while_executing_resumes_from_the_recorded_approval(
    server: DevServer, durability: str | None
) -> None:
    server.start()
    client = server.client()
    thread_id = (await client.threads.create())["thread_id"]
    proposed = await _to_approval(server, thread_id)
    assert len(proposed) >= 2, "the session must propose at least two orders"

    # The approver approves the first order, halves the second, rejects the rest.
    second = proposed[1]
    edited_qty = max(1, second["qty"] // 2)
    decisions = [
        {"client_order_id": proposed[0]["client_order_id"], "action": "approve"},
        {"client_order_id": second["client_order_id"], "action": "edit", "qty": edited_qty},
        *({"client_order_id": o["client_order_id"], "action": "reject"} for o in proposed[2:]),
    ]
    answer = {"decisions": decisions, "decided_by": "sdk"}
    approved = {proposed[0]["client_order_id"]: proposed[0]["qty"], second["client_order_id"]: 0}
    approved[second["client_order_id"]] = edited_qty
    rejected = {o["client_order_id"] for o in proposed[2:]}

    # Resume right after the dev server saved its threads (it does every 10 s), so it dies
    # knowing the thread as interrupted, as a crash between two saves leaves it.
    _ops_flushed_after(server, time.time())
    lock = _hold_broker_books(server)
    try:
        extra: dict[str, Any] = {} if durability is None else {"durability": durability}
        await client.runs.create(thread_id, GRAPH_ID, command={"resume": answer}, **extra)

        async def sending() -> bool:
            return any(r["status"] is OrderStatus.SUBMITTING for r in _order_rows(server).values())

        await _wait_for(sending, "the executor to send the first order", server)
        server.kill()
    finally:
        lock.rollback()
        lock.close()
    assert _broker_orders(server) == [], "killed before the broker took anything"
    # The order being placed at the kill may or may not have reached a real broker: it is in
    # doubt, never sent again, and handed to a person once the follow window finds nothing.
    in_doubt = {
        cid for cid, r in _order_rows(server).items() if r["status"] is OrderStatus.SUBMITTING
    }
    assert len(in_doubt) == 1, in_doubt
    recorded = {a["client_order_id"]: a for a in rows(server.database_url, Approval)}
    assert {cid for cid, a in recorded.items() if a["decision"] is ApprovalDecision.REJECT} == (
        rejected
    ), "the decisions were in the database before the first order went out"

    # Restart; the thread is continued as Studio would: answered again if it asks, else run on.
    server.start()
    client = server.client()
    await client.threads.create(thread_id=thread_id, if_exists="do_nothing")

    async def settled() -> bool:
        return (await client.threads.get(thread_id))["status"] != "busy"

    await _wait_for(settled, "runs left by the killed server", server)
    state = await client.threads.get_state(thread_id)
    asked_again = "approval" in state["next"]
    print(f"after the restart the thread is at {state['next'] or 'its end'}")
    if state["next"]:
        if asked_again:
            # Asked again after the crash, a second answer rejects everything: the recorded
            # decision stands (orders may already be at the broker).
            reject_all = {
                "decisions": [
                    {"client_order_id": o["client_order_id"], "action": "reject"} for o in proposed
                ],
                "decided_by": "second-answer",
            }
            out = await _past_the_lease(
                client,
                thread_id,
                client.runs.wait(thread_id, GRAPH_ID, command={"resume": reject_all}),
            )
        else:
            out = await _past_the_lease(
                client, thread_id, client.runs.wait(thread_id, GRAPH_ID, input=None)
            )
    else:
        out = (await client.threads.get_state(thread_id))["values"]
    assert isinstance(out, dict), out
    assert "__error__" not in out, f"{out['__error__']}\n{server.tail()}"
    assert out.get("status") == "done", (out.get("status"), out.get("review"), server.tail())

    # The broker holds each approved order once, as approved, but for the one in doubt, which
    # is never resent; never a rejected one.
    at_broker = _broker_orders(server)
    stored = _order_rows(server)
    by_odno = {o.odno: o for o in at_broker}
    assert len(by_odno) == len(at_broker) == len(approved) - 1, at_broker
    for cid in in_doubt:
        assert stored[cid]["status"] is OrderStatus.NEEDS_REVIEW, stored[cid]
        assert stored[cid]["broker_order_no"] is None
        assert "never sent again" in (stored[cid]["reason"] or "")
    for cid, qty in approved.items():
        if cid in in_doubt:
            continue
        row = stored[cid]
        sent = by_odno[row["broker_order_no"]]
        assert (sent.pdno, sent.qty) == (row["ticker"], qty)
        assert row["qty"] == qty and row["status"] is OrderStatus.FILLED, row
    for cid in rejected:
        assert stored[cid]["status"] is OrderStatus.REJECTED
        assert stored[cid]["broker_order_no"] is None
    # The recorded decisions are the first answer's, and what was executed.
    recorded = {a["client_order_id"]: a for a in rows(server.database_url, Approval)}
    assert {a["decided_by"] for a in recorded.values()} == {"sdk"}
    assert recorded[second["client_order_id"]]["edited_qty"] == edited_qty
    executed = {e["client_order_id"]: e["qty"] for e in out["executions"]}
    assert executed == approved
    if asked_again:  # the second answer (reject all) was not applied to the recorded orders
        review = {line["client_order_id"]: line for line in out["review"]}
        for cid in approved:
            assert review[cid]["decision"] in ("approve", "edit"), review[cid]
