"""`langgraph dev` serves the trading session; the SDK runs it to the approval and resumes it.

The server runs as it would for Studio: no runtime context is passed, so the graph builds the
default context from settings (no KIS keys: the built-in demo market), and `langgraph.json`'s
checkpointer keeps the served threads' checkpoints in our PostgreSQL. The server also runs
blockbuster: any blocking call on the event loop inside a node fails the run, so this test
guards that the graph, the KIS client and the in-process simulator keep the loop free.

`langgraph dev` resolves the config's file targets against its working directory and keeps its
own state in `./.langgraph_api` there (and reads the config's `env` file there). The test runs
it in a temporary folder with a copy of `langgraph.json` whose targets point at this checkout,
so the checkout stays clean and a developer's `.env` cannot redirect the test.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import sqlalchemy as sa
from langgraph_sdk import get_client

from db import migrate
from db.engine import create_db_engine, psycopg_conninfo
from db.models import Approval, Order, OrderStatus, Run, RunStatus
from tests.graphs.session_harness import SESSION_DAY, TICKERS

pytestmark = [pytest.mark.anyio, pytest.mark.postgres, pytest.mark.slow]

REPO_ROOT = Path(__file__).resolve().parents[2]
GRAPH_ID = "trading_session"
READY_TIMEOUT_S = 60.0


@dataclass
class Served:
    url: str
    database_url: str
    log: Path

    def log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-6000:]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _local_target(value: str) -> str:
    """An absolute form of a `./path[:attr]` target of langgraph.json."""
    if not value.startswith("."):
        return value
    path, sep, attr = value.partition(":")
    return str((REPO_ROOT / path).resolve()) + sep + attr


def _served_config(folder: Path) -> Path:
    config = json.loads((REPO_ROOT / "langgraph.json").read_text())
    config["graphs"] = {name: _local_target(ref) for name, ref in config["graphs"].items()}
    # Only today's session trades: the served graph's clock starts on the session morning.
    assert config["graphs"][GRAPH_ID].endswith("graphs/trading_session.py:graph")
    config["graphs"][GRAPH_ID] = _local_target("./tests/graphs/served_graph.py:graph")
    config["checkpointer"]["path"] = _local_target(config["checkpointer"]["path"])
    config["dependencies"] = [_local_target(d) for d in config["dependencies"]]
    path = folder / "langgraph.json"
    path.write_text(json.dumps(config, indent=2))
    return path


def _wait_ready(proc: subprocess.Popen[bytes], log: Path, port: int) -> str:
    """Poll /ok until the server answers; return its URL (it may move to another port)."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    url = f"http://127.0.0.1:{port}"
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"langgraph dev exited with {proc.returncode}:\n{log.read_text()[-6000:]}")
        moved = re.search(r"API: (http://127\.0\.0\.1:\d+)", log.read_text(errors="replace"))
        if moved:
            url = moved.group(1)
        try:
            if httpx.get(f"{url}/ok", timeout=1.0).status_code == 200:
                return url
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    pytest.fail(f"langgraph dev was not ready in {READY_TIMEOUT_S} s:\n{log.read_text()[-6000:]}")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop the server and everything it started (its own process group)."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=15)


@pytest.fixture
def served(pg_url: str, tmp_path: Path) -> Iterator[Served]:
    """`langgraph dev` on a free port, on a migrated PostgreSQL database, in tmp_path."""
    migrate.upgrade(pg_url)
    folder = tmp_path / "served"
    folder.mkdir()
    config = _served_config(folder)
    log = tmp_path / "langgraph-dev.log"
    port = _free_port()
    root_state_before = (REPO_ROOT / ".langgraph_api").exists()
    env = {
        **os.environ,  # already cleared of KIS_/OPENAI_/LLM_/... by the autouse fixture
        "LANGSMITH_TRACING": "false",
        "LANGGRAPH_CLI_NO_ANALYTICS": "1",
        "LANGGRAPH_NO_VERSION_CHECK": "true",
        "DATA_DIR": str(tmp_path / "data"),
        "DATABASE_URL": pg_url,
        "TRADING_MODE": "paper",
    }
    command = [
        str(Path(sys.executable).parent / "langgraph"),
        "dev",
        "--no-browser",
        "--no-reload",
        "--port",
        str(port),
        "--config",
        str(config),
    ]
    with log.open("wb") as out:
        proc = subprocess.Popen(
            command,
            cwd=folder,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        url = _wait_ready(proc, log, port)
        yield Served(url=url, database_url=pg_url, log=log)
    finally:
        _stop(proc)
    assert (folder / ".langgraph_api").is_dir(), "the server keeps its state in its own folder"
    if not root_state_before:
        assert not (REPO_ROOT / ".langgraph_api").exists(), "the checkout stays clean"


def _checkpoint_count(database_url: str, thread_id: str) -> int:
    with psycopg.connect(psycopg_conninfo(database_url)) as conn:
        row = conn.execute(
            "SELECT count(*) FROM checkpoints WHERE thread_id = %s", (thread_id,)
        ).fetchone()
    assert row is not None
    return int(row[0])


def _rows(database_url: str, model: Any) -> list[Any]:
    engine = create_db_engine(database_url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(sa.select(model.__table__)).mappings())
    finally:
        engine.dispose()


async def test_served_session_stops_for_approval_and_trades_when_resumed_through_the_sdk(
    served: Served,
) -> None:
    client = get_client(url=served.url)
    assistants = await client.assistants.search(graph_id=GRAPH_ID)
    assert [a["graph_id"] for a in assistants] == [GRAPH_ID]
    thread_id = (await client.threads.create())["thread_id"]

    # The session date and tickers the seeded demo market rates a buy on (the harness's); the
    # served graph's clock is on that day (`served_graph`), so the session is today's.
    session_input = {"session_date": SESSION_DAY.isoformat(), "tickers": list(TICKERS)}
    out = await client.runs.wait(thread_id, GRAPH_ID, input=session_input)
    assert isinstance(out, dict), out
    assert "__error__" not in out, f"{out['__error__']}\n{served.log_tail()}"
    interrupts = out["__interrupt__"]
    assert len(interrupts) == 1
    request = interrupts[0]["value"]
    orders = request["orders"]
    assert orders, f"no order proposed: {out.get('risk_report')}"
    assert request["expires_at"] and isinstance(request["risk_report"], list)
    assert (await client.threads.get(thread_id))["status"] == "interrupted"
    # The served thread's checkpoints are in our PostgreSQL, under the server's thread id.
    assert _checkpoint_count(served.database_url, thread_id) > 0
    proposed = {r["client_order_id"]: r for r in _rows(served.database_url, Order)}
    assert set(proposed) == {o["client_order_id"] for o in orders}
    assert {r["status"] for r in proposed.values()} == {OrderStatus.PROPOSED}

    done = await client.runs.wait(
        thread_id,
        GRAPH_ID,
        command={"resume": {"approve_all": True, "decided_by": "sdk"}},
        durability="sync",  # as the CLI resumes: the approval is on disk before orders go out
    )
    assert isinstance(done, dict), done
    assert "__error__" not in done, f"{done['__error__']}\n{served.log_tail()}"
    assert done["status"] == "done"
    assert (await client.threads.get(thread_id))["status"] == "idle"

    # The orders, the approvals and the run are in our database.
    stored = {r["client_order_id"]: r for r in _rows(served.database_url, Order)}
    assert set(stored) == set(proposed)
    for order in orders:
        row = stored[order["client_order_id"]]
        assert row["status"] is OrderStatus.FILLED, row
        assert row["filled_qty"] == row["qty"] == order["qty"]
        assert row["broker_order_no"]
    approvals = _rows(served.database_url, Approval)
    assert {(a["client_order_id"], a["decided_by"]) for a in approvals} == {
        (cid, "sdk") for cid in stored
    }
    runs = _rows(served.database_url, Run)
    assert [(r["thread_id"], r["status"]) for r in runs] == [(thread_id, RunStatus.COMPLETED)]
    assert _checkpoint_count(served.database_url, thread_id) > 2
    assert "BlockingError" not in served.log.read_text(errors="replace")
