"""`langgraph dev` as a test's subprocess: start it, SIGKILL it, start it again on the same folder.

`langgraph dev` resolves the config's file targets against its working directory and keeps its
own state in `./.langgraph_api` there (and reads the config's `env` file there). The server
runs in a temporary folder with a copy of `langgraph.json` whose targets point at this checkout,
so the checkout stays clean and a developer's `.env` cannot redirect a test.
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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from langgraph_sdk import get_client
from langgraph_sdk.client import LangGraphClient

from db.engine import create_db_engine

REPO_ROOT = Path(__file__).resolve().parents[2]
GRAPH_ID = "trading_session"
READY_TIMEOUT_S = 90.0
TOKEN = "studio-test-token-5f0c"
"""The STUDIO_AUTH_TOKEN the served tests run with."""


def free_port() -> int:
    """A port nobody listens on right now."""
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


def served_config(folder: Path) -> Path:
    """Write the checkout's langgraph.json, its targets made absolute, into `folder`."""
    config = json.loads((REPO_ROOT / "langgraph.json").read_text())
    config["graphs"] = {name: _local_target(ref) for name, ref in config["graphs"].items()}
    # Only today's session trades: the served graph's clock starts on the session morning.
    assert config["graphs"][GRAPH_ID].endswith("trader/studio.py:graph")
    config["graphs"][GRAPH_ID] = _local_target("./tests/graphs/served_graph.py:graph")
    config["checkpointer"]["path"] = _local_target(config["checkpointer"]["path"])
    if "auth" in config:
        config["auth"]["path"] = _local_target(config["auth"]["path"])
    config["dependencies"] = [_local_target(d) for d in config["dependencies"]]
    path = folder / "langgraph.json"
    path.write_text(json.dumps(config, indent=2))
    return path


@dataclass
class DevServer:
    """One `langgraph dev` folder; the process can be started, killed and started again."""

    folder: Path
    env: dict[str, str]
    log: Path
    database_url: str
    proc: subprocess.Popen[bytes] | None = None
    url: str = ""
    starts: int = 0
    token: str | None = TOKEN
    _port: int = field(default_factory=free_port)

    def start(self) -> str:
        """Start the server and wait until it answers; return its URL."""
        config = self.folder / "langgraph.json"
        if not config.exists():
            served_config(self.folder)
        command = [
            str(Path(sys.executable).parent / "langgraph"),
            "dev",
            "--no-browser",
            "--no-reload",
            "--port",
            str(self._port),
            "--config",
            str(config),
        ]
        self.starts += 1
        with self.log.open("ab") as out:
            out.write(f"\n===== start {self.starts} =====\n".encode())
            self.proc = subprocess.Popen(
                command,
                cwd=self.folder,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.url = self._wait_ready()
        return self.url

    def _wait_ready(self) -> str:
        """Poll /ok until the server answers; return its URL (it may move to another port)."""
        assert self.proc is not None
        deadline = time.monotonic() + READY_TIMEOUT_S
        url = f"http://127.0.0.1:{self._port}"
        marker = f"===== start {self.starts} ====="
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"langgraph dev exited with {self.proc.returncode}:\n{self.tail()}")
            text = self.log.read_text(errors="replace").rpartition(marker)[2]
            moved = re.search(r"API: (http://127\.0\.0\.1:\d+)", text)
            if moved:
                url = moved.group(1)
            try:
                if httpx.get(f"{url}/ok", timeout=1.0).status_code == 200:
                    return url
            except httpx.HTTPError:
                pass
            time.sleep(0.25)
        pytest.fail(f"langgraph dev was not ready in {READY_TIMEOUT_S} s:\n{self.tail()}")

    def client(self, token: str | None = TOKEN) -> LangGraphClient:
        """An SDK client of the running server, sending `token` as its bearer token."""
        headers = {"Authorization": f"Bearer {token}"} if token else None
        return get_client(url=self.url, headers=headers)

    def kill(self) -> None:
        """SIGKILL the server and everything it started (its own process group)."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)

    def stop(self) -> None:
        """Stop the server gracefully (SIGTERM, then SIGKILL)."""
        proc = self.proc
        if proc is None or proc.poll() is not None:
            return
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=15)

    def tail(self) -> str:
        """The end of the server's log, for failure messages."""
        return self.log.read_text(errors="replace")[-6000:]


def dev_server(pg_url: str, tmp_path: Path, **env: str) -> DevServer:
    """A server folder in tmp_path on PostgreSQL `pg_url`, the demo market, and `TOKEN`."""
    folder = tmp_path / "served"
    folder.mkdir()
    served_config(folder)
    environment = {
        **os.environ,  # already cleared of KIS_/OPENAI_/LLM_/... by the autouse fixture
        "LANGSMITH_TRACING": "false",
        "LANGGRAPH_CLI_NO_ANALYTICS": "1",
        "LANGGRAPH_NO_VERSION_CHECK": "true",
        "DATA_DIR": str(tmp_path / "data"),
        "DATABASE_URL": pg_url,
        "TRADING_MODE": "paper",
        "STUDIO_AUTH_TOKEN": TOKEN,
        **env,
    }
    return DevServer(
        folder=folder, env=environment, log=tmp_path / "langgraph-dev.log", database_url=pg_url
    )


def rows(database_url: str, model: Any) -> list[Any]:
    """Every row of a table of ours, as mappings."""
    engine = create_db_engine(database_url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(sa.select(model.__table__)).mappings())
    finally:
        engine.dispose()
