"""Typed inputs and outputs of the risk gate.

Inputs: the portfolio as the broker reports it (`PortfolioSnapshot`) and one `MarketSnapshot`
per ticker. Outputs: `ProposedOrder`s and the `RiskDecision`s (clamps, denials, halts) that
explain every difference between what the signals asked for and what is proposed.
"""

from __future__ import annotations

import hashlib
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from core.orders import OrderType, Side
from tools.krx.rules import Market

KRW = Annotated[int, Field(ge=0)]
PositiveKRW = Annotated[int, Field(gt=0)]
Ticker = Annotated[str, Field(min_length=1, max_length=12)]


class Holding(BaseModel):
    """A held position: whole shares, how many may be sold now, and their total cost."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    qty: int = Field(gt=0)
    cost_basis_krw: KRW
    """Total purchase cost of the `qty` shares (KIS `pchs_amt`), not a per-share price."""
    sellable_qty: int | None = Field(default=None, ge=0)
    """Shares the broker accepts a sell order for now (KIS `ord_psbl_qty`): held minus what
    open sell orders at the broker already offer. None: the broker did not say (all of them)."""

    @model_validator(mode="after")
    def _sellable_within_held(self) -> Holding:
        if self.sellable_qty is not None and self.sellable_qty > self.qty:
            raise ValueError("sellable_qty cannot exceed the shares held")
        return self

    @property
    def sellable(self) -> int:
        """Return the shares a sell may ask for; sells and exits are sized on it."""
        return self.qty if self.sellable_qty is None else self.sellable_qty


class PortfolioSnapshot(BaseModel):
    """The account at the start of the risk pass."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    cash_krw: KRW
    """Cash available to order with today (KIS `ord_psbl_cash`)."""
    positions: dict[Ticker, Holding] = Field(default_factory=dict)
    equity_krw: KRW
    """Cash plus positions at market value."""
    peak_equity_krw: KRW
    """Highest equity seen; drawdown is measured from max(peak, equity)."""
    start_of_day_equity_krw: KRW
    """Equity at the previous close; the daily loss is measured from it."""


class MarketSnapshot(BaseModel):
    """What the gate knows of one ticker's market today."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    ticker: Ticker
    last_price_krw: PositiveKRW
    prev_close_krw: PositiveKRW
    """The base price (기준가) of today's ±30 % limits."""
    daily_volatility_pct: Annotated[Decimal, Field(ge=0, allow_inf_nan=False)] | None = None
    """Standard deviation of daily returns, percent; None when there is too little history."""
    market: Market = Market.KOSPI
    upper_limit_krw: PositiveKRW | None = None
    """Today's upper limit (상한가) as the exchange announced it (KIS's quote); None: computed
    from `prev_close_krw` by the KRX rule. The exchange's figure wins where they differ (a
    first trading day, a base price reset after a corporate action)."""
    lower_limit_krw: PositiveKRW | None = None
    """Today's lower limit (하한가), likewise."""


class OrderOrigin(StrEnum):
    """Why an order exists; protective exits are treated differently from discretionary ones."""

    SIGNAL = "signal"
    STOP_LOSS = "stop_loss"
    TAKE_PROFIT = "take_profit"

    @property
    def is_exit(self) -> bool:
        """Tell whether this is a protective exit (allowed under a halt, no per-order cap)."""
        return self is not OrderOrigin.SIGNAL


class ProposedOrder(BaseModel):
    """An order the gate proposes to the approver; not yet sent anywhere."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    client_order_id: str = Field(min_length=1, max_length=64)
    ticker: Ticker
    side: Side
    order_type: OrderType
    qty: int = Field(gt=0)
    limit_price_krw: PositiveKRW | None = None
    origin: OrderOrigin = OrderOrigin.SIGNAL
    reason: str

    @model_validator(mode="after")
    def _price_matches_type(self) -> ProposedOrder:
        if (self.order_type is OrderType.LIMIT) != (self.limit_price_krw is not None):
            raise ValueError("a limit order needs a limit price and a market order has none")
        return self


def make_client_order_id(thread_id: str, ticker: str, side: Side, sequence: int = 0) -> str:
    """Return the deterministic client order id of an order.

    The same session (thread id) proposing the same ticker and side gets the same id, so a
    re-run of the gate after a crash or a resume cannot create a second order. `sequence`
    separates several orders on one ticker and side within a session.
    """
    key = f"{thread_id}|{ticker}|{side.value}|{sequence}"
    return "mat-" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


class RiskCode(StrEnum):
    """Machine-readable reason of a clamp, a denial or a halt."""

    SIGNAL_FAILED = "signal_failed"
    DUPLICATE_SIGNAL = "duplicate_signal"
    UNKNOWN_TICKER = "unknown_ticker"
    NO_VOLATILITY = "no_volatility"
    NO_POSITION = "no_position"
    DAILY_LOSS_HALT = "daily_loss_halt"
    DRAWDOWN_HALT = "drawdown_halt"
    EXIT_PENDING = "exit_pending"
    MAX_ORDERS = "max_orders"
    SIZED_TO_ZERO = "sized_to_zero"
    AT_TARGET = "at_target"
    MAX_ORDER_VALUE = "max_order_value"
    TICKER_EXPOSURE = "ticker_exposure"
    GROSS_EXPOSURE = "gross_exposure"
    CASH = "cash"
    HELD_QTY = "held_qty"
    SELLABLE_QTY = "sellable_qty"
    """Held shares locked by open sell orders at the broker cut or denied a sell."""
    TICK = "tick"
    PRICE_LIMIT = "price_limit"
    NO_PRICE_BAND = "no_price_band"
    INVALID_EDIT = "invalid_edit"
    NO_COST_BASIS = "no_cost_basis"
    STOP_LOSS = "stop_loss"
    TAKE_PROFIT = "take_profit"


class DecisionKind(StrEnum):
    """Whether the gate changed an order, refused it, or stopped a class of orders."""

    CLAMP = "clamp"
    DENY = "deny"
    HALT = "halt"
    NOTE = "note"
    """Something the approver should know that changed no order (e.g. exits not evaluated)."""


class RiskDecision(BaseModel):
    """One line of the risk report, shown to the approver."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: DecisionKind
    code: RiskCode
    reason: str
    """A sentence for a person, with the numbers."""
    ticker: str | None = None
    side: Side | None = None
    field: str | None = None
    """What a clamp changed: ``qty`` or ``limit_price_krw``."""
    before: int | None = None
    after: int | None = None

    def describe(self) -> str:
        """Return the one line the approver reads, e.g. ``CLAMP 005930 buy qty 142->71: ...``."""
        subject = " ".join(p for p in (self.ticker, self.side.value if self.side else None) if p)
        change = ""
        if self.field is not None and self.before is not None and self.after is not None:
            change = f" {self.field} {self.before:,}->{self.after:,}"
        head = f"{self.kind.value.upper()} {subject}".rstrip()
        return f"{head}{change} [{self.code.value}]: {self.reason}"


class RiskReport(BaseModel):
    """The gate's answer: the orders to put before the approver and why they look as they do."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    orders: tuple[ProposedOrder, ...] = ()
    decisions: tuple[RiskDecision, ...] = ()
    buys_halted: bool = False

    def lines(self) -> list[str]:
        """Return every decision as a line for the approver, in the order they were made."""
        return [d.describe() for d in self.decisions]

    def decisions_for(self, ticker: str) -> tuple[RiskDecision, ...]:
        """Return the lines about one ticker, in the order they were made."""
        return tuple(d for d in self.decisions if d.ticker == ticker)


class EditResult(BaseModel):
    """An approver's edit after the risk rules: the order to approve (None if denied) and why."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    order: ProposedOrder | None
    decisions: tuple[RiskDecision, ...] = ()
