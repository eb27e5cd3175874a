"""What the session graph writes to our database: the run, signals, orders, approvals, fills.

Every write is idempotent (repositories upsert on natural keys), because LangGraph re-runs a
node from its first line when it resumes or retries: writing twice must leave one row.
Nothing is written when the context says `persist=False` (backtests).

The nodes are async and the database driver is not: each public function here runs its
transaction in a worker thread (`asyncio.to_thread`), so the event loop stays free. That
matters beyond speed: the SQLite checkpointer (aiosqlite) finishes its own transactions on the
loop, and a loop blocked on our write would wait for its lock forever.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Session

from agents.context import SessionContext
from agents.llm import LLMUsage
from agents.risk.models import ProposedOrder
from agents.schemas import AnalystOpinion, Signal
from core.orders import OrderStatus, OrderType
from db.engine import transaction
from db.models import ApprovalDecision, Portfolio, Position, Run, RunStatus
from db.repositories import (
    ApprovalRepository,
    OrderRepository,
    PortfolioRepository,
    RunRepository,
    SessionClaimRepository,
    SignalRepository,
)
from tools.broker import AccountSnapshot

_T = TypeVar("_T")

COMBINED_AGENT = "combined"
"""The `agent` of the row holding a ticker's combined signal in the signals table."""


def _ensure_run(
    ctx: SessionContext, *, thread_id: str, portfolio: str, session_date: date, phase: str
) -> int:
    """Create (or find) the portfolio and the run of this thread; return the run id."""
    if not ctx.persist:
        return 0
    with transaction(ctx.sessions) as session:
        book = PortfolioRepository(session).ensure(
            portfolio, ctx.venue, ctx.settings.starting_cash_krw
        )
        run = RunRepository(session).ensure(
            {
                "thread_id": thread_id,
                "portfolio_id": book.id,
                "session_date": session_date,
                "phase": phase,
                "venue": ctx.venue,
                "venue_server": ctx.venue_server,
                "account_fingerprint": ctx.account_fingerprint,
                "status": RunStatus.RUNNING,
                "started_at": ctx.clock.now(),
            }
        )
        return run.id


@dataclass(frozen=True)
class SessionHolder:
    """Another thread that holds the session a thread was started for."""

    thread_id: str
    status: RunStatus | None
    """Its run's status (None before its run row exists)."""


def _claim_session(
    ctx: SessionContext, *, thread_id: str, portfolio: str, session_date: date, phase: str
) -> SessionHolder | None:
    """Claim (portfolio, session date, phase) for this thread; return the holder if another.

    One session, one thread: a second thread of the same session (Studio gives every thread a
    random id) must never propose and execute a second set of orders.
    """
    if not ctx.persist:
        return None
    with transaction(ctx.sessions) as session:
        book = PortfolioRepository(session).ensure(
            portfolio, ctx.venue, ctx.settings.starting_cash_krw
        )
        holder = SessionClaimRepository(session).claim(
            book.id, session_date, phase, thread_id, ctx.clock.now()
        )
        if holder == thread_id:
            return None
        status = session.scalar(sa.select(Run.status).where(Run.thread_id == holder))
        return SessionHolder(thread_id=holder, status=status)


def _reconcile_book(ctx: SessionContext, portfolio: str, cash_krw: int, equity_krw: int) -> int:
    """Store the broker's cash on the portfolio, raise its high-water mark; return the peak.

    The broker is the source of truth for cash and positions; the portfolio row keeps the last
    reconciled cash and the peak equity the drawdown halt is measured from.
    """
    if not ctx.persist:
        return equity_krw
    with transaction(ctx.sessions) as session:
        row = session.scalars(sa.select(Portfolio).where(Portfolio.name == portfolio)).one()
        row.cash_krw = cash_krw
        row.peak_equity_krw = max(row.peak_equity_krw, equity_krw)
        return row.peak_equity_krw


def _record_signals(
    ctx: SessionContext,
    run_id: int,
    opinions: Sequence[AnalystOpinion],
    signals: Sequence[Signal],
    prompt_versions: dict[str, str],
) -> None:
    """Write each opinion, and each combined signal under the agent name `combined`."""
    if not ctx.persist:
        return
    rows: list[dict[str, Any]] = [
        {
            "run_id": run_id,
            "ticker": o.ticker,
            "agent": o.agent,
            "status": o.status,
            "stance": o.stance,
            "conviction": o.conviction,
            "horizon": o.horizon.value if o.horizon else None,
            "rationale": o.rationale,
            "evidence": {k: (str(v) if v is not None else None) for k, v in o.evidence.items()},
            "prompt_version": prompt_versions.get(o.agent),
        }
        for o in opinions
    ]
    rows += [
        {
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
        }
        for s in signals
    ]
    with transaction(ctx.sessions) as session:
        SignalRepository(session).save(rows)


def _record_proposals(ctx: SessionContext, run_id: int, orders: Sequence[ProposedOrder]) -> None:
    """Write the proposed orders (status `proposed`) unless they exist."""
    if not ctx.persist or not orders:
        return
    with transaction(ctx.sessions) as session:
        repo = OrderRepository(session)
        portfolio_id = session.scalar(sa.select(Run.portfolio_id).where(Run.id == run_id))
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


@dataclass(frozen=True)
class RecordedDecision:
    """An approval decision as the database holds it, with the order as it was approved."""

    decision: ApprovalDecision
    decided_by: str
    decided_at: datetime
    qty: int
    """The order's quantity (the edited one after an edit)."""
    limit_price_krw: int | None
    order_type: OrderType
    status: OrderStatus
    """The order's status now (an edit the risk rules denied left it `rejected`)."""

    @property
    def approved(self) -> bool:
        """True when the order went ahead: approved (or edited) and not rejected or expired."""
        return self.decision in (
            ApprovalDecision.APPROVE,
            ApprovalDecision.EDIT,
        ) and self.status not in (OrderStatus.PROPOSED, OrderStatus.REJECTED, OrderStatus.EXPIRED)


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


def _recorded_decisions(
    ctx: SessionContext, client_order_ids: Sequence[str]
) -> dict[str, RecordedDecision]:
    """Return the approval decisions recorded for these orders (none without persistence)."""
    if not ctx.persist or not client_order_ids:
        return {}
    with transaction(ctx.sessions) as session:
        return _read_decisions(session, client_order_ids)


def _record_review(
    ctx: SessionContext,
    run_id: int,
    lines: Sequence[tuple[ProposedOrder, ApprovalDecision, ProposedOrder | None, str]],
    decided_by: str,
    decided_at: datetime,
) -> dict[str, RecordedDecision]:
    """Store each approval decision and move the orders to approved / rejected / expired.

    Each line is (order as proposed, decision, order as approved or None, note). The first
    decision recorded for an order stands: the decisions returned, read back in the same
    committed transaction, are the ones the executor must carry out, which differ from `lines`
    when an earlier answer was recorded (a re-run after a crash that lost the checkpoints).
    """
    if not ctx.persist or not lines:
        return {}
    with transaction(ctx.sessions) as session:
        ApprovalRepository(session).record(
            [
                {
                    "client_order_id": proposed.client_order_id,
                    "run_id": run_id,
                    "decision": decision,
                    "edited_qty": final.qty
                    if final and decision is ApprovalDecision.EDIT
                    else None,
                    "edited_price_krw": (
                        final.limit_price_krw
                        if final and decision is ApprovalDecision.EDIT
                        else None
                    ),
                    "decided_by": decided_by,
                    "decided_at": decided_at,
                    "note": note or None,
                }
                for proposed, decision, final, note in lines
            ]
        )
        orders = OrderRepository(session)
        for proposed, decision, final, note in lines:
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
        return _read_decisions(session, [proposed.client_order_id for proposed, *_ in lines])


def _finish_run(
    ctx: SessionContext, thread_id: str, status: RunStatus, usage: LLMUsage, summary: dict[str, Any]
) -> None:
    """Close the run row with its status, token use, cost and summary."""
    if not ctx.persist:
        return
    with transaction(ctx.sessions) as session:
        run = RunRepository(session).get(thread_id)
        if run is None:
            return
        run.status = status
        run.finished_at = ctx.clock.now()
        run.tokens_in = usage.input_tokens
        run.tokens_out = usage.output_tokens
        run.cost_usd = usage.cost_usd
        run.summary = summary


def _set_run_status(ctx: SessionContext, thread_id: str, status: RunStatus) -> None:
    """Move the run to `status` (e.g. awaiting approval)."""
    if not ctx.persist:
        return
    with transaction(ctx.sessions) as session:
        run = RunRepository(session).get(thread_id)
        if run is not None:
            run.status = status


def _mirror_positions(ctx: SessionContext, portfolio: str, account: AccountSnapshot) -> None:
    """Replace the portfolio's positions rows with the broker's (the broker is the truth)."""
    if not ctx.persist:
        return
    with transaction(ctx.sessions) as session:
        book_id = session.scalars(sa.select(Portfolio.id).where(Portfolio.name == portfolio)).one()
        session.execute(sa.delete(Position).where(Position.portfolio_id == book_id))
        session.add_all(
            Position(
                portfolio_id=book_id,
                ticker=p.ticker,
                qty=p.qty,
                cost_basis_krw=int(p.avg_price * p.qty),
            )
            for p in account.positions
            if p.qty > 0
        )


async def _off_loop(ctx: SessionContext, fn: Callable[..., _T], *args: Any, **kwargs: Any) -> _T:
    """Run a database write in a worker thread; without persistence, in place (a no-op).

    A backtest replays thousands of sessions with `persist=False`: a thread hop per write would
    cost more than the write, which returns at once.
    """
    if not ctx.persist:
        return fn(ctx, *args, **kwargs)
    return await asyncio.to_thread(fn, ctx, *args, **kwargs)


async def ensure_run(ctx: SessionContext, **kwargs: Any) -> int:
    """See `_ensure_run` (runs in a worker thread)."""
    return await _off_loop(ctx, _ensure_run, **kwargs)


async def claim_session(ctx: SessionContext, **kwargs: Any) -> SessionHolder | None:
    """See `_claim_session` (runs in a worker thread)."""
    return await _off_loop(ctx, _claim_session, **kwargs)


async def recorded_decisions(
    ctx: SessionContext, client_order_ids: Sequence[str]
) -> dict[str, RecordedDecision]:
    """See `_recorded_decisions` (runs in a worker thread)."""
    return await _off_loop(ctx, _recorded_decisions, client_order_ids)


async def reconcile_book(
    ctx: SessionContext, portfolio: str, cash_krw: int, equity_krw: int
) -> int:
    """See `_reconcile_book` (runs in a worker thread)."""
    return await _off_loop(ctx, _reconcile_book, portfolio, cash_krw, equity_krw)


async def mirror_positions(ctx: SessionContext, portfolio: str, account: AccountSnapshot) -> None:
    """See `_mirror_positions` (runs in a worker thread)."""
    await _off_loop(ctx, _mirror_positions, portfolio, account)


async def record_signals(ctx: SessionContext, *args: Any) -> None:
    """See `_record_signals` (runs in a worker thread)."""
    await _off_loop(ctx, _record_signals, *args)


async def record_proposals(ctx: SessionContext, *args: Any) -> None:
    """See `_record_proposals` (runs in a worker thread)."""
    await _off_loop(ctx, _record_proposals, *args)


async def record_review(
    ctx: SessionContext, *args: Any, **kwargs: Any
) -> dict[str, RecordedDecision]:
    """See `_record_review` (runs in a worker thread)."""
    return await _off_loop(ctx, _record_review, *args, **kwargs)


async def finish_run(ctx: SessionContext, *args: Any) -> None:
    """See `_finish_run` (runs in a worker thread)."""
    await _off_loop(ctx, _finish_run, *args)


async def set_run_status(ctx: SessionContext, thread_id: str, status: RunStatus) -> None:
    """See `_set_run_status` (runs in a worker thread)."""
    await _off_loop(ctx, _set_run_status, thread_id, status)
