"""The executor's transactions on the orders and fills tables, one transaction per call.

Each call opens a transaction, runs the repositories' statements (`db.repositories` stay the
only writers), commits, and returns the row as it is after the write, so the caller never holds
a session across a broker call. Synchronous (the database driver is); the executor calls these
through `asyncio.to_thread`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from core.orders import OrderStatus
from db.engine import transaction
from db.models import Order
from db.repositories import FillRepository, OrderRepository


class OrderBooks:
    """Order rows keyed by `client_order_id`, and their fills."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        """Work on the database behind `sessions`."""
        self.sessions = sessions

    def get(self, client_order_id: str) -> Order | None:
        """Return the row of an order, if any."""
        with transaction(self.sessions) as session:
            return OrderRepository(session).get(client_order_id)

    def set(self, client_order_id: str, status: OrderStatus, **fields: Any) -> Order:
        """Move a row to `status` unconditionally (the caller holds the run's lease)."""
        with transaction(self.sessions) as session:
            repo = OrderRepository(session)
            repo.set_status(client_order_id, status, **fields)
            return _must(repo.get(client_order_id), client_order_id)

    def move(
        self,
        client_order_id: str,
        from_statuses: frozenset[OrderStatus],
        status: OrderStatus,
        **fields: Any,
    ) -> tuple[bool, Order]:
        """Move a row to `status` only from `from_statuses`; return (moved, the row now)."""
        with transaction(self.sessions) as session:
            repo = OrderRepository(session)
            moved = repo.transition(client_order_id, from_statuses, status, **fields)
            return moved, _must(repo.get(client_order_id), client_order_id)

    def claim(self, client_order_id: str, now: datetime) -> tuple[bool, Order]:
        """Move an `approved` row to `submitting`; return (claimed, the row now)."""
        with transaction(self.sessions) as session:
            repo = OrderRepository(session)
            claimed = repo.claim_for_submission(client_order_id, now)
            return claimed, _must(repo.get(client_order_id), client_order_id)

    def record_fill(
        self,
        client_order_id: str,
        status: OrderStatus,
        *,
        filled_qty: int,
        filled_value_krw: int,
        fill: Mapping[str, Any] | None = None,
    ) -> Order:
        """Store a fill increment (if any) and the order's new totals in one transaction.

        A fill is keyed by its `fill_key`, so booking the same increment twice stores it once.
        """
        with transaction(self.sessions) as session:
            if fill is not None:
                FillRepository(session).add([fill])
            repo = OrderRepository(session)
            repo.set_status(
                client_order_id, status, filled_qty=filled_qty, filled_value_krw=filled_value_krw
            )
            return _must(repo.get(client_order_id), client_order_id)


def _must(row: Order | None, client_order_id: str) -> Order:
    """Return `row`, which this transaction just wrote or read; only a bug makes it None."""
    if row is None:
        raise RuntimeError(f"order {client_order_id} vanished from the orders table")
    return row
