"""The runs table and session claims: which thread runs which session, and how it ended.

A run row is keyed by its thread id; its status moves as the session does, and its executor
lease (a compare-and-set on the row) keeps a second process from acting on the same session.
A session claim pins (portfolio, date, phase) to the first thread that asked for it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from db.models import Run, RunStatus, SessionClaim
from db.upsert import rowcount, upsert


@dataclass(frozen=True)
class RunOutcome:
    """How a run ended: what `RunRepository.finish` writes on its row."""

    status: RunStatus
    finished_at: datetime
    tokens_in: int
    tokens_out: int
    cost_usd: Decimal
    summary: dict[str, Any]


class RunRepository:
    """Runs keyed by thread id."""

    def __init__(self, session: Session) -> None:
        """Work inside the caller's session."""
        self.session = session

    def ensure(self, run: Mapping[str, Any]) -> Run:
        """Create the run for a thread id unless it exists; return the stored row."""
        upsert(self.session, Run, [run], key=("thread_id",))
        stmt = sa.select(Run).where(Run.thread_id == run["thread_id"])
        return self.session.scalars(stmt).one()

    def get(self, thread_id: str) -> Run | None:
        """Return the run of a thread, if any."""
        return self.session.scalars(sa.select(Run).where(Run.thread_id == thread_id)).one_or_none()

    def id_of(self, thread_id: str) -> int | None:
        """Return the id of a thread's run (None before its run row exists)."""
        return self.session.scalar(sa.select(Run.id).where(Run.thread_id == thread_id))

    def status_of(self, thread_id: str) -> RunStatus | None:
        """Return the status of a thread's run (None before its run row exists)."""
        return self.session.scalar(sa.select(Run.status).where(Run.thread_id == thread_id))

    def portfolio_of(self, run_id: int) -> int | None:
        """Return the id of the portfolio a run trades."""
        return self.session.scalar(sa.select(Run.portfolio_id).where(Run.id == run_id))

    def set_status(self, thread_id: str, status: RunStatus) -> None:
        """Move a thread's run to `status` (nothing happens without a run row)."""
        self.session.execute(sa.update(Run).where(Run.thread_id == thread_id).values(status=status))

    def finish(self, thread_id: str, outcome: RunOutcome) -> None:
        """Close a thread's run with its final status, token use, cost and summary."""
        self.session.execute(
            sa.update(Run)
            .where(Run.thread_id == thread_id)
            .values(
                status=outcome.status,
                finished_at=outcome.finished_at,
                tokens_in=outcome.tokens_in,
                tokens_out=outcome.tokens_out,
                cost_usd=outcome.cost_usd,
                summary=outcome.summary,
            )
        )

    # --- the executor lease: one executor per run, by compare-and-set -------------------------

    def take_executor_lease(
        self, run_id: int, holder: str, *, now: datetime, until: datetime
    ) -> bool:
        """Take the run's executor lease for `holder` until `until`; False if another holds it.

        Free means nobody holds it, or the holder's lease lapsed before `now` (it died), or
        `holder` holds it already. One conditional UPDATE decides, so of two processes asking
        at once exactly one gets it, on PostgreSQL and SQLite alike.
        """
        stmt = (
            sa.update(Run)
            .where(
                Run.id == run_id,
                sa.or_(
                    Run.executor_holder.is_(None),
                    Run.executor_holder == holder,
                    Run.executor_lease_until.is_(None),
                    Run.executor_lease_until < now,
                ),
            )
            .values(executor_holder=holder, executor_lease_until=until)
        )
        return rowcount(self.session.execute(stmt)) == 1

    def renew_executor_lease(self, run_id: int, holder: str, *, until: datetime) -> bool:
        """Extend `holder`'s lease to `until`; False when it is no longer `holder`'s."""
        stmt = (
            sa.update(Run)
            .where(Run.id == run_id, Run.executor_holder == holder)
            .values(executor_lease_until=until)
        )
        return rowcount(self.session.execute(stmt)) == 1

    def release_executor_lease(self, run_id: int, holder: str) -> None:
        """Free the lease if `holder` still holds it (a lease taken over is left alone)."""
        stmt = (
            sa.update(Run)
            .where(Run.id == run_id, Run.executor_holder == holder)
            .values(executor_holder=None, executor_lease_until=None)
        )
        self.session.execute(stmt)

    def executor_lease(self, run_id: int) -> tuple[str | None, datetime | None]:
        """Return (holder, lease end) of the run's executor lease; (None, None) when free."""
        row = self.session.execute(
            sa.select(Run.executor_holder, Run.executor_lease_until).where(Run.id == run_id)
        ).one_or_none()
        if row is None:
            return None, None
        return row[0], row[1]


class SessionClaimRepository:
    """Which thread holds each (portfolio, session date, phase); the first claim stands."""

    def __init__(self, session: Session) -> None:
        """Work inside the caller's session."""
        self.session = session

    def claim(
        self, portfolio_id: int, session_date: date, phase: str, thread_id: str, at: datetime
    ) -> str:
        """Claim a session for `thread_id` unless a thread holds it; return the holder's id.

        The insert does nothing on a conflict, so of two threads racing for one session exactly
        one gets it (PostgreSQL makes the second wait for the first's commit; SQLite has one
        writer at a time).
        """
        upsert(
            self.session,
            SessionClaim,
            [
                {
                    "portfolio_id": portfolio_id,
                    "session_date": session_date,
                    "phase": phase,
                    "thread_id": thread_id,
                    "claimed_at": at,
                }
            ],
            key=("portfolio_id", "session_date", "phase"),
        )
        stmt = sa.select(SessionClaim.thread_id).where(
            SessionClaim.portfolio_id == portfolio_id,
            SessionClaim.session_date == session_date,
            SessionClaim.phase == phase,
        )
        return self.session.scalars(stmt).one()
