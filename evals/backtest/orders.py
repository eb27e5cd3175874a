"""What a strategy receives and returns each day: the portfolio snapshot and order intents.

This is the seam the session graph plugs into: the backtester calls `Strategy.decide` once per
trading day after the close with a `PointInTimeView` (bars up to that day only) and a
`PortfolioSnapshot`; the returned intents are sent to the simulated broker and fill at the next
trading day's open. A graph adapter only has to map its risk-gated orders to `OrderIntent`s.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Protocol

from core.orders import Side
from evals.backtest.view import PointInTimeView


@dataclass(frozen=True, slots=True)
class OrderIntent:
    """An order for the next open.

    Attributes:
        ticker: the instrument.
        side: buy or sell.
        qty: whole shares. `None` means: for a buy, as many shares as `cash_fraction` of the
            cash available at the fill buys (price and costs included); for a sell, the whole
            position.
        cash_fraction: share of available cash a sized buy may spend, in (0, 1].
        limit_price: a KRW limit (must sit on the tick grid in KRX mode); `None` is a market
            order filled at the open.
        reason: free text kept in the decision log (why the strategy wants this).
    """

    ticker: str
    side: Side
    qty: int | None = None
    cash_fraction: Decimal = Decimal(1)
    limit_price: int | None = None
    reason: str = ""

    def __post_init__(self) -> None:
        if self.qty is not None and self.qty <= 0:
            raise ValueError(f"order qty must be positive, got {self.qty}")
        if not Decimal(0) < self.cash_fraction <= Decimal(1):
            raise ValueError(f"cash_fraction must be in (0, 1], got {self.cash_fraction}")


@dataclass(frozen=True, slots=True)
class PortfolioSnapshot:
    """The book after day t's close, as the strategy sees it (a copy; editing it changes nothing).

    Attributes:
        day: the day the snapshot describes.
        cash: cash in KRW (fractional only in parity cost mode).
        positions: shares held per ticker (held tickers only).
        equity: cash plus positions marked at their latest close.
        cost_basis: per held ticker, what its open lots cost in total (commission included),
            KRW; stop-loss and take-profit rules read it.
        peak_equity: the highest equity marked so far in the run (drawdown rules read it).
    """

    day: date
    cash: Decimal
    positions: Mapping[str, int] = field(default_factory=dict)
    equity: float = 0.0
    cost_basis: Mapping[str, Decimal] = field(default_factory=dict)
    peak_equity: float = 0.0

    def qty(self, ticker: str) -> int:
        """Return the shares held of `ticker` (0 when flat)."""
        return self.positions.get(ticker, 0)


class Strategy(Protocol):
    """A decision rule the backtester replays; the session graph will be one."""

    name: str

    def params(self) -> Mapping[str, Any]:
        """Return the parameters to record with a run (JSON-serialisable)."""
        ...

    def decide(self, view: PointInTimeView, portfolio: PortfolioSnapshot) -> Sequence[OrderIntent]:
        """Return the orders to place for the next open, given what is known after today."""
        ...
