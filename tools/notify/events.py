"""What the notifiers tell: one typed model per kind of event, each rendering its message.

The shell builds these from the session (`trader.wiring.notify`); a notifier only sends
`event.text()`. A message names the session, tickers, quantities and prices, and a link to the
session's page; never an account number, a key or a token (the models have no field that could
hold one).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from core.clock import KST
from core.orders import OrderType, Side

_FROZEN = ConfigDict(frozen=True, extra="forbid")


def _krw(value: int) -> str:
    return f"{value:,} KRW"


def _kst(moment: datetime) -> str:
    return moment.astimezone(KST).strftime("%Y-%m-%d %H:%M KST")


class OrderLine(BaseModel):
    """One proposed order, as the approver reads it."""

    model_config = _FROZEN

    ticker: str
    side: Side
    qty: int
    order_type: OrderType
    limit_price_krw: int | None = None

    def describe(self) -> str:
        """``BUY 005930 x 10 limit 71,000 KRW`` or ``SELL 000660 x 5 market``."""
        price = (
            f"limit {_krw(self.limit_price_krw)}"
            if self.order_type is OrderType.LIMIT and self.limit_price_krw is not None
            else "market"
        )
        return f"{self.side.value.upper()} {self.ticker} x {self.qty:,} {price}"


class FillLine(BaseModel):
    """What one approved order got filled."""

    model_config = _FROZEN

    ticker: str
    side: Side
    qty: int
    filled_qty: int
    filled_value_krw: int
    status: str
    """The order's status after the executor's pass (`filled`, `partially_filled`, ...)."""

    def describe(self) -> str:
        """``BUY 051910 10/10 at avg 312,000 KRW (filled)``."""
        average = self.filled_value_krw // self.filled_qty if self.filled_qty else 0
        return (
            f"{self.side.value.upper()} {self.ticker} {self.filled_qty:,}/{self.qty:,} "
            f"at avg {_krw(average)} ({self.status})"
        )


class PendingApproval(BaseModel):
    """A session proposed orders and waits for a person to approve them."""

    model_config = _FROZEN
    kind: Literal["pending_approval"] = "pending_approval"

    thread_id: str
    orders: tuple[OrderLine, ...]
    expires_at: AwareDatetime
    link: str
    """The session's page (`SERVICE_PUBLIC_URL` + ``/sessions/{thread_id}``)."""

    def text(self) -> str:
        """The message: the orders, the expiry and where to decide."""
        lines = [
            f"Session {self.thread_id}: {len(self.orders)} order(s) wait for approval "
            f"(expires {_kst(self.expires_at)})",
            *(f"- {o.describe()}" for o in self.orders),
            f"Decide: {self.link}",
        ]
        return "\n".join(lines)


class Fills(BaseModel):
    """Approved orders of a session got (partly) filled."""

    model_config = _FROZEN
    kind: Literal["fills"] = "fills"

    thread_id: str
    fills: tuple[FillLine, ...]

    def text(self) -> str:
        """The message: one line per filled order."""
        head = f"Session {self.thread_id}: {len(self.fills)} order(s) filled"
        return "\n".join([head, *(f"- {f.describe()}" for f in self.fills)])


class NeedsReviewEvent(BaseModel):
    """The executor handed an order to a person (`needs_review`): check it at the broker."""

    model_config = _FROZEN
    kind: Literal["needs_review"] = "needs_review"

    thread_id: str
    client_order_id: str
    ticker: str
    reason: str

    def text(self) -> str:
        """The message: which order, and what to check."""
        return (
            f"Session {self.thread_id}: order {self.client_order_id} ({self.ticker}) "
            f"needs review: {self.reason}"
        )


class SessionHalted(BaseModel):
    """The risk gate halted new buys in a session (daily-loss or drawdown halt)."""

    model_config = _FROZEN
    kind: Literal["session_halted"] = "session_halted"

    thread_id: str
    reasons: tuple[str, ...]

    def text(self) -> str:
        """The message: the halts in force."""
        head = f"Session {self.thread_id}: new buys are halted"
        return "\n".join([head, *(f"- {r}" for r in self.reasons)])


class ScheduledRunFailed(BaseModel):
    """A scheduled session failed, or never started."""

    model_config = _FROZEN
    kind: Literal["scheduled_run_failed"] = "scheduled_run_failed"

    job: str
    """The schedule's name (e.g. ``pre-open``)."""
    scheduled_for: AwareDatetime
    started: bool
    """False: the run never started (missed, or refused before it began)."""
    reason: str
    thread_id: str | None = None

    def text(self) -> str:
        """The message: which run, when, and why."""
        what = "failed" if self.started else "did not start"
        session = f" (session {self.thread_id})" if self.thread_id else ""
        return (
            f"Scheduled run {self.job} of {_kst(self.scheduled_for)}{session} {what}: {self.reason}"
        )


Event = Annotated[
    PendingApproval | Fills | NeedsReviewEvent | SessionHalted | ScheduledRunFailed,
    Field(discriminator="kind"),
]
"""Every event a notifier may be given."""
