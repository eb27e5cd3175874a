"""What the database says about a scheduled run: did it already start?

A run of (portfolio, date, phase) that has a session claim or a run row has started (and may
have finished, failed, or be waiting for approval). The scheduler never starts it again: a
restart, a second scheduler, or a person who ran the session by hand all leave that record.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from db.engine import create_db_engine
from db.models import Portfolio, Run, SessionClaim


@dataclass(frozen=True)
class Started:
    """The record of a session that started: its thread, and its run's status if recorded."""

    thread_id: str
    status: str | None


def started(database_url: str, portfolio: str, day: date, phase: str) -> Started | None:
    """The session of (portfolio, day, phase) if one was claimed or recorded; else None."""
    engine = create_db_engine(database_url)
    try:
        with engine.connect() as conn:
            claim = conn.execute(
                sa.select(SessionClaim.thread_id)
                .join(Portfolio, Portfolio.id == SessionClaim.portfolio_id)
                .where(
                    Portfolio.name == portfolio,
                    SessionClaim.session_date == day,
                    SessionClaim.phase == phase,
                )
            ).first()
            run = conn.execute(
                sa.select(Run.thread_id, Run.status)
                .join(Portfolio, Portfolio.id == Run.portfolio_id)
                .where(Portfolio.name == portfolio, Run.session_date == day, Run.phase == phase)
                .order_by(Run.id)
            ).first()
    finally:
        engine.dispose()
    if claim is None and run is None:
        return None
    thread_id = claim.thread_id if claim is not None else run.thread_id  # type: ignore[union-attr]
    status = None
    if run is not None:
        status = getattr(run.status, "value", str(run.status))
    return Started(thread_id=thread_id, status=status)
