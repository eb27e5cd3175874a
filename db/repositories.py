"""Repositories: the only code that writes rows, with idempotent writes keyed on natural keys.

Writing the same market bar, signal or order twice leaves one row. Upserts use the dialect's
`INSERT ... ON CONFLICT`, which SQLite and PostgreSQL both support, so the guarantee holds under
concurrency too (two writers racing on one key cannot both insert).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from core.orders import OrderStatus
from db.models import (
    Approval,
    Base,
    EconEvent,
    Fill,
    MarketBar,
    Order,
    Portfolio,
    Run,
    SessionClaim,
    Signal,
)


def upsert(
    session: Session,
    model: type[Base],
    rows: Sequence[Mapping[str, Any]],
    *,
    key: Sequence[str],
    update: Iterable[str] = (),
) -> None:
    """Insert rows; on a conflict on `key`, update the `update` columns (or do nothing).

    Args:
        session: an open session (the caller owns the transaction).
        model: the mapped class.
        rows: column-name -> value mappings; all rows must have the same keys.
        key: the columns of the unique constraint that identifies a row.
        update: the columns to overwrite when the row exists; empty means keep the first write.
    """
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    table = model.__table__
    insert_fn: Any = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert_fn(table).values(list(rows))
    columns = list(update)
    if columns:
        stmt = stmt.on_conflict_do_update(
            index_elements=list(key), set_={c: stmt.excluded[c] for c in columns}
        )
    else:
        stmt = stmt.on_conflict_do_nothing(index_elements=list(key))
    session.execute(stmt)


def _rowcount(result: Any) -> int:
    """The number of rows an UPDATE matched (a `CursorResult` has it; the type says Result)."""
    return int(getattr(result, "rowcount", 0))


class MarketDataRepository:
    """Bars, unique per (ticker, interval, bar_time); a rewrite corrects the values."""

    def __init__(self, session: Session) -> None:
        """Work inside the caller's session."""
        self.session = session

    def save_bars(self, bars: Sequence[Mapping[str, Any]]) -> None:
        """Write bars; an existing bar is overwritten with the new values."""
        upsert(
            self.session,
            MarketBar,
            bars,
            key=("ticker", "interval", "bar_time"),
            update=("open_krw", "high_krw", "low_krw", "close_krw", "volume", "source"),
        )

    def bars(self, ticker: str, interval: str = "1d") -> list[MarketBar]:
        """Return a ticker's bars, oldest first."""
        stmt = (
            sa.select(MarketBar)
            .where(MarketBar.ticker == ticker, MarketBar.interval == interval)
            .order_by(MarketBar.bar_time)
        )
        return list(self.session.scalars(stmt))


class SignalRepository:
    """Signals, unique per (run, ticker, agent); a rewrite replaces the opinion."""

    def __init__(self, session: Session) -> None:
        """Work inside the caller's session."""
        self.session = session

    def save(self, signals: Sequence[Mapping[str, Any]]) -> None:
        """Write signals; the latest write of a (run, ticker, agent) wins."""
        upsert(
            self.session,
            Signal,
            signals,
            key=("run_id", "ticker", "agent"),
            update=(
                "status",
                "stance",
                "conviction",
                "horizon",
                "rationale",
                "evidence",
                "prompt_version",
            ),
        )

    def for_run(self, run_id: int) -> list[Signal]:
        """Return a run's signals ordered by ticker and agent."""
        stmt = (
            sa.select(Signal).where(Signal.run_id == run_id).order_by(Signal.ticker, Signal.agent)
        )
        return list(self.session.scalars(stmt))


class OrderRepository:
    """Orders keyed by `client_order_id`: inserting a known id never creates a second row."""

    def __init__(self, session: Session) -> None:
        """Work inside the caller's session."""
        self.session = session

    def add_if_absent(self, order: Mapping[str, Any]) -> Order:
        """Insert an order unless its `client_order_id` exists; return the stored row.

        The stored row is returned unchanged when it exists: the first write of an order
        defines it, later attempts (a re-run node, a resumed process) must not alter it.
        """
        upsert(self.session, Order, [order], key=("client_order_id",))
        stored = self.get(str(order["client_order_id"]))
        if stored is None:  # pragma: no cover - the upsert above guarantees a row
            raise RuntimeError("order vanished after upsert")
        return stored

    def get(self, client_order_id: str) -> Order | None:
        """Return the order with this client order id, if any."""
        stmt = sa.select(Order).where(Order.client_order_id == client_order_id)
        return self.session.scalars(stmt).one_or_none()

    def set_status(self, client_order_id: str, status: OrderStatus, **fields: Any) -> None:
        """Move an order to `status`, setting any other columns given."""
        stmt = (
            sa.update(Order)
            .where(Order.client_order_id == client_order_id)
            .values(status=status, **fields)
        )
        self.session.execute(stmt)

    def transition(
        self,
        client_order_id: str,
        from_statuses: Iterable[OrderStatus],
        status: OrderStatus,
        **fields: Any,
    ) -> bool:
        """Move an order to `status` only if it is in one of `from_statuses` (compare-and-set).

        One UPDATE with the expected statuses in its WHERE clause: of two writers racing on one
        row, only the first matches (PostgreSQL re-checks the WHERE clause once the first
        writer's row lock is released; SQLite runs one writer at a time). Returns whether the
        row moved.
        """
        stmt = (
            sa.update(Order)
            .where(
                Order.client_order_id == client_order_id,
                Order.status.in_(list(from_statuses)),
            )
            .values(status=status, **fields)
        )
        return _rowcount(self.session.execute(stmt)) == 1

    def claim_for_submission(self, client_order_id: str, now: datetime) -> bool:
        """Move an `approved` order to `submitting` (and stamp `submitted_at`); False otherwise.

        The executor calls `place` only for an order it claimed here, so an order is handed to
        the broker at most once, whatever number of executors run.
        """
        return self.transition(
            client_order_id, (OrderStatus.APPROVED,), OrderStatus.SUBMITTING, submitted_at=now
        )

    def for_run(self, run_id: int) -> list[Order]:
        """Return a run's orders in creation order."""
        stmt = sa.select(Order).where(Order.run_id == run_id).order_by(Order.id)
        return list(self.session.scalars(stmt))


class FillRepository:
    """Fills keyed by `fill_key`; a fill reported twice is stored once."""

    def __init__(self, session: Session) -> None:
        """Work inside the caller's session."""
        self.session = session

    def add(self, fills: Sequence[Mapping[str, Any]]) -> None:
        """Insert fills, ignoring ones already stored."""
        upsert(self.session, Fill, fills, key=("fill_key",))


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
        return _rowcount(self.session.execute(stmt)) == 1

    def renew_executor_lease(self, run_id: int, holder: str, *, until: datetime) -> bool:
        """Extend `holder`'s lease to `until`; False when it is no longer `holder`'s."""
        stmt = (
            sa.update(Run)
            .where(Run.id == run_id, Run.executor_holder == holder)
            .values(executor_lease_until=until)
        )
        return _rowcount(self.session.execute(stmt)) == 1

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


class PortfolioRepository:
    """Portfolios by name."""

    def __init__(self, session: Session) -> None:
        """Work inside the caller's session."""
        self.session = session

    def ensure(self, name: str, trading_mode: str, starting_cash_krw: int) -> Portfolio:
        """Create the named portfolio with its starting cash unless it exists."""
        upsert(
            self.session,
            Portfolio,
            [
                {
                    "name": name,
                    "trading_mode": trading_mode,
                    "cash_krw": starting_cash_krw,
                    "starting_cash_krw": starting_cash_krw,
                    "peak_equity_krw": starting_cash_krw,
                }
            ],
            key=("name",),
        )
        return self.session.scalars(sa.select(Portfolio).where(Portfolio.name == name)).one()


class ApprovalRepository:
    """Approval decisions, one per order; a second decision on an order is ignored."""

    def __init__(self, session: Session) -> None:
        """Work inside the caller's session."""
        self.session = session

    def record(self, decisions: Sequence[Mapping[str, Any]]) -> None:
        """Store decisions; the first decision recorded for an order stands."""
        upsert(self.session, Approval, decisions, key=("client_order_id",))

    def for_orders(self, client_order_ids: Sequence[str]) -> dict[str, Approval]:
        """Return the recorded decision of each of these orders that has one."""
        if not client_order_ids:
            return {}
        stmt = sa.select(Approval).where(Approval.client_order_id.in_(list(client_order_ids)))
        return {a.client_order_id: a for a in self.session.scalars(stmt)}


class EconEventRepository:
    """Economic events keyed by (source, event_key, scheduled_for)."""

    def __init__(self, session: Session) -> None:
        """Work inside the caller's session."""
        self.session = session

    def save(self, events: Sequence[Mapping[str, Any]]) -> None:
        """Write events; a rewrite updates value and publication time."""
        upsert(
            self.session,
            EconEvent,
            events,
            key=("source", "event_key", "scheduled_for"),
            update=("name", "value", "unit", "published_at"),
        )
