"""Servers that record what they are sent or send, for the secrets test.

- `TraceSink`: stands in for LangSmith (`LANGSMITH_ENDPOINT`); keeps every request body,
  decompressed.
- `ResponseRecorder`: an ASGI wrapper that keeps every response body an app sends.
"""

from __future__ import annotations

import gzip
import threading
from typing import Any

import zstandard
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route


class TraceSink:
    """A minimal LangSmith endpoint: `/info` unknown, every POST/PATCH accepted and kept."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []
        self._lock = threading.Lock()

    async def _record(self, request: Request) -> Response:
        raw = await request.body()
        encoding = request.headers.get("content-encoding", "")
        if "zstd" in encoding:
            raw = zstandard.ZstdDecompressor().decompressobj().decompress(raw)
        elif "gzip" in encoding:
            raw = gzip.decompress(raw)
        with self._lock:
            self.bodies.append(raw)
        return JSONResponse({}, status_code=202)

    async def _info(self, request: Request) -> Response:
        return JSONResponse({"detail": "not found"}, status_code=404)

    def app(self) -> Starlette:
        """The ASGI app."""
        return Starlette(
            routes=[
                Route("/info", self._info, methods=["GET"]),
                Route("/{path:path}", self._record, methods=["POST", "PATCH", "PUT"]),
            ]
        )


class ResponseRecorder:
    """Wraps an ASGI app; `bodies` holds each HTTP response body it sent."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.bodies: list[bytes] = []
        self._lock = threading.Lock()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []

        async def keep(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if not message.get("more_body"):
                    with self._lock:
                        self.bodies.append(b"".join(chunks))
            await send(message)

        await self.app(scope, receive, keep)
