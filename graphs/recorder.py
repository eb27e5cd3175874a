"""The recorder of live sessions: our database, written through repositories off the event loop.

The nodes are async and the database driver is not: each call here runs its transaction
(`graphs.records.SessionRecords`) in a worker thread (`asyncio.to_thread`), so the event loop
stays free. That matters beyond speed: the SQLite checkpointer (aiosqlite) finishes its own
transactions on the loop, and a loop blocked on our write would wait for its lock forever.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from agents.llm import LLMUsage
from agents.recorder import RecordedDecision, ReviewEntry, SessionHolder
from agents.risk.models import ProposedOrder
from agents.schemas import AnalystOpinion, Signal
from agents.venue import VenueIdentity
from core.clock import Clock
from db.models import RunStatus
from graphs.records import SessionRecords
from tools.broker import AccountSnapshot


class DatabaseRecorder:
    """`agents.recorder.Recorder` over our database (see `SessionRecords` for each write)."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        venue: VenueIdentity,
        *,
        starting_cash_krw: int,
        clock: Clock,
    ) -> None:
        """Record the sessions of `venue` in `sessions`; new books start with the given cash."""
        self.records = SessionRecords(
            sessions, venue, starting_cash_krw=starting_cash_krw, clock=clock
        )

    async def claim_session(
        self, *, thread_id: str, portfolio: str, session_date: date, phase: str
    ) -> SessionHolder | None:
        """See `SessionRecords.claim_session`."""
        return await asyncio.to_thread(
            self.records.claim_session,
            thread_id=thread_id,
            portfolio=portfolio,
            session_date=session_date,
            phase=phase,
        )

    async def ensure_run(
        self, *, thread_id: str, portfolio: str, session_date: date, phase: str
    ) -> int:
        """See `SessionRecords.ensure_run`."""
        return await asyncio.to_thread(
            self.records.ensure_run,
            thread_id=thread_id,
            portfolio=portfolio,
            session_date=session_date,
            phase=phase,
        )

    async def run_id(self, thread_id: str) -> int | None:
        """See `SessionRecords.run_id`."""
        return await asyncio.to_thread(self.records.run_id, thread_id)

    async def reconcile_book(self, portfolio: str, cash_krw: int, equity_krw: int) -> int:
        """See `SessionRecords.reconcile_book`."""
        return await asyncio.to_thread(self.records.reconcile_book, portfolio, cash_krw, equity_krw)

    async def mirror_positions(self, portfolio: str, account: AccountSnapshot) -> None:
        """See `SessionRecords.mirror_positions`."""
        await asyncio.to_thread(self.records.mirror_positions, portfolio, account)

    async def record_signals(
        self,
        run_id: int,
        opinions: Sequence[AnalystOpinion],
        signals: Sequence[Signal],
        prompt_versions: Mapping[str, str],
        rules_versions: Mapping[str, str],
    ) -> None:
        """See `SessionRecords.record_signals`."""
        await asyncio.to_thread(
            self.records.record_signals,
            run_id,
            opinions,
            signals,
            prompt_versions,
            rules_versions,
        )

    async def record_proposals(self, run_id: int, orders: Sequence[ProposedOrder]) -> None:
        """See `SessionRecords.record_proposals`."""
        if orders:
            await asyncio.to_thread(self.records.record_proposals, run_id, orders)

    async def recorded_decisions(
        self, client_order_ids: Sequence[str]
    ) -> dict[str, RecordedDecision]:
        """See `SessionRecords.recorded_decisions`."""
        if not client_order_ids:
            return {}
        return await asyncio.to_thread(self.records.recorded_decisions, client_order_ids)

    async def record_review(
        self,
        run_id: int,
        entries: Sequence[ReviewEntry],
        *,
        decided_by: str,
        decided_at: datetime,
    ) -> dict[str, RecordedDecision]:
        """See `SessionRecords.record_review`."""
        return await asyncio.to_thread(
            self.records.record_review,
            run_id,
            entries,
            decided_by=decided_by,
            decided_at=decided_at,
        )

    async def set_run_status(self, thread_id: str, status: RunStatus) -> None:
        """See `SessionRecords.set_run_status`."""
        await asyncio.to_thread(self.records.set_run_status, thread_id, status)

    async def finish_run(
        self, thread_id: str, status: RunStatus, usage: LLMUsage, summary: dict[str, Any]
    ) -> None:
        """See `SessionRecords.finish_run`."""
        await asyncio.to_thread(self.records.finish_run, thread_id, status, usage, summary)
