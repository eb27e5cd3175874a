"""Where a session trades, and the check that it is continued nowhere else.

A run records its venue (demo, paper, kis-virtual, kis-real), its server (the KIS base URL;
`in-process:<store>` for the demo market; `paper:<store>` for the paper broker) and a
fingerprint of its account (`trader.accounts.account_fingerprint`, never the number). Every way
of continuing a session compares the settings' venue with the recorded one and refuses a
difference with one line naming what differs and how to fix it: the CLI before it opens
anything, `SessionRunner` before it streams, and the graph's nodes (through
`agents.context.session_context`) for Studio and the SDK.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from core.errors import ConfigurationError
from db.models import Run
from tools.kis.endpoints import BASE_URLS

DEMO_SERVER_PREFIX = "in-process:"
PAPER_SERVER_PREFIX = "paper:"
SERVER_CHARS = 200
"""Width of `runs.venue_server`."""


@dataclass(frozen=True)
class VenueIdentity:
    """Where a session's orders go: the venue, the server, and the account's fingerprint."""

    name: str
    server: str | None
    account: str | None

    def describe(self) -> str:
        """`kis-real at https://… (account 1a2b…)`, for messages."""
        server = f" at {self.server}" if self.server else ""
        account = f" (account {self.account})" if self.account else ""
        return f"{self.name}{server}{account}"


class VenueMismatchError(ConfigurationError):
    """A session would continue on another venue, server or account than it was proposed on."""


def fit_server(text: str) -> str:
    """Keep a server description within the column (a long path keeps its end)."""
    if len(text) <= SERVER_CHARS:
        return text
    return text[:20] + "…" + text[-(SERVER_CHARS - 21) :]


def recorded_venue(sessions: sessionmaker[Session], thread_id: str) -> VenueIdentity | None:
    """Return what the run of `thread_id` recorded (None: no run row)."""
    with sessions() as session:
        row = session.execute(
            sa.select(Run.venue, Run.venue_server, Run.account_fingerprint).where(
                Run.thread_id == thread_id
            )
        ).one_or_none()
    if row is None or row.venue is None:
        return None
    return VenueIdentity(row.venue, row.venue_server, row.account_fingerprint)


def _server_fix(recorded: VenueIdentity) -> str:
    server = recorded.server or ""
    for prefix in (DEMO_SERVER_PREFIX, PAPER_SERVER_PREFIX):
        if server.startswith(prefix):
            folder = server.removeprefix(prefix).rsplit("/", 1)[0]
            return f"set DATA_DIR={folder} (or run from the folder whose ./data holds it)"
    if server in {url.rstrip("/") for url in BASE_URLS.values()}:
        return "unset KIS_BASE_URL"
    return f"set KIS_BASE_URL={server}"


def mismatch(thread_id: str, recorded: VenueIdentity, current: VenueIdentity) -> str | None:
    """Explain in one line how `current` differs from where the session was proposed.

    A part the run did not record (a run from before servers were recorded) is not compared.
    """
    differs: list[str] = []
    fixes: list[str] = []
    if recorded.name != current.name:
        differs.append("venue")
        fixes.append(f"set TRADING_MODE={recorded.name}")
    elif recorded.server is not None and recorded.server != current.server:
        differs.append("server")
        fixes.append(_server_fix(recorded))
    if recorded.account is not None and recorded.account != current.account:
        differs.append("account")
        fixes.append("set KIS_ACCOUNT_NO (and KIS_REAL_ACCOUNT_CONFIRM) to that account")
    if not differs:
        return None
    verb = "differ" if len(differs) > 1 else "differs"
    return (
        f"session {thread_id} was proposed on {recorded.describe()} but the settings select "
        f"{current.describe()}: the {' and '.join(differs)} {verb}; "
        f"{'; '.join(fixes)} to continue it"
    )


def check_venue(
    sessions: sessionmaker[Session], thread_id: str, current: VenueIdentity
) -> VenueIdentity | None:
    """Return the recorded venue of `thread_id` when `current` matches it (None: no run yet).

    Raises:
        VenueMismatchError: the venue, server or account differs from the recorded one.
    """
    recorded = recorded_venue(sessions, thread_id)
    if recorded is None:
        return None
    problem = mismatch(thread_id, recorded, current)
    if problem:
        raise VenueMismatchError(problem)
    return recorded
