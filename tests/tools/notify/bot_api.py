"""A local fake of the Telegram Bot API over real HTTP, for the approval buttons.

A FastAPI app under Uvicorn on 127.0.0.1 (an ephemeral port, in a thread). It keeps the
messages `sendMessage` posts (with their `reply_markup`), hands out button presses queued by
the test through `getUpdates` (honouring `offset`, and long-polling up to `timeout`), and
records every call, `answerCallbackQuery` and `editMessageText` included;
`editMessageReplyMarkup` redraws a kept message's buttons. A path whose token
is not the bot's is answered 401 `ok: false`, as Telegram does; `failing` makes every call a
500, as an outage.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse


@dataclass(frozen=True)
class Call:
    """One call the fake got: the method, the token in its path, and its JSON body."""

    method: str
    token: str
    body: dict[str, Any]


@dataclass
class FakeBotApi:
    """What the fake holds and how it answers."""

    token: str
    base_url: str = ""
    calls: list[Call] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)
    failing: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    def of(self, method: str) -> list[Call]:
        """The calls of one method, in order."""
        with self.lock:
            return [c for c in self.calls if c.method == method]

    def wait_for(self, method: str, n: int, timeout_s: float = 60.0) -> list[Call]:
        """Wait until `n` calls of `method` arrived; return them (fewer if time ran out)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            calls = self.of(method)
            if len(calls) >= n:
                return calls
            time.sleep(0.02)
        return self.of(method)

    def press(
        self, message: dict[str, Any], data: str, *, user_id: int, chat_id: int | None = None
    ) -> int:
        """Queue a press of the button with `data` under `message`; its update id.

        `chat_id` puts the message in another chat than the one it was sent to (a press
        from elsewhere).
        """
        with self.lock:
            update_id = 1000 + len(self.updates)
            chat = {"id": message["chat"]["id"] if chat_id is None else chat_id, "type": "group"}
            self.updates.append(
                {
                    "update_id": update_id,
                    "callback_query": {
                        "id": f"cbq-{update_id}",
                        "from": {"id": user_id, "is_bot": False, "first_name": "T"},
                        "chat_instance": "ci-1",
                        "data": data,
                        "message": {
                            "message_id": message["message_id"],
                            "date": 0,
                            "chat": chat,
                            "text": message["text"],
                        },
                    },
                }
            )
        return update_id

    def answers(self) -> list[str]:
        """The texts of `answerCallbackQuery`, in order."""
        return [c.body["text"] for c in self.of("answerCallbackQuery")]


def _app(state: FakeBotApi) -> FastAPI:
    app = FastAPI()

    @app.post("/bot{token}/{method}")
    async def call(token: str, method: str, request: Request) -> JSONResponse:
        body = await request.json()
        with state.lock:
            state.calls.append(Call(method, token, body))
            failing = state.failing
        if failing:
            return JSONResponse({"ok": False, "error_code": 500}, status_code=500)
        if token != state.token:
            return JSONResponse(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status_code=401
            )
        if method == "sendMessage":
            with state.lock:
                message = {
                    "message_id": len(state.messages) + 1,
                    "date": 0,
                    "chat": {"id": int(body["chat_id"]), "type": "group"},
                    "text": body["text"],
                    "reply_markup": body.get("reply_markup"),
                }
                state.messages.append(message)
            return JSONResponse({"ok": True, "result": message})
        if method == "getUpdates":
            offset = int(body.get("offset") or 0)
            deadline = time.monotonic() + float(body.get("timeout") or 0)
            while True:
                with state.lock:
                    ready = [u for u in state.updates if u["update_id"] >= offset]
                if ready or time.monotonic() >= deadline:
                    return JSONResponse({"ok": True, "result": ready})
                await asyncio.sleep(0.02)
        if method == "editMessageReplyMarkup":
            with state.lock:
                for message in state.messages:
                    if message["message_id"] == int(body["message_id"]):
                        message["reply_markup"] = body.get("reply_markup")
            return JSONResponse({"ok": True, "result": True})
        if method in {"answerCallbackQuery", "editMessageText"}:
            return JSONResponse({"ok": True, "result": True})
        return JSONResponse({"ok": False, "error_code": 404}, status_code=404)

    return app


@contextmanager
def running_bot_api(token: str) -> Iterator[FakeBotApi]:
    """Serve a fake Bot API for the bot `token` on 127.0.0.1 until the block exits."""
    state = FakeBotApi(token=token)
    server = uvicorn.Server(
        uvicorn.Config(_app(state), host="127.0.0.1", port=0, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the fake Bot API did not start")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    state.base_url = f"http://127.0.0.1:{port}"
    try:
        yield state
    finally:
        server.should_exit = True
        thread.join(timeout=10)
