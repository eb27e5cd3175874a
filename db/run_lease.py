"""The executor lease of a run, one transaction per call (see `agents.executor.lease`).

Synchronous (the database driver is); the lease calls these through `asyncio.to_thread`.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from sqlalchemy.orm import Session, sessionmaker

from db.engine import transaction
from db.repositories import RunRepository


class LeaseAnswer(NamedTuple):
    """Whether the lease is ours now, and otherwise who holds it until when."""

    held: bool
    holder: str | None
    """Our holder name when `held`; else the other holder (None: no run row)."""
    until: datetime | None
    """The other holder's lease end (None when `held`)."""


class RunLeases:
    """Take, renew and free the executor lease stored on a run row."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        """Work on the database behind `sessions`."""
        self.sessions = sessions

    def take(self, run_id: int, holder: str, *, now: datetime, until: datetime) -> LeaseAnswer:
        """Take the lease for `holder` (or keep it, if already theirs) until `until`."""
        with transaction(self.sessions) as session:
            runs = RunRepository(session)
            if runs.take_executor_lease(run_id, holder, now=now, until=until):
                return LeaseAnswer(True, holder, None)
            return LeaseAnswer(False, *runs.executor_lease(run_id))

    def renew(self, run_id: int, holder: str, *, until: datetime) -> LeaseAnswer:
        """Extend `holder`'s lease to `until`; not held if another holder took it over."""
        with transaction(self.sessions) as session:
            runs = RunRepository(session)
            if runs.renew_executor_lease(run_id, holder, until=until):
                return LeaseAnswer(True, holder, None)
            return LeaseAnswer(False, *runs.executor_lease(run_id))

    def release(self, run_id: int, holder: str) -> None:
        """Free the lease if `holder` still holds it."""
        with transaction(self.sessions) as session:
            RunRepository(session).release_executor_lease(run_id, holder)
