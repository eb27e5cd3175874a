"""What a live session writes to our database, each write one transaction through repositories.

`SessionRecords` turns what the nodes report (opinions, proposals, a review, the broker's
account) into rows and hands them to the repositories of `db/`, the only code that touches
rows. Every write is idempotent (the repositories upsert on natural keys), because LangGraph
re-runs a node from its first line when it resumes or retries: writing twice leaves one row.

These methods block on the database; the nodes reach them through
`graphs.recorder.DatabaseRecorder`, which runs each in a worker thread.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from agents.llm import LLMUsage
from agents.recorder import RecordedDecision, ReviewEntry, SessionHolder
from agents.risk.models import ProposedOrder
from agents.schemas import COMBINE_RULES_VERSION, AnalystOpinion, Signal
from agents.venue import VenueIdentity
from core.clock import Clock
from core.orders import OrderStatus
from db.engine import transaction
from db.models import ApprovalDecision, RunStatus
from db.repositories import (
    ApprovalRepository,
    Holding,
    OrderRepository,
    PortfolioRepository,
    PositionRepository,
    RunOutcome,
    RunRepository,
    SessionClaimRepository,
    SignalRepository,
)
from tools.broker import AccountSnapshot

COMBINED_AGENT = "combined"
"""The `agent` of the row holding a ticker's combined signal in the signals table."""


class SessionRecords:
    """The session graph's writes to one database, for one venue, server and account."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        venue: VenueIdentity,
        *,
        starting_cash_krw: int,
        clock: Clock,
    ) -> None:
        """Write through `sessions`; new portfolios start with `starting_cash_krw`."""
        self.sessions = sessions
        self.venue = venue
        self.starting_cash_krw = starting_cash_krw
        self.clock = clock

    def _portfolio(self, session: Session, name: str) -> int:
        book = PortfolioRepository(session).ensure(name, self.venue.name, self.starting_cash_krw)
        return book.id

    def ensure_run(self, *, thread_id: str, portfolio: str, session_date: date, phase: str) -> int:
        """Create (or find) the portfolio and the run of this thread; return the run id."""
        with transaction(self.sessions) as session:
            run = RunRepository(session).ensure(
                {
                    "thread_id": thread_id,
                    "portfolio_id": self._portfolio(session, portfolio),
                    "session_date": session_date,
                    "phase": phase,
                    "venue": self.venue.name,
                    "venue_server": self.venue.server,
                    "account_fingerprint": self.venue.account,
                    "status": RunStatus.RUNNING,
                    "started_at": self.clock.now(),
                }
            )
            return run.id

    def claim_session(
        self, *, thread_id: str, portfolio: str, session_date: date, phase: str
    ) -> SessionHolder | None:
        """Claim (portfolio, session date, phase) for this thread; return the holder if another."""
        with transaction(self.sessions) as session:
            holder = SessionClaimRepository(session).claim(
                self._portfolio(session, portfolio),
                session_date,
                phase,
                thread_id,
                self.clock.now(),
            )
            if holder == thread_id:
                return None
            return SessionHolder(holder, RunRepository(session).status_of(holder))

    def run_id(self, thread_id: str) -> int | None:
        """The id of the thread's run (None before its run row exists)."""
        with self.sessions() as session:
            return RunRepository(session).id_of(thread_id)

    def reconcile_book(self, portfolio: str, cash_krw: int, equity_krw: int) -> int:
        """Store the broker's cash on the portfolio, raise its high-water mark; return the peak."""
        with transaction(self.sessions) as session:
            return PortfolioRepository(session).reconcile(portfolio, cash_krw, equity_krw)

    def mirror_positions(self, portfolio: str, account: AccountSnapshot) -> None:
        """Replace the portfolio's positions rows with the broker's (the broker is the truth)."""
        holdings = [Holding(p.ticker, p.qty, int(p.avg_price * p.qty)) for p in account.positions]
        with transaction(self.sessions) as session:
            book_id = PortfolioRepository(session).id_of(portfolio)
            PositionRepository(session).replace(book_id, holdings)

    def record_signals(
        self,
        run_id: int,
        opinions: Sequence[AnalystOpinion],
        signals: Sequence[Signal],
        prompt_versions: Mapping[str, str],
        rules_versions: Mapping[str, str],
    ) -> None:
        """Write each opinion, and each combined signal under the agent name `combined`."""
        rows = [
            _opinion_row(run_id, o, prompt_versions.get(o.agent), rules_versions.get(o.agent))
            for o in opinions
        ]
        rows += [_signal_row(run_id, s) for s in signals]
        with transaction(self.sessions) as session:
            SignalRepository(session).save(rows)

    def record_proposals(self, run_id: int, orders: Sequence[ProposedOrder]) -> None:
        """Write the proposed orders (status `proposed`) unless they exist."""
        if not orders:
            return
        with transaction(self.sessions) as session:
            repo = OrderRepository(session)
            portfolio_id = RunRepository(session).portfolio_of(run_id)
            for order in orders:
                repo.add_if_absent(
                    {
                        "client_order_id": order.client_order_id,
                        "run_id": run_id,
                        "portfolio_id": portfolio_id,
                        "ticker": order.ticker,
                        "side": order.side,
                        "order_type": order.order_type,
                        "qty": order.qty,
                        "limit_price_krw": order.limit_price_krw,
                        "status": OrderStatus.PROPOSED,
                        "reason": order.reason,
                    }
                )

    def recorded_decisions(self, client_order_ids: Sequence[str]) -> dict[str, RecordedDecision]:
        """Return the approval decisions recorded for these orders."""
        if not client_order_ids:
            return {}
        with transaction(self.sessions) as session:
            return _read_decisions(session, client_order_ids)

    def record_review(
        self,
        run_id: int,
        entries: Sequence[ReviewEntry],
        *,
        decided_by: str,
        decided_at: datetime,
    ) -> dict[str, RecordedDecision]:
        """Store each approval decision and move the orders to approved / rejected / expired.

        The first decision recorded for an order stands: the decisions returned, read back in
        the same committed transaction, are the ones the executor must carry out.
        """
        if not entries:
            return {}
        with transaction(self.sessions) as session:
            ApprovalRepository(session).record(
                [_approval_row(run_id, e, decided_by, decided_at) for e in entries]
            )
            orders = OrderRepository(session)
            for proposed, decision, final, note in entries:
                current = orders.get(proposed.client_order_id)
                if current is None or current.status is not OrderStatus.PROPOSED:
                    continue  # already moved on (a resumed review); never go backwards
                if final is not None:
                    orders.set_status(
                        proposed.client_order_id,
                        OrderStatus.APPROVED,
                        qty=final.qty,
                        limit_price_krw=final.limit_price_krw,
                        order_type=final.order_type,
                    )
                else:
                    status = (
                        OrderStatus.EXPIRED
                        if decision is ApprovalDecision.EXPIRED
                        else OrderStatus.REJECTED
                    )
                    orders.set_status(proposed.client_order_id, status, reason=note or None)
            return _read_decisions(session, [proposed.client_order_id for proposed, *_ in entries])

    def set_run_status(self, thread_id: str, status: RunStatus) -> None:
        """Move the run to `status` (e.g. awaiting approval)."""
        with transaction(self.sessions) as session:
            RunRepository(session).set_status(thread_id, status)

    def finish_run(
        self, thread_id: str, status: RunStatus, usage: LLMUsage, summary: dict[str, Any]
    ) -> None:
        """Close the run row with its status, token use, cost and summary."""
        outcome = RunOutcome(
            status=status,
            finished_at=self.clock.now(),
            tokens_in=usage.input_tokens,
            tokens_out=usage.output_tokens,
            cost_usd=usage.cost_usd,
            summary=summary,
        )
        with transaction(self.sessions) as session:
            RunRepository(session).finish(thread_id, outcome)


def _opinion_row(
    run_id: int, o: AnalystOpinion, prompt_version: str | None, rules_version: str | None
) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "ticker": o.ticker,
        "agent": o.agent,
        "status": o.status,
        "stance": o.stance,
        "conviction": o.conviction,
        "horizon": o.horizon.value if o.horizon else None,
        "rationale": o.rationale,
        "evidence": {k: (str(v) if v is not None else None) for k, v in o.evidence.items()},
        "prompt_version": prompt_version,
        "rules_version": rules_version,
    }


def _signal_row(run_id: int, s: Signal) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "ticker": s.ticker,
        "agent": COMBINED_AGENT,
        "status": s.status,
        "stance": s.stance,
        "conviction": s.conviction,
        "horizon": None,
        "rationale": s.reason,
        "evidence": {"score": str(s.score) if s.score is not None else None},
        "prompt_version": None,
        "rules_version": COMBINE_RULES_VERSION,
    }


def _approval_row(
    run_id: int, entry: ReviewEntry, decided_by: str, decided_at: datetime
) -> dict[str, Any]:
    proposed, decision, final, note = entry
    edited = final if final is not None and decision is ApprovalDecision.EDIT else None
    return {
        "client_order_id": proposed.client_order_id,
        "run_id": run_id,
        "decision": decision,
        "edited_qty": edited.qty if edited else None,
        "edited_price_krw": edited.limit_price_krw if edited else None,
        "decided_by": decided_by,
        "decided_at": decided_at,
        "note": note or None,
    }


def _read_decisions(
    session: Session, client_order_ids: Sequence[str]
) -> dict[str, RecordedDecision]:
    approvals = ApprovalRepository(session).for_orders(client_order_ids)
    orders = OrderRepository(session)
    out: dict[str, RecordedDecision] = {}
    for cid, approval in approvals.items():
        row = orders.get(cid)
        if row is None:
            continue
        out[cid] = RecordedDecision(
            decision=approval.decision,
            decided_by=approval.decided_by,
            decided_at=approval.decided_at,
            qty=row.qty,
            limit_price_krw=row.limit_price_krw,
            order_type=row.order_type,
            status=row.status,
        )
    return out
