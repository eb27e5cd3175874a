"""Portfolios and their positions: the book our database keeps beside the broker's.

The broker is the source of truth for cash and positions. A portfolio row keeps the last
reconciled cash and the peak equity the drawdown halt is measured from; its positions rows
mirror the broker's after each session.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from db.models import Portfolio, Position
from db.upsert import upsert


@dataclass(frozen=True)
class Holding:
    """One position as the broker reports it: what `PositionRepository.replace` stores."""

    ticker: str
    qty: int
    cost_basis_krw: int


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

    def id_of(self, name: str) -> int:
        """Return the id of the named portfolio (it must exist)."""
        return self.session.scalars(sa.select(Portfolio.id).where(Portfolio.name == name)).one()

    def reconcile(self, name: str, cash_krw: int, equity_krw: int) -> int:
        """Store the broker's cash, raise the high-water mark to `equity_krw`; return the peak."""
        row = self.session.scalars(sa.select(Portfolio).where(Portfolio.name == name)).one()
        row.cash_krw = cash_krw
        row.peak_equity_krw = max(row.peak_equity_krw, equity_krw)
        return row.peak_equity_krw


class PositionRepository:
    """A portfolio's positions rows, replaced as a whole by the broker's."""

    def __init__(self, session: Session) -> None:
        """Work inside the caller's session."""
        self.session = session

    def replace(self, portfolio_id: int, holdings: Sequence[Holding]) -> None:
        """Make the portfolio's positions exactly `holdings` (empty ones are not stored)."""
        self.session.execute(sa.delete(Position).where(Position.portfolio_id == portfolio_id))
        self.session.add_all(
            Position(
                portfolio_id=portfolio_id,
                ticker=h.ticker,
                qty=h.qty,
                cost_basis_krw=h.cost_basis_krw,
            )
            for h in holdings
            if h.qty > 0
        )
