"""A local HTTP receiver standing in for the Telegram Bot API and a chat webhook.

A real HTTP server on 127.0.0.1 (an ephemeral port) in a thread: it records every request
(method, path, JSON body) and answers as told: a status, a body, or after a delay (a timeout).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Received:
    """One request the receiver got."""

    method: str
    path: str
    body: Any
    content_type: str


@dataclass
class Receiver:
    """What the receiver got, and how it answers."""

    base_url: str = ""
    requests: list[Received] = field(default_factory=list)
    status: int = 200
    answer: Any = field(default_factory=lambda: {"ok": True, "result": {"message_id": 1}})
    delay_s: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def bodies(self) -> list[Any]:
        """The JSON bodies received, in order."""
        with self.lock:
            return [r.body for r in self.requests]

    def wait_for(self, n: int, timeout_s: float = 5.0) -> list[Received]:
        """Wait until `n` requests arrived; return them (fewer if the time ran out)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.requests) >= n:
                    return list(self.requests)
            time.sleep(0.01)
        with self.lock:
            return list(self.requests)


def _handler(state: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = raw.decode("utf-8", "replace")
            with state.lock:
                state.requests.append(
                    Received("POST", self.path, body, self.headers.get("Content-Type", ""))
                )
            if state.delay_s:
                time.sleep(state.delay_s)
            payload = json.dumps(state.answer).encode()
            try:
                self.send_response(state.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout test)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the tests read `requests`."""

    return Handler


@contextmanager
def running_receiver() -> Iterator[Receiver]:
    """Serve a receiver on 127.0.0.1 until the block exits."""
    state = Receiver()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    server.daemon_threads = True
    state.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
