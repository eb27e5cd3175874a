"""Repositories: the only code that writes rows, with idempotent writes keyed on natural keys.

Writing the same market bar, signal or order twice leaves one row. Upserts use the dialect's
`INSERT ... ON CONFLICT` (`db.upsert`), which SQLite and PostgreSQL both support, so the
guarantee holds under concurrency too (two writers racing on one key cannot both insert).

This module holds the market data, signals, orders, fills, approvals and economic events; the
runs and session claims live in `db.runs`, portfolios and positions in `db.portfolios`. All of
them are importable from here, the one place callers look for a writer.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from core.orders import OrderStatus
from db.fundamentals import FundamentalsRepository
from db.instruments import InstrumentRepository
from db.models import Approval, EconEvent, Fill, MarketBar, Order, Signal
from db.portfolios import Holding, PortfolioRepository, PositionRepository
from db.runs import RunOutcome, RunRepository, SessionClaimRepository
from db.upsert import rowcount, upsert

__all__ = [
    "ApprovalRepository",
    "EconEventRepository",
    "FillRepository",
    "FundamentalsRepository",
    "Holding",
    "InstrumentRepository",
    "MarketDataRepository",
    "OrderRepository",
    "PortfolioRepository",
    "PositionRepository",
    "RunOutcome",
    "RunRepository",
    "SessionClaimRepository",
    "SignalRepository",
    "upsert",
]


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
            update=(
                "open_krw",
                "high_krw",
                "low_krw",
                "close_krw",
                "volume",
                "source",
                "adjustment",
                "fetched_at",
            ),
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
                "rules_version",
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
        return rowcount(self.session.execute(stmt)) == 1

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
            update=("name", "value", "unit", "published_at", "period", "fetched_at"),
        )
