"""Which database holds a real account's sessions, recorded outside the working directory.

`DATABASE_URL` and `DATA_DIR` default to `./data`, so a command run from another folder opens a
fresh database that knows nothing of today's session, and would trade it again. A real
account's sessions are therefore tied to one database by a marker in the per-user state folder
(`STATE_DIR`, by default `$XDG_STATE_HOME/market-auto-trader` or
`~/.local/state/market-auto-trader`):

    <STATE_DIR>/real-accounts/<account fingerprint>.json
    {"version": 1, "account_fingerprint": "1a2b3c4d5e6f7a8b",
     "database": "postgresql://trader@db.internal:5432/trader", "claimed_at": "2026-12-06T..."}

The first session of a real account writes it; every later one must use the same database
(SQLite files are compared by absolute path, PostgreSQL by user, host, port and database; the
password is never written). `trader account claim` moves the marker on purpose.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from core.errors import ConfigurationError
from db.engine import parse_database_url

MARKER_FOLDER = "real-accounts"
MARKER_VERSION = 1


@dataclass(frozen=True)
class AccountMarker:
    """The database a real account's sessions live in."""

    account_fingerprint: str
    database: str
    """The database URL without password (SQLite: the absolute path of the file)."""
    claimed_at: str


class OtherDatabaseError(ConfigurationError):
    """A real account's session was started or continued on another database than its own."""


def database_identity(url: str) -> str:
    """Return a database URL as the marker records it: no password, SQLite paths absolute."""
    parsed = parse_database_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = parsed.database or ":memory:"
        if path != ":memory:":
            path = str(Path(path).expanduser().resolve())
        return f"sqlite:///{path}"
    host = (parsed.host or "localhost").lower()
    user = f"{parsed.username}@" if parsed.username else ""
    return f"postgresql://{user}{host}:{parsed.port or 5432}/{parsed.database or ''}"


def marker_path(state_dir: Path, fingerprint: str) -> Path:
    """Return where the marker of an account lives."""
    return state_dir / MARKER_FOLDER / f"{fingerprint}.json"


def read_marker(state_dir: Path, fingerprint: str) -> AccountMarker | None:
    """Return the account's marker, or None when it has none.

    Raises:
        ConfigurationError: the marker file is unreadable (a person must look at it).
    """
    path = marker_path(state_dir, fingerprint)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return AccountMarker(
            account_fingerprint=str(data["account_fingerprint"]),
            database=str(data["database"]),
            claimed_at=str(data["claimed_at"]),
        )
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigurationError(
            f"the real-account marker {path} is unreadable ({type(exc).__name__}); fix or "
            "delete it, then run `trader account claim`"
        ) from None


def _write(state_dir: Path, marker: AccountMarker, *, replace: bool) -> bool:
    """Write the marker atomically; without `replace`, only when none exists (False then)."""
    path = marker_path(state_dir, marker.account_fingerprint)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    payload = {"version": MARKER_VERSION, **marker.__dict__}
    tmp.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    try:
        if replace:
            os.replace(tmp, path)
            return True
        try:
            os.link(tmp, path)  # atomic, and fails when another process claimed first
        except FileExistsError:
            return False
        return True
    finally:
        tmp.unlink(missing_ok=True)


def guard_database(
    state_dir: Path, fingerprint: str, database_url: str, now: datetime, *, claim: bool = True
) -> AccountMarker | None:
    """Make sure a real account's sessions use its database; the first use claims it.

    With `claim=False` (an early check, before anything is opened) an account without a
    marker passes and none is written (None is returned).

    Raises:
        OtherDatabaseError: the account's marker names another database.
    """
    current = database_identity(database_url)
    marker = read_marker(state_dir, fingerprint)
    if marker is None and not claim:
        return None
    if marker is None:
        claimed = AccountMarker(fingerprint, current, now.isoformat())
        if _write(state_dir, claimed, replace=False):
            return claimed
        marker = read_marker(state_dir, fingerprint)
        assert marker is not None
    if marker.database != current:
        raise OtherDatabaseError(
            f"the real account {fingerprint} keeps its sessions in {marker.database}, but "
            f"DATABASE_URL resolves to {current} (another folder's ./data?): point "
            f"DATABASE_URL at {marker.database}, or run `trader account claim` to keep this "
            f"account's sessions in {current} from now on (marker: "
            f"{marker_path(state_dir, fingerprint)})"
        )
    return marker


def claim_database(
    state_dir: Path, fingerprint: str, database_url: str, now: datetime
) -> tuple[AccountMarker | None, AccountMarker]:
    """Point the account's marker at `database_url`; return (the previous marker, the new one)."""
    previous = read_marker(state_dir, fingerprint)
    marker = AccountMarker(fingerprint, database_identity(database_url), now.isoformat())
    _write(state_dir, marker, replace=True)
    return previous, marker
