"""One factory for LangGraph checkpointers, sync and async, from a `DATABASE_URL`.

- PostgreSQL: a psycopg pool with the settings `PostgresSaver` needs (`autocommit=True` because
  its migrations use `CREATE INDEX CONCURRENTLY`; `dict_row`; `prepare_threshold=0`).
- SQLite: one connection shared across threads (the saver serialises access with its lock).

`setup()` (the saver's own table migrations) runs once per database per process.

The graph served to Studio is compiled without a checkpointer; `langgraph.json` names the
shell's `trader.studio.checkpointer`, which opens `open_async_checkpointer` on our database, so
`langgraph dev` keeps its checkpoints there.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import aiosqlite
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.postgres import PostgresSaver
from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool, ConnectionPool

from db.engine import is_postgres, psycopg_conninfo, sqlite_path

POOL_MAX_SIZE = 8
_setup_done: set[str] = set()
_setup_lock = threading.Lock()

_PG_CONNECTION_KWARGS: dict[str, Any] = {
    "autocommit": True,
    "prepare_threshold": 0,
    "row_factory": dict_row,
}


def _sqlite_target(url: str) -> str:
    path = sqlite_path(url)
    if path is None:
        return ":memory:"
    path.parent.mkdir(parents=True, exist_ok=True)
    return str(path)


def _setup_once(url: str, saver: BaseCheckpointSaver[Any]) -> None:
    with _setup_lock:
        if url in _setup_done:
            return
        saver.setup()  # type: ignore[attr-defined]
        _setup_done.add(url)


@contextmanager
def open_checkpointer(url: str) -> Iterator[BaseCheckpointSaver[Any]]:
    """Yield a ready synchronous checkpointer for `url`; connections close on exit."""
    if is_postgres(url):
        with ConnectionPool(
            psycopg_conninfo(url),
            max_size=POOL_MAX_SIZE,
            kwargs=_PG_CONNECTION_KWARGS,
            open=True,
        ) as pool:
            saver: BaseCheckpointSaver[Any] = PostgresSaver(pool)  # type: ignore[arg-type]
            _setup_once(url, saver)
            yield saver
        return
    conn = sqlite3.connect(_sqlite_target(url), check_same_thread=False, timeout=15)
    conn.execute("PRAGMA journal_mode=WAL")
    try:
        saver = SqliteSaver(conn)
        _setup_once(url, saver)
        yield saver
    finally:
        conn.close()


@asynccontextmanager
async def open_async_checkpointer(url: str) -> AsyncIterator[BaseCheckpointSaver[Any]]:
    """Yield a ready asynchronous checkpointer for `url`; connections close on exit."""
    if is_postgres(url):
        async with AsyncConnectionPool(
            psycopg_conninfo(url),
            max_size=POOL_MAX_SIZE,
            kwargs=_PG_CONNECTION_KWARGS,
            open=False,
        ) as pool:
            saver = AsyncPostgresSaver(pool)  # type: ignore[arg-type]
            if url not in _setup_done:
                await saver.setup()
                _setup_done.add(url)
            yield saver
        return
    async with aiosqlite.connect(_sqlite_target(url), timeout=15) as conn:
        await conn.execute("PRAGMA journal_mode=WAL")
        async_saver = AsyncSqliteSaver(conn)
        if url not in _setup_done:
            await async_saver.setup()
            _setup_done.add(url)
        yield async_saver
