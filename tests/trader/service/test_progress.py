"""Session progress as server-sent events: a real Uvicorn server, a real demo session.

A reader subscribes to the thread's events, then the session is triggered and later approved;
the reader sees each node's step as it finishes, the fills, and `done` where the run stops.
The hub's own rules (late subscribers, failures, keep-alives) are checked without a server.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import uvicorn

from agents.executor import FillProgress
from core.clock import Clock
from graphs.runner import ThreadView
from tests.trader.service.conftest import AUTH, THREAD, TOKEN
from tests.trader.service.test_sessions import served
from trader.service.app import create_app
from trader.service.progress import ProgressEvent, ProgressHub
from trader.settings import Settings

Event = tuple[str, dict[str, Any]]


class Reader:
    """Reads one thread's event stream on a thread of its own until `done` (or the end)."""

    def __init__(self, base: str, thread_id: str) -> None:
        self.url = f"{base}/api/sessions/{thread_id}/events"
        self.subscribed = threading.Event()
        self.events: list[Event] = []
        self.comments: list[str] = []
        self.content_type = ""
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()
        assert self.subscribed.wait(30), self.error or "the stream never said it subscribed"

    def _read(self) -> None:
        try:
            with (
                httpx.Client(timeout=180) as http,
                http.stream("GET", self.url, headers=AUTH) as response,
            ):
                self.content_type = response.headers["content-type"]
                kind, data = "message", ""
                for line in response.iter_lines():
                    if line.startswith(":"):
                        self.comments.append(line)
                        self.subscribed.set()
                    elif line.startswith("event: "):
                        kind = line.removeprefix("event: ")
                    elif line.startswith("data: "):
                        data = line.removeprefix("data: ")
                    elif not line and data:
                        self.events.append((kind, json.loads(data)))
                        kind, data = "message", ""
        except BaseException as exc:
            self.error = exc
            self.subscribed.set()

    def finish(self) -> list[Event]:
        self.thread.join(timeout=60)
        assert not self.thread.is_alive(), "the stream did not end after done"
        assert self.error is None, self.error
        return self.events


def steps(events: list[Event]) -> list[str]:
    return [data["node"] for kind, data in events if kind == "step"]


def test_events_follow_a_session_and_its_approval(
    settings: Settings, clock: Callable[[], Clock]
) -> None:
    with served(settings, clock) as base, httpx.Client(base_url=base, timeout=180) as http:
        assert http.get(f"/api/sessions/{THREAD}/events").status_code == 401
        wrong = {"Authorization": f"Bearer {TOKEN}x"}
        assert http.get(f"/api/sessions/{THREAD}/events", headers=wrong).status_code == 401
        today = http.get("/api/sessions/today", headers=AUTH)
        assert today.json() == {"thread_id": THREAD}

        # Subscribe first, then trigger: the POST still answers once the session stops.
        reader = Reader(base, THREAD)
        started = http.post("/api/sessions", headers=AUTH)
        assert started.status_code == 200, started.text
        assert started.json()["session"]["awaiting_approval"] is True
        events = reader.finish()
        assert reader.content_type.startswith("text/event-stream")
        nodes = steps(events)
        assert nodes[0] == "load_context"
        assert set(nodes[1:3]) == {"market_analyst", "fundamental"}  # one superstep
        assert nodes[3:] == ["signals", "risk_manager"]
        by_node = {data["node"]: data["line"] for kind, data in events if kind == "step"}
        assert by_node["load_context"] == "2 tickers quoted"
        assert by_node["risk_manager"].startswith("2 orders proposed")
        assert events[-1] == (
            "done",
            {
                "thread_id": THREAD,
                "awaiting_approval": True,
                "finished": False,
                "status": started.json()["session"]["status"],
            },
        )

        # The approval: its steps, the executor's fills, and done at the graph's end.
        reader = Reader(base, THREAD)
        answer = {"approve_all": True, "decided_by": "events-test"}
        approved = http.post(f"/api/sessions/{THREAD}/approval", headers=AUTH, json=answer)
        assert approved.status_code == 200, approved.text
        events = reader.finish()
        assert steps(events) == ["approval", "review", "executor", "report"]
        fills = [data for kind, data in events if kind == "fills"]
        assert fills, "no fills progress"
        assert fills[-1]["filled"] == fills[-1]["orders"] == 2
        assert fills[-1]["line"].startswith("following fills: 2/2 placed, 2/2 filled")
        assert events[-1][0] == "done" and events[-1][1]["finished"] is True


PROGRESS = FillProgress(orders=1, placed=1, filled=0, qty=10, filled_qty=0, open=1)


def _view() -> ThreadView:
    return ThreadView(thread_id="t", exists=True)


def _collect(hub: ProgressHub, thread_id: str, into: list[str]) -> asyncio.Task[None]:
    async def read() -> None:
        async for chunk in hub.sse_events(thread_id):
            into.append(chunk)

    return asyncio.create_task(read())


def test_a_late_subscriber_gets_the_run_so_far_and_a_failure_ends_the_stream() -> None:
    async def scenario() -> tuple[list[str], list[str], list[str]]:
        hub = ProgressHub(keepalive_seconds=0.05)
        early: list[str] = []
        early_task = _collect(hub, "t", early)
        await asyncio.sleep(0.12)  # idle: keep-alive comments only
        late: list[str] = []
        with pytest.raises(RuntimeError), hub.run("t") as report:
            report.node("report", {})
            late_task = _collect(hub, "t", late)
            await asyncio.sleep(0)
            report.fills(PROGRESS)
            raise RuntimeError("the broker went away")
        await asyncio.wait_for(asyncio.gather(early_task, late_task), 5)
        # A run that stops: nobody left over, and a new subscriber waits for the next run.
        after: list[str] = []
        with hub.run("t") as report:
            after_task = _collect(hub, "t", after)
            await asyncio.sleep(0)
            report.stopped(_view())
        await asyncio.wait_for(after_task, 5)
        assert hub._threads == {}
        return early, late, after

    early, late, after = asyncio.run(scenario())
    assert early[0] == ": subscribed\n\n"
    assert ": keep-alive\n\n" in early
    for chunks in (early, late):
        events = [c for c in chunks if not c.startswith(":")]
        assert events == [
            ProgressEvent("step", {"node": "report", "line": "report written"}).encode(),
            ProgressEvent(
                "fills",
                PROGRESS.model_dump()
                | {"line": "following fills: 1/1 placed, 0/1 filled (0/10 shares)"},
            ).encode(),
            'event: done\ndata: {"error": "the broker went away"}\n\n',
        ]
    assert after[-1].startswith("event: done\n")


def test_a_refused_overlapping_run_leaves_the_watchers_of_the_run_under_way() -> None:
    async def scenario() -> list[str]:
        hub = ProgressHub()
        seen: list[str] = []
        with hub.run("t") as first:
            task = _collect(hub, "t", seen)
            await asyncio.sleep(0)
            with pytest.raises(RuntimeError), hub.run("t"):
                raise RuntimeError("busy")
            first.node("report", {})
            first.stopped(_view())
        await asyncio.wait_for(task, 5)
        return seen

    seen = asyncio.run(scenario())
    kinds = [c.split("\n")[0] for c in seen if not c.startswith(":")]
    assert kinds == ["event: step", "event: done"]
    assert "busy" not in "".join(seen)


def test_a_client_that_leaves_is_unsubscribed(
    settings: Settings, clock: Callable[[], Clock]
) -> None:
    app = create_app(settings, clock=clock, demo=True)
    hub = app.state.sessions.progress
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started:
            assert time.monotonic() < deadline and thread.is_alive(), "the service did not start"
            time.sleep(0.05)
        port = server.servers[0].sockets[0].getsockname()[1]
        url = f"http://127.0.0.1:{port}/api/sessions/{THREAD}/events"
        with httpx.Client(timeout=30) as http, http.stream("GET", url, headers=AUTH) as response:
            lines = response.iter_lines()  # kept: a dropped iterator closes the stream
            assert next(lines) == ": subscribed"
            assert THREAD in hub._threads
        deadline = time.monotonic() + 10
        while hub._threads and time.monotonic() < deadline:
            time.sleep(0.05)
        assert hub._threads == {}
    finally:
        server.should_exit = True
        thread.join(timeout=30)
