"""`langgraph dev` serves the trading session; the SDK runs it to the approval and resumes it.

The server runs as it would for Studio: no runtime context is passed, so the graph builds the
default context from settings (no KIS keys: the built-in demo market), and `langgraph.json`'s
checkpointer keeps the served threads' checkpoints in our PostgreSQL. The server also runs
blockbuster: any blocking call on the event loop inside a node fails the run, so this test
guards that the graph, the KIS client and the in-process simulator keep the loop free.
The server and its folder are `tests.graphs.served`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from core.orders import OrderStatus
from db import migrate
from db.engine import psycopg_conninfo
from db.models import Approval, Order, Run, RunStatus
from tests.graphs.served import GRAPH_ID, REPO_ROOT, DevServer, dev_server, rows
from tests.graphs.session_harness import SESSION_DAY, TICKERS

pytestmark = [pytest.mark.anyio, pytest.mark.postgres, pytest.mark.slow]


@pytest.fixture
def served(pg_url: str, tmp_path: Path) -> Iterator[DevServer]:
    """`langgraph dev` on a free port, on a migrated PostgreSQL database, in tmp_path."""
    migrate.upgrade(pg_url)
    root_state_before = (REPO_ROOT / ".langgraph_api").exists()
    server = dev_server(pg_url, tmp_path)
    try:
        server.start()
        yield server
    finally:
        server.stop()
    assert (server.folder / ".langgraph_api").is_dir(), "the server keeps its state in its folder"
    if not root_state_before:
        assert not (REPO_ROOT / ".langgraph_api").exists(), "the checkout stays clean"


def _checkpoint_count(database_url: str, thread_id: str) -> int:
    with psycopg.connect(psycopg_conninfo(database_url)) as conn:
        row = conn.execute(
            "SELECT count(*) FROM checkpoints WHERE thread_id = %s", (thread_id,)
        ).fetchone()
    assert row is not None
    return int(row[0])


async def test_served_session_stops_for_approval_and_trades_when_resumed_through_the_sdk(
    served: DevServer,
) -> None:
    client = served.client()
    assistants = await client.assistants.search(graph_id=GRAPH_ID)
    assert [a["graph_id"] for a in assistants] == [GRAPH_ID]
    thread_id = (await client.threads.create())["thread_id"]

    # The session date and tickers the seeded demo market rates a buy on (the harness's); the
    # served graph's clock is on that day (`served_graph`), so the session is today's.
    session_input = {"session_date": SESSION_DAY.isoformat(), "tickers": list(TICKERS)}
    out = await client.runs.wait(thread_id, GRAPH_ID, input=session_input)
    assert isinstance(out, dict), out
    assert "__error__" not in out, f"{out['__error__']}\n{served.tail()}"
    interrupts = out["__interrupt__"]
    assert len(interrupts) == 1
    request = interrupts[0]["value"]
    orders = request["orders"]
    assert orders, f"no order proposed: {out.get('risk_report')}"
    assert request["expires_at"] and isinstance(request["risk_report"], list)
    assert (await client.threads.get(thread_id))["status"] == "interrupted"
    # The served thread's checkpoints are in our PostgreSQL, under the server's thread id.
    assert _checkpoint_count(served.database_url, thread_id) > 0
    proposed = {r["client_order_id"]: r for r in rows(served.database_url, Order)}
    assert set(proposed) == {o["client_order_id"] for o in orders}
    assert {r["status"] for r in proposed.values()} == {OrderStatus.PROPOSED}

    done = await client.runs.wait(
        thread_id,
        GRAPH_ID,
        command={"resume": {"approve_all": True, "decided_by": "sdk"}},
        durability="sync",  # as the CLI resumes: the approval is on disk before orders go out
    )
    assert isinstance(done, dict), done
    assert "__error__" not in done, f"{done['__error__']}\n{served.tail()}"
    assert done["status"] == "done"
    assert (await client.threads.get(thread_id))["status"] == "idle"

    # The orders, the approvals and the run are in our database.
    stored = {r["client_order_id"]: r for r in rows(served.database_url, Order)}
    assert set(stored) == set(proposed)
    for order in orders:
        row = stored[order["client_order_id"]]
        assert row["status"] is OrderStatus.FILLED, row
        assert row["filled_qty"] == row["qty"] == order["qty"]
        assert row["broker_order_no"]
    approvals = rows(served.database_url, Approval)
    assert {(a["client_order_id"], a["decided_by"]) for a in approvals} == {
        (cid, "sdk") for cid in stored
    }
    runs = rows(served.database_url, Run)
    assert [(r["thread_id"], r["status"]) for r in runs] == [(thread_id, RunStatus.COMPLETED)]
    assert _checkpoint_count(served.database_url, thread_id) > 2
    assert "BlockingError" not in served.log.read_text(errors="replace")
