"""The order vocabulary every layer shares: side, type, lifecycle status, a placement's answer.

One declaration for the database, the brokers, the KIS client and the backtest, so an order's
side or type crosses from a proposal to a row, a broker request and a fill without conversions.
The values are the strings stored in the database (`orders.side`, `orders.status`, ...) and
written into session state, so they must never change; a wire format with other codes (KIS's
"01"/"02") maps to these at its own boundary (`tools.kis.orders`).
"""

from __future__ import annotations

from enum import StrEnum


class Side(StrEnum):
    """Buy or sell (long-only: a sell never exceeds the position)."""

    BUY = "buy"
    SELL = "sell"


class OrderType(StrEnum):
    """Limit (지정가) or market (시장가)."""

    LIMIT = "limit"
    MARKET = "market"


class OrderStatus(StrEnum):
    """The order lifecycle: proposed -> approved -> submitted -> (partially_)filled, or an end.

    `submitting` is written *before* the broker is called, so a crash between the call and
    the answer leaves a row that the executor reconciles with the broker's executions.
    """

    PROPOSED = "proposed"
    APPROVED = "approved"
    SUBMITTING = "submitting"
    SUBMITTED = "submitted"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELLED = "cancelled"
    REJECTED = "rejected"
    FAILED = "failed"
    EXPIRED = "expired"
    NEEDS_REVIEW = "needs_review"
    """Handed to a person: the executor could not settle it (in doubt after the follow window,
    several broker orders match it, or it was left from an earlier day). Never resent; the
    row's `reason` says what to check."""


class PlacementStatus(StrEnum):
    """What a broker said about an order we tried to place or cancel."""

    ACCEPTED = "accepted"
    """The broker holds the order (it may fill later)."""
    REJECTED = "rejected"
    """The broker refused it; `reason_code`/`reason` say why. Nothing was placed."""
    UNCONFIRMED = "unconfirmed"
    """The answer was lost and the broker's books did not settle it; call `place` again later
    with the same `client_order_id` (it checks the books before sending anything)."""
