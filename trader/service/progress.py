"""Session progress for the page: each step and the fills of the runs this service runs.

The service's runs (a trigger, an approval) publish to a `ProgressHub` per thread: `step` as
each node finishes (its line is the CLI's, `graphs.step_lines.describe_update`), `fills` while
the executor follows its orders, and `done` when the run stops (at the approval, at the
graph's end, or with an error). A subscriber of a thread whose run is under way first gets the
run's events so far, so opening the stream just after the POST misses nothing; a subscriber of
an idle thread waits for its next run. `sse_events` writes them as server-sent events.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from agents.executor import FillProgress
from graphs.runner import ThreadView
from graphs.step_lines import describe_update

KEEPALIVE_SECONDS = 15.0
"""How often an idle stream sends a comment, so proxies keep the connection open."""


@dataclass(frozen=True)
class ProgressEvent:
    """One server-sent event: `step`, `fills` or `done`, with its JSON data."""

    kind: str
    data: dict[str, Any]

    def encode(self) -> str:
        """The event as it goes on the wire."""
        return f"event: {self.kind}\ndata: {json.dumps(self.data, ensure_ascii=False)}\n\n"


def fills_line(progress: FillProgress) -> str:
    """The fills in one line: orders placed, filled, shares filled."""
    n = progress.orders
    return (
        f"following fills: {progress.placed}/{n} placed, {progress.filled}/{n} filled "
        f"({progress.filled_qty:,}/{progress.qty:,} shares)"
    )


@dataclass
class _Thread:
    runs: int = 0
    """Runs of the thread under way in this process (a second one is refused as busy)."""
    events: list[ProgressEvent] = field(default_factory=list)
    subscribers: set[asyncio.Queue[ProgressEvent]] = field(default_factory=set)


class RunReporter:
    """What one run tells the hub; its methods are `SessionRunner`'s callbacks."""

    def __init__(self, hub: ProgressHub, thread_id: str) -> None:
        """Report the run of `thread_id` to `hub`."""
        self.hub = hub
        self.thread_id = thread_id

    def node(self, node: str, update: dict[str, Any]) -> None:
        """A node finished."""
        line = describe_update(node, update)
        self.hub.publish(self.thread_id, ProgressEvent("step", {"node": node, "line": line}))

    def fills(self, progress: FillProgress) -> None:
        """The executor sent an order or polled its fills."""
        data = progress.model_dump(mode="json") | {"line": fills_line(progress)}
        self.hub.publish(self.thread_id, ProgressEvent("fills", data))

    def stopped(self, view: ThreadView) -> None:
        """The run stopped without an error."""
        self.hub.publish(
            self.thread_id,
            ProgressEvent(
                "done",
                {
                    "thread_id": view.thread_id,
                    "awaiting_approval": view.awaiting_approval,
                    "finished": view.finished,
                    "status": view.status.value if view.status else None,
                },
            ),
        )


class ProgressHub:
    """The progress of the service's runs, per thread, for any number of subscribers.

    Everything runs on the app's event loop (the runner calls its callbacks there).
    """

    def __init__(self, keepalive_seconds: float = KEEPALIVE_SECONDS) -> None:
        """`keepalive_seconds`: how long a stream stays silent before a comment."""
        self.keepalive_seconds = keepalive_seconds
        self._threads: dict[str, _Thread] = {}

    def _thread(self, thread_id: str) -> _Thread:
        return self._threads.setdefault(thread_id, _Thread())

    def _forget_if_idle(self, thread_id: str) -> None:
        thread = self._threads.get(thread_id)
        if thread is not None and not thread.runs and not thread.subscribers:
            del self._threads[thread_id]

    def publish(self, thread_id: str, event: ProgressEvent) -> None:
        """Send `event` to the thread's subscribers and keep it for late ones."""
        thread = self._thread(thread_id)
        thread.events.append(event)
        for queue in thread.subscribers:
            queue.put_nowait(event)

    @contextmanager
    def run(self, thread_id: str) -> Iterator[RunReporter]:
        """Around one run of `thread_id`: its reporter; `done` with the error if it fails.

        A failing run that overlapped another one of the thread (a second approval refused as
        busy) says nothing, so the run under way keeps its watchers.
        """
        thread = self._thread(thread_id)
        if not thread.runs:
            thread.events = []
        thread.runs += 1
        try:
            yield RunReporter(self, thread_id)
        except BaseException as exc:
            if thread.runs == 1:
                self.publish(thread_id, ProgressEvent("done", {"error": str(exc) or "failed"}))
            raise
        finally:
            thread.runs -= 1
            if not thread.runs:
                thread.events = []
            self._forget_if_idle(thread_id)

    @contextmanager
    def subscribe(self, thread_id: str) -> Iterator[asyncio.Queue[ProgressEvent]]:
        """A queue of the thread's events: the run's so far when one is under way, then new."""
        thread = self._thread(thread_id)
        queue: asyncio.Queue[ProgressEvent] = asyncio.Queue()
        if thread.runs:
            for event in thread.events:
                queue.put_nowait(event)
        thread.subscribers.add(queue)
        try:
            yield queue
        finally:
            thread.subscribers.discard(queue)
            self._forget_if_idle(thread_id)

    async def sse_events(self, thread_id: str) -> AsyncIterator[str]:
        """The thread's events as server-sent events, until `done` (or the client leaves).

        Starts with a comment, so a client knows it is subscribed before it triggers a run.
        """
        with self.subscribe(thread_id) as queue:
            yield ": subscribed\n\n"
            while True:
                try:
                    event = await asyncio.wait_for(queue.get(), self.keepalive_seconds)
                except TimeoutError:
                    yield ": keep-alive\n\n"
                    continue
                yield event.encode()
                if event.kind == "done":
                    return
