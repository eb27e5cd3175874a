"""A SQLite file of books that several threads and processes can share safely.

The KIS simulator and the paper broker both keep a broker's books (accounts, orders, fills) in a
file of their own, so that a session resumed in another process meets the same broker. This is
their common base: WAL mode (readers never wait for the writer), a generous busy timeout, and
re-entrant `BEGIN IMMEDIATE` transactions, which take the write lock up front so that a
read-then-write ("is this order known? if not, place it") is atomic across processes.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

BUSY_TIMEOUT_S = 30.0


def _create_private(path: Path) -> None:
    """Create the file readable by its owner only (0600), or make an existing one so.

    The books hold account numbers and, for the simulator, its tokens. SQLite gives its WAL and
    shared-memory files the main file's mode, so they follow.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        os.fchmod(fd, 0o600)
    finally:
        os.close(fd)


class SqliteBooks:
    """A connection to a books file (or memory), with its schema applied."""

    def __init__(self, path: Path | str | None, schema: str) -> None:
        """Open (creating if needed) the file at `path`, or an in-memory database."""
        target = ":memory:" if path is None else str(path)
        if path is not None:
            _create_private(Path(path))
        self._conn = sqlite3.connect(
            target, check_same_thread=False, isolation_level=None, timeout=BUSY_TIMEOUT_S
        )
        self._conn.row_factory = sqlite3.Row
        self._lock = threading.RLock()
        self._depth = 0
        if path is not None:
            self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
        self._conn.executescript(schema)

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._conn.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Run a block in one write transaction (re-entrant within a thread).

        Reads inside the block see a snapshot no other process can change until it ends.
        """
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield self._conn
                finally:
                    self._depth -= 1
                return
            self._conn.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            else:
                self._conn.execute("COMMIT")
            finally:
                self._depth = 0

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        """Run a read query."""
        with self._lock:
            return list(self._conn.execute(sql, params).fetchall())
