"""Engines and sessions for a `DATABASE_URL`, and the URL handling the checkpointers need.

The same URL serves SQLAlchemy (`postgresql+psycopg://...`) and psycopg (`postgresql://...`);
`postgresql://` is accepted and driven by psycopg 3 (psycopg2 is not a dependency).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker

from core.errors import ConfigurationError, DatabaseUnavailableError


def parse_database_url(url: str) -> URL:
    """Parse and normalise a database URL; raise `ConfigurationError` on anything unusable."""
    try:
        parsed = make_url(url)
    except sa.exc.ArgumentError as exc:
        raise ConfigurationError(f"DATABASE_URL is not a valid database URL: {exc}") from None
    except ValueError:
        # SQLAlchemy's message would quote the URL's text; name the usual culprit instead.
        raise ConfigurationError(
            "DATABASE_URL is not a valid database URL: is its port a number from 1 to 65535?"
        ) from None
    backend = parsed.get_backend_name()
    if backend == "postgresql":
        _check_port(parsed)
        return parsed.set(drivername="postgresql+psycopg")
    if backend == "sqlite":
        return parsed.set(drivername="sqlite")
    raise ConfigurationError(f"DATABASE_URL must be sqlite or postgresql, not {backend!r}")


def _check_port(parsed: URL) -> None:
    """A port must be a number from 1 to 65535 (the URL's other parts are never echoed)."""
    port = parsed.port
    if port is not None and not 1 <= port <= 65535:
        raise ConfigurationError(
            "DATABASE_URL has an invalid port: it must be a number from 1 to 65535"
        )


def is_postgres(url: str) -> bool:
    """Tell whether a URL points at PostgreSQL."""
    return parse_database_url(url).get_backend_name() == "postgresql"


def sqlite_path(url: str) -> Path | None:
    """Return the file of a SQLite URL, or None for an in-memory database."""
    parsed = parse_database_url(url)
    if (
        parsed.get_backend_name() != "sqlite"
        or not parsed.database
        or parsed.database == ":memory:"
    ):
        return None
    return Path(parsed.database)


def psycopg_conninfo(url: str) -> str:
    """Return a libpq connection string (with credentials) for psycopg and PostgresSaver."""
    parsed = parse_database_url(url)
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


def describe_target(url: str) -> str:
    """Return where a URL points, without credentials: `host:port/db` or the SQLite path."""
    parsed = parse_database_url(url)
    if parsed.get_backend_name() == "sqlite":
        return f"sqlite file {parsed.database or ':memory:'}"
    return f"{parsed.host or 'localhost'}:{parsed.port or 5432}/{parsed.database or ''}"


def _enable_sqlite_foreign_keys(dbapi_conn: Any, _record: Any) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    # WAL lets the checkpointer's connection and ours read while the other writes.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.close()


def create_db_engine(url: str, **kwargs: Any) -> sa.Engine:
    """Create an engine; SQLite gets foreign keys on and its folder created."""
    parsed = parse_database_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = sqlite_path(url)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(parsed, **kwargs)
        event.listen(engine, "connect", _enable_sqlite_foreign_keys)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("connect_args", {"connect_timeout": 5})
    return sa.create_engine(parsed, **kwargs)


def check_connection(engine: sa.Engine) -> None:
    """Open one connection; raise `DatabaseUnavailableError` (one line, no secrets) if it fails."""
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.OperationalError as exc:
        # psycopg spreads its reason over several lines; an operator wants one.
        reason = " ".join(str(exc.orig or "connection failed").split())[:240]
        where = describe_target(engine.url.render_as_string(hide_password=False))
        raise DatabaseUnavailableError(where, reason) from exc


def session_factory(engine: sa.Engine) -> sessionmaker[Session]:
    """Return a session factory whose objects stay readable after commit."""
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """Yield a session inside one transaction: committed on success, rolled back on error."""
    with factory() as session, session.begin():
        yield session
