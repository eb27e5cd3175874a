"""The response bodies: what the OpenAPI schema (/docs, /openapi.json) documents.

Session content reuses the graph's own models (signals with each analyst's opinion, proposed
orders, risk decisions, the report), so the API says what the CLI and Studio say.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel

from agents.executor import FillProgress
from agents.risk.models import ProposedOrder, RiskDecision
from agents.schemas import Signal
from core.orders import OrderStatus, OrderType, Side
from graphs.nodes.report import SessionReport


class Health(BaseModel):
    """The service answers; no settings beyond the trading mode."""

    status: str = "ok"
    version: str
    trading_mode: str


class PositionView(BaseModel):
    """One position of the portfolio's book."""

    ticker: str
    qty: int
    cost_basis_krw: int
    avg_price_krw: int
    last_price_krw: int | None
    """The price of the last finished session's report (None: not held then)."""
    market_value_krw: int
    """At the last price, or at cost when there is none."""
    unrealized_pnl_krw: int


class PortfolioView(BaseModel):
    """Cash, positions and P&L of the settings' portfolio, from the database's book."""

    portfolio: str
    recorded: bool
    """False before any session recorded the portfolio (the figures are the starting cash)."""
    trading_mode: str
    cash_krw: int
    """The deposit as the broker last reported it (today's trades settle two days later)."""
    starting_cash_krw: int
    peak_equity_krw: int
    positions: list[PositionView]
    equity_krw: int
    """The broker's evaluation at the last session's end (before any: cash plus positions)."""
    pnl_krw: int
    """Equity less the starting cash."""
    pnl_pct: Decimal
    drawdown_pct: Decimal
    """How far equity is below its peak, percent."""
    priced_at: datetime | None
    """When the session whose prices and evaluation are shown finished."""


class RunSummary(BaseModel):
    """One line of the recent sessions (`graphs.runner.recent_runs`)."""

    thread_id: str
    session_date: date
    venue: str | None
    status: str
    orders: int
    tokens: int
    cost_usd: Decimal
    started_at: datetime


class OrderProposal(BaseModel):
    """A proposed order with the risk decisions about its ticker and side."""

    order: ProposedOrder
    risk: list[RiskDecision]


class PendingApproval(BaseModel):
    """The approval the session waits for; answer it with POST .../approval."""

    orders: list[OrderProposal]
    risk_report: list[str]
    expires_at: str
    resume_schema: str


class SessionView(BaseModel):
    """Where one session stands (`graphs.runner.read_thread`)."""

    thread_id: str
    status: str | None
    next_nodes: list[str]
    awaiting_approval: bool
    finished: bool
    stopped_part_way: bool
    signals: list[Signal]
    """Each ticker's combined signal with every analyst's stance, conviction, rationale and
    evidence (`opinions`)."""
    proposed: list[OrderProposal]
    """The orders the risk gate proposed, each with its risk decisions and reason."""
    risk_report: list[str]
    buys_halted: bool
    approval: PendingApproval | None
    report: SessionReport | None
    notice: str | None


class Today(BaseModel):
    """The thread a trigger runs now."""

    thread_id: str


class Triggered(BaseModel):
    """The answer to a trigger: the session, which stops at its approval."""

    thread_id: str
    started: bool
    """False when the session existed already (it is shown instead of trading twice)."""
    session: SessionView


class BacktestRunView(BaseModel):
    """One stored backtest (`trader backtest --save`): what was replayed and its headline."""

    id: int
    strategy: str
    tickers: list[str]
    start_date: date
    end_date: date
    cost_mode: str
    initial_cash_krw: int
    final_equity_krw: int
    """Rounded down to the won (the parity cost mode books fractional commission)."""
    total_return_pct: Decimal | None
    max_drawdown_pct: Decimal | None
    sharpe: Decimal | None
    closed_trades: int | None
    benchmark_return_pct: Decimal | None
    """The buy-and-hold benchmark's total return over the same days."""
    created_at: datetime


class Handover(BaseModel):
    """The answer to a handed-over approval: the orders placed, the service following fills."""

    thread_id: str
    finished: bool
    """True when the session ran to its end before the answer (nothing is left to follow)."""
    progress: FillProgress | None
    """The executor's last report: orders placed, filled, still followed, still to send."""
    session: SessionView | None
    """The finished session (None while the service still runs it)."""


class FillView(BaseModel):
    """One execution of an order."""

    qty: int
    price_krw: int
    commission_krw: int
    tax_krw: int
    filled_at: datetime


class OrderView(BaseModel):
    """An order of the database with its fills."""

    client_order_id: str
    thread_id: str | None
    ticker: str
    side: Side
    order_type: OrderType
    qty: int
    limit_price_krw: int | None
    status: OrderStatus
    filled_qty: int
    filled_value_krw: int
    reason: str | None
    created_at: datetime
    submitted_at: datetime | None
    fills: list[FillView]
