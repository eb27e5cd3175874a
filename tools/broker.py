"""The broker protocol: what the executor needs from any broker, KIS or paper.

Small on purpose: read the account, place an order, cancel it, list a day's executions. Every
order carries a `client_order_id` chosen by the caller (deterministic per session and intent);
a broker must make `place` safe to call again with the same id after a crash or a lost answer:
it either returns the order it already holds or places it once.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field, model_validator

from core.errors import RejectedError
from core.orders import OrderType, PlacementStatus, Side


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class OrderRequest(_Model):
    """An order to place; `client_order_id` is the caller's idempotency key."""

    client_order_id: str = Field(min_length=1, max_length=64)
    ticker: str = Field(min_length=6, max_length=7)
    side: Side
    qty: int = Field(gt=0)
    order_type: OrderType = OrderType.LIMIT
    limit_price: int | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _price_matches_type(self) -> OrderRequest:
        if self.order_type is OrderType.LIMIT and self.limit_price is None:
            raise ValueError("a limit order needs limit_price")
        if self.order_type is OrderType.MARKET and self.limit_price is not None:
            raise ValueError("a market order has no limit_price")
        return self


class OrderAck(_Model):
    """The broker's answer to `place` or `cancel`."""

    client_order_id: str
    status: PlacementStatus
    broker_order_id: str | None = None
    broker_branch_no: str | None = None
    """KIS KRX_FWDG_ORD_ORGNO, needed to cancel after a restart (None for other brokers)."""
    accepted_at: datetime | None = None
    recovered: bool = False
    """True when the answer was lost and the order was found in the broker's books instead."""
    reason_code: str | None = None
    reason: str | None = None


class Position(_Model):
    """Shares held in one ticker."""

    ticker: str
    name: str
    qty: int
    sellable_qty: int
    avg_price: Decimal
    last_price: int
    market_value: int
    unrealized_pnl: int


class CashBalance(_Model):
    """Cash in KRW: today's deposit and what settles at D+2 after today's trades."""

    deposit: int
    settled_d2: int
    total_eval: int
    """Cash plus the market value of the holdings."""


class AccountSnapshot(_Model):
    """Cash and positions at one instant."""

    as_of: datetime
    cash: CashBalance
    positions: list[Position]


class Execution(_Model):
    """An order of the day and how much of it filled."""

    broker_order_id: str
    client_order_id: str | None
    """None for orders this process did not place (e.g. by hand in the HTS)."""
    ticker: str
    side: Side
    ordered_qty: int
    limit_price: int
    filled_qty: int
    avg_fill_price: Decimal
    remaining_qty: int
    rejected_qty: int = 0
    ordered_at: datetime
    original_broker_order_id: str | None = None
    """Set on a revise/cancel entry: the order it changes."""
    broker_branch_no: str | None = None
    """KIS: the branch (KRX_FWDG_ORD_ORGNO) a cancel of this order needs; None elsewhere."""


class UnknownOrderError(RejectedError):
    """The client_order_id was never placed through this broker."""


@runtime_checkable
class RemembersOrders(Protocol):
    """A broker whose client_order_id mapping lives in memory (KIS) and must be restored.

    After a restart the executor hands back the pairs it stored in the orders table before it
    asks the broker anything, so `place` recognises orders it already sent.
    """

    def remember(self, client_order_id: str, broker_order_id: str, org_no: str = "") -> None:
        """Restore one client_order_id -> broker order mapping."""
        ...


@runtime_checkable
class Broker(Protocol):
    """What the executor and the portfolio reconciliation use."""

    async def account_snapshot(self) -> AccountSnapshot:
        """Return cash and positions now."""
        ...

    async def place(self, order: OrderRequest) -> OrderAck:
        """Place `order` once, even when called again with the same client_order_id."""
        ...

    async def cancel(self, client_order_id: str) -> OrderAck:
        """Cancel what is unfilled of the order placed under `client_order_id`."""
        ...

    async def executions(self, day: date) -> list[Execution]:
        """Return the orders of `day` (KRX date) with their fills."""
        ...
