"""Shared fixtures.

- `shared_dir`: the read-only reference folder `../shared` (market data, KIS samples). Tests
  that need it skip, with a reason, when it is absent (a user's fresh clone).
- `pg_url`: a fresh, empty PostgreSQL database per test, created on the server named by
  `TEST_DATABASE_URL` and dropped afterwards. Without that variable the test is skipped, except
  under `CI=true`, where a missing PostgreSQL fails the run.
- `db_url`: parametrised over SQLite (a temp file) and PostgreSQL, for tests that must hold on
  both engines.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from sqlalchemy.orm import Session, sessionmaker

from db import migrate
from db.engine import create_db_engine, parse_database_url, psycopg_conninfo, session_factory

REPO_ROOT = Path(__file__).resolve().parents[1]


def _shared_dir() -> Path:
    return Path(os.environ.get("SHARED_DIR", REPO_ROOT.parent / "shared"))


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The `../shared` reference folder, or skip."""
    path = _shared_dir()
    if not path.is_dir():
        pytest.skip(f"reference folder {path} is absent (set SHARED_DIR to use another)")
    return path


def _pg_server_url() -> str | None:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail("CI=true but TEST_DATABASE_URL is not set: PostgreSQL tests must run in CI")
    return None


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh empty PostgreSQL database for one test; dropped afterwards."""
    server = _pg_server_url()
    if server is None:
        pytest.skip("TEST_DATABASE_URL is not set; PostgreSQL tests skipped")
    name = f"t_{uuid.uuid4().hex[:16]}"
    admin = psycopg_conninfo(server)
    try:
        with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    except psycopg.OperationalError as exc:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"PostgreSQL at TEST_DATABASE_URL is unreachable: {exc}")
        pytest.skip(f"PostgreSQL at TEST_DATABASE_URL is unreachable: {exc}")
    url = parse_database_url(server).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A SQLite file in the test's temp folder."""
    return f"sqlite:///{tmp_path / 'trader.db'}"


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest) -> str:
    """A fresh empty database on each engine."""
    if request.param == "sqlite":
        return str(request.getfixturevalue("sqlite_url"))
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def sessions(db_url: str) -> Iterator[sessionmaker[Session]]:
    """Sessions on `db_url` after every migration, on each engine."""
    migrate.upgrade(db_url)
    engine = create_db_engine(db_url)
    yield session_factory(engine)
    engine.dispose()


@pytest.fixture(autouse=True)
def _clean_environ(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Keep a developer's shell or .env out of tests: settings come only from what a test sets."""
    for name in list(os.environ):
        upper = name.upper()
        if upper.startswith(
            (
                "KIS_",
                "OPENAI_",
                "LLM_",
                "LANGSMITH_",
                "ECOS_",
                "FRED_",
                "DART_",
                "STUDIO_",
                "NOTIFY_",
                "SERVICE_",
            )
        ) or (
            upper
            in {"TRADING_MODE", "DATABASE_URL", "WATCHLIST", "DATA_DIR", "PORTFOLIO", "STATE_DIR"}
        ):
            monkeypatch.delenv(name, raising=False)
    # Per-user state (real-account markers) goes to the test's folder, never the home folder.
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg-state"))
    monkeypatch.chdir(tmp_path)
