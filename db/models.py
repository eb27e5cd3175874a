"""SQLAlchemy 2 models: the durable record of every session.

Money columns are integer KRW (`BigInteger`), rates are `Numeric`, timestamps are UTC
`timestamptz`. Enumerations are stored as short strings with a CHECK constraint so that both
SQLite and PostgreSQL enforce them without native enum types (which complicate migrations).
Natural keys that make writes idempotent carry unique constraints: an order's
`client_order_id`, a bar's (ticker, interval, bar_time), a signal's (run, ticker, agent).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from core.orders import OrderStatus, OrderType, Side
from db.types import JSONType, MoneyKRW, Rate, UTCDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """Return the current UTC time (column default; business code uses the injected clock)."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    """Declarative base with a naming convention, so migrations name constraints stably."""

    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSONType,
    }


def _enum(enum_cls: type[StrEnum], name: str) -> sa.Enum:
    return sa.Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=24,
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
    )


class RunStatus(StrEnum):
    """Where a session run is."""

    RUNNING = "running"
    AWAITING_APPROVAL = "awaiting_approval"
    COMPLETED = "completed"
    FAILED = "failed"


class Stance(StrEnum):
    """An agent's view of a ticker."""

    BUY = "buy"
    SELL = "sell"
    HOLD = "hold"


class SignalStatus(StrEnum):
    """Whether an opinion exists, or why not. Never a silent HOLD."""

    OK = "ok"
    DATA_FAILED = "data_failed"
    LLM_FAILED = "llm_failed"
    LLM_UNPARSEABLE = "llm_unparseable"
    BUDGET_EXHAUSTED = "budget_exhausted"


class ApprovalDecision(StrEnum):
    """What the approver decided for one order."""

    APPROVE = "approve"
    REJECT = "reject"
    EDIT = "edit"
    EXPIRED = "expired"


class Portfolio(Base):
    """A trading book: a name, a mode, and its cash."""

    __tablename__ = "portfolios"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(64), unique=True)
    trading_mode: Mapped[str] = mapped_column(sa.String(16))
    cash_krw: Mapped[int] = mapped_column(MoneyKRW)
    starting_cash_krw: Mapped[int] = mapped_column(MoneyKRW)
    peak_equity_krw: Mapped[int] = mapped_column(MoneyKRW)
    """High-water mark of equity, for the drawdown halt."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    positions: Mapped[list[Position]] = relationship(back_populates="portfolio")


class Position(Base):
    """Shares held in one ticker; cost basis in KRW (average price = cost / qty)."""

    __tablename__ = "positions"
    __table_args__ = (
        sa.UniqueConstraint("portfolio_id", "ticker"),
        sa.CheckConstraint("qty >= 0", name="qty_non_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    portfolio_id: Mapped[int] = mapped_column(sa.ForeignKey("portfolios.id", ondelete="CASCADE"))
    ticker: Mapped[str] = mapped_column(sa.String(12))
    qty: Mapped[int] = mapped_column(sa.BigInteger)
    cost_basis_krw: Mapped[int] = mapped_column(MoneyKRW)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    portfolio: Mapped[Portfolio] = relationship(back_populates="positions")


class Run(Base):
    """One session run, i.e. one graph thread: timings, status, token use and cost."""

    __tablename__ = "runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[str] = mapped_column(sa.String(128), unique=True)
    portfolio_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("portfolios.id", ondelete="SET NULL")
    )
    session_date: Mapped[date] = mapped_column(sa.Date)
    phase: Mapped[str] = mapped_column(sa.String(32))
    venue: Mapped[str | None] = mapped_column(sa.String(16))
    """Where the run's orders go (demo, paper, kis-virtual, kis-real); a resume uses the same."""
    venue_server: Mapped[str | None] = mapped_column(sa.String(200))
    """The broker server the run trades on (KIS base URL, `in-process` for the demo market,
    the paper store's path); a resume against another server is refused."""
    account_fingerprint: Mapped[str | None] = mapped_column(sa.String(32))
    """A non-secret fingerprint of the account (a keyed hash, never the number itself)."""
    executor_holder: Mapped[str | None] = mapped_column(sa.String(64))
    """Who holds the executor lease of this run (one executor per session at a time)."""
    executor_lease_until: Mapped[datetime | None]
    """When that lease lapses unless renewed; a dead holder's lease can be taken after it."""
    status: Mapped[RunStatus] = mapped_column(_enum(RunStatus, "run_status"))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    tokens_in: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    tokens_out: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    cost_usd: Mapped[Decimal] = mapped_column(Rate, default=Decimal(0))
    summary: Mapped[dict[str, Any] | None]


class SessionClaim(Base):
    """Which thread holds a session: one per (portfolio, session date, phase).

    The CLI derives a session's thread id from those three, but Studio and the SDK start every
    thread with a random id; the claim, taken by `load_context` with an insert that cannot
    succeed twice, keeps a second thread of the same session from proposing and trading again.
    """

    __tablename__ = "session_claims"
    __table_args__ = (sa.UniqueConstraint("portfolio_id", "session_date", "phase"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    portfolio_id: Mapped[int] = mapped_column(sa.ForeignKey("portfolios.id", ondelete="CASCADE"))
    session_date: Mapped[date] = mapped_column(sa.Date)
    phase: Mapped[str] = mapped_column(sa.String(32))
    thread_id: Mapped[str] = mapped_column(sa.String(128))
    claimed_at: Mapped[datetime] = mapped_column(default=utcnow)


class Signal(Base):
    """One agent's opinion of one ticker in one run, with the numbers it used."""

    __tablename__ = "signals"
    __table_args__ = (
        sa.UniqueConstraint("run_id", "ticker", "agent"),
        sa.CheckConstraint("conviction >= 0 AND conviction <= 1", name="conviction_unit"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(sa.ForeignKey("runs.id", ondelete="CASCADE"))
    ticker: Mapped[str] = mapped_column(sa.String(12))
    agent: Mapped[str] = mapped_column(sa.String(32))
    status: Mapped[SignalStatus] = mapped_column(_enum(SignalStatus, "signal_status"))
    stance: Mapped[Stance | None] = mapped_column(_enum(Stance, "stance"))
    conviction: Mapped[Decimal | None] = mapped_column(sa.Numeric(6, 5))
    horizon: Mapped[str | None] = mapped_column(sa.String(32))
    rationale: Mapped[str | None] = mapped_column(sa.Text)
    evidence: Mapped[dict[str, Any] | None]
    prompt_version: Mapped[str | None] = mapped_column(sa.String(32))
    """Version of the prompt the LLM was given (in rules mode: the rules' version)."""
    rules_version: Mapped[str | None] = mapped_column(sa.String(32))
    """Version of the rules reasoner (for a combined signal: of the combination rule)."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Order(Base):
    """An order from proposal to its end. `client_order_id` is deterministic and unique."""

    __tablename__ = "orders"
    __table_args__ = (
        sa.CheckConstraint("qty > 0", name="qty_positive"),
        sa.CheckConstraint("filled_qty >= 0 AND filled_qty <= qty", name="filled_within_qty"),
        sa.Index("ix_orders_status", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_order_id: Mapped[str] = mapped_column(sa.String(64), unique=True)
    run_id: Mapped[int | None] = mapped_column(sa.ForeignKey("runs.id", ondelete="SET NULL"))
    portfolio_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("portfolios.id", ondelete="SET NULL")
    )
    ticker: Mapped[str] = mapped_column(sa.String(12))
    side: Mapped[Side] = mapped_column(_enum(Side, "order_side"))
    order_type: Mapped[OrderType] = mapped_column(_enum(OrderType, "order_type"))
    qty: Mapped[int] = mapped_column(sa.BigInteger)
    limit_price_krw: Mapped[int | None] = mapped_column(MoneyKRW)
    status: Mapped[OrderStatus] = mapped_column(_enum(OrderStatus, "order_status"))
    filled_qty: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    filled_value_krw: Mapped[int] = mapped_column(MoneyKRW, default=0)
    broker_order_no: Mapped[str | None] = mapped_column(sa.String(32))
    """KIS ODNO."""
    broker_branch_no: Mapped[str | None] = mapped_column(sa.String(16))
    """KIS KRX_FWDG_ORD_ORGNO, needed to revise or cancel."""
    reason: Mapped[str | None] = mapped_column(sa.Text)
    """Why it exists (risk report line) or why it ended (rejection message)."""
    error_code: Mapped[str | None] = mapped_column(sa.String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    submitted_at: Mapped[datetime | None]

    fills: Mapped[list[Fill]] = relationship(back_populates="order")


class Fill(Base):
    """One execution of an order; `fill_key` is unique (broker execution id or derived)."""

    __tablename__ = "fills"
    __table_args__ = (sa.CheckConstraint("qty > 0", name="qty_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    fill_key: Mapped[str] = mapped_column(sa.String(96), unique=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("orders.id", ondelete="CASCADE"))
    ticker: Mapped[str] = mapped_column(sa.String(12))
    side: Mapped[Side] = mapped_column(_enum(Side, "fill_side"))
    qty: Mapped[int] = mapped_column(sa.BigInteger)
    price_krw: Mapped[int] = mapped_column(MoneyKRW)
    commission_krw: Mapped[int] = mapped_column(MoneyKRW, default=0)
    tax_krw: Mapped[int] = mapped_column(MoneyKRW, default=0)
    filled_at: Mapped[datetime]

    order: Mapped[Order] = relationship(back_populates="fills")


class MarketBar(Base):
    """An OHLCV bar; one row per (ticker, interval, bar_time)."""

    __tablename__ = "market_data"
    __table_args__ = (sa.UniqueConstraint("ticker", "interval", "bar_time"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticker: Mapped[str] = mapped_column(sa.String(12))
    interval: Mapped[str] = mapped_column(sa.String(8))
    """`1d` for daily bars, `1m` for minute bars."""
    bar_time: Mapped[datetime]
    """Start of the bar in UTC (a daily bar starts at 09:00 KST)."""
    open_krw: Mapped[int] = mapped_column(MoneyKRW)
    high_krw: Mapped[int] = mapped_column(MoneyKRW)
    low_krw: Mapped[int] = mapped_column(MoneyKRW)
    close_krw: Mapped[int] = mapped_column(MoneyKRW)
    volume: Mapped[int] = mapped_column(sa.BigInteger)
    source: Mapped[str] = mapped_column(sa.String(16))
    adjustment: Mapped[str] = mapped_column(sa.String(16), default="raw", server_default="raw")
    """The price basis: `adjusted` (KIS's daily chart with FID_ORG_ADJ_PRC=0, back-adjusted for
    splits and rights issues as of `fetched_at`) or `raw` (as traded, e.g. imported files).
    A later re-adjustment of the past is detected by comparing the overlap and rewrites it."""
    fetched_at: Mapped[datetime | None]
    """When the collector wrote this version of the bar (None: written before the data layer)."""


class Fundamental(Base):
    """One company report's figures as one source published them, with when they became known.

    One row per (ticker, source, kind, period): KIS's financial-ratio or stability-ratio rows of
    a settlement month (`period` = `YYYYMM`), or an OpenDART annual report (`period` = `YYYY`).
    `figures` holds the numbers by name (decimals as strings, money as integer KRW).

    Point in time: a decision on day t may use a row only when `known_on <= t`. `known_on` is
    the first day the figures could be used: the day after publication where the source dates
    it (OpenDART's receipt date), otherwise the statutory filing deadline after the period
    (`known_basis` says which), never later than the day we first fetched it.
    """

    __tablename__ = "fundamentals"
    __table_args__ = (
        sa.UniqueConstraint("ticker", "source", "kind", "period"),
        sa.Index("ix_fundamentals_ticker_known_on", "ticker", "known_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticker: Mapped[str] = mapped_column(sa.String(12))
    source: Mapped[str] = mapped_column(sa.String(16))
    """`kis` or `dart`."""
    kind: Mapped[str] = mapped_column(sa.String(32))
    """`financial_ratio`, `stability_ratio`, `annual_report`..."""
    period: Mapped[str] = mapped_column(sa.String(8))
    figures: Mapped[dict[str, Any]] = mapped_column(JSONType)
    known_on: Mapped[date] = mapped_column(sa.Date)
    known_basis: Mapped[str] = mapped_column(sa.String(16))
    """`published` (the source's own date), `deadline` (the filing deadline) or `fetched`."""
    fetched_at: Mapped[datetime]


class FundamentalFetch(Base):
    """When a source was last asked for a ticker's figures, whatever it answered.

    `fundamentals` dates only the rows a source returned. A ticker it has nothing for (an ETF
    has no financial statements, so KIS's ratio queries answer empty) left no trace there and
    was asked again on every collection; this row is what the refresh rule reads instead.
    """

    __tablename__ = "fundamental_fetches"
    __table_args__ = (sa.UniqueConstraint("ticker", "source"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticker: Mapped[str] = mapped_column(sa.String(12))
    source: Mapped[str] = mapped_column(sa.String(16))
    """`kis` or `dart`, as in `fundamentals.source`."""
    rows: Mapped[int]
    """How many rows the fetch returned (0: the source has nothing for the ticker)."""
    fetched_at: Mapped[datetime]


class Instrument(Base):
    """A ticker's listing as the broker described it: which market's rules apply to it.

    KIS answers the listing market (KOSPI, KOSDAQ, ETF) only through a per-ticker query; kept
    here, a session asks once per ticker and then only when the row is older than the refresh
    age (a transfer listing from KOSDAQ to KOSPI happens, rarely).
    """

    __tablename__ = "instruments"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticker: Mapped[str] = mapped_column(sa.String(12), unique=True)
    market: Mapped[str] = mapped_column(sa.String(8))
    """`KOSPI`, `KOSDAQ` or `ETF` (`tools.krx.rules.Market` values)."""
    fetched_at: Mapped[datetime]


class Approval(Base):
    """The approver's decision on one order, with who and when."""

    __tablename__ = "approvals"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_order_id: Mapped[str] = mapped_column(sa.String(64), unique=True)
    run_id: Mapped[int | None] = mapped_column(sa.ForeignKey("runs.id", ondelete="SET NULL"))
    decision: Mapped[ApprovalDecision] = mapped_column(_enum(ApprovalDecision, "approval_decision"))
    edited_qty: Mapped[int | None] = mapped_column(sa.BigInteger)
    edited_price_krw: Mapped[int | None] = mapped_column(MoneyKRW)
    decided_by: Mapped[str] = mapped_column(sa.String(64))
    decided_at: Mapped[datetime]
    note: Mapped[str | None] = mapped_column(sa.Text)


class EconEvent(Base):
    """An economic release or observation (ECOS, FRED, DART, or a committed schedule)."""

    __tablename__ = "econ_events"
    __table_args__ = (sa.UniqueConstraint("source", "event_key", "scheduled_for"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(sa.String(16))
    event_key: Mapped[str] = mapped_column(sa.String(64))
    """Series or release id at the source (e.g. `722Y001/0101000`, `CPIAUCSL`)."""
    name: Mapped[str] = mapped_column(sa.String(200))
    country: Mapped[str] = mapped_column(sa.String(2))
    scheduled_for: Mapped[date] = mapped_column(sa.Date)
    value: Mapped[Decimal | None] = mapped_column(sa.Numeric(24, 8))
    unit: Mapped[str | None] = mapped_column(sa.String(32))
    published_at: Mapped[datetime | None]
    """When the value became public; the backtester uses it to avoid lookahead."""
    period: Mapped[str | None] = mapped_column(sa.String(16))
    """The period the value describes (`202410`, `2024Q3`), where it differs from the release."""
    fetched_at: Mapped[datetime | None]
    """When the collector wrote the row (None: written before the data layer)."""


class BacktestRun(Base):
    """One backtest: what was replayed, with which costs, and its headline metrics.

    Equity is `Numeric`: the parity cost mode keeps backtesting.py's fractional-won commission.
    """

    __tablename__ = "backtest_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    strategy: Mapped[str] = mapped_column(sa.String(32))
    params: Mapped[dict[str, Any]]
    tickers: Mapped[dict[str, Any]]
    """`{"tickers": [...]}`, in the order given."""
    start_date: Mapped[date] = mapped_column(sa.Date)
    end_date: Mapped[date] = mapped_column(sa.Date)
    data_source: Mapped[str] = mapped_column(sa.String(200))
    cost_mode: Mapped[str] = mapped_column(sa.String(16))
    commission_rate: Mapped[Decimal] = mapped_column(Rate)
    charge_tax: Mapped[bool] = mapped_column(sa.Boolean)
    initial_cash_krw: Mapped[int] = mapped_column(MoneyKRW)
    final_equity_krw: Mapped[Decimal] = mapped_column(sa.Numeric(20, 4))
    metrics: Mapped[dict[str, Any]]
    benchmark_metrics: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class BacktestTrade(Base):
    """A round trip of a backtest (FIFO lots); exit columns are empty while it is open."""

    __tablename__ = "backtest_trades"
    __table_args__ = (
        sa.CheckConstraint("qty > 0", name="qty_positive"),
        sa.Index("ix_backtest_trades_run_id", "run_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(sa.ForeignKey("backtest_runs.id", ondelete="CASCADE"))
    ticker: Mapped[str] = mapped_column(sa.String(12))
    qty: Mapped[int] = mapped_column(sa.BigInteger)
    entry_decided_on: Mapped[date] = mapped_column(sa.Date)
    entry_fill_date: Mapped[date] = mapped_column(sa.Date)
    entry_price_krw: Mapped[int] = mapped_column(MoneyKRW)
    exit_decided_on: Mapped[date | None] = mapped_column(sa.Date)
    exit_fill_date: Mapped[date | None] = mapped_column(sa.Date)
    exit_price_krw: Mapped[int | None] = mapped_column(MoneyKRW)
    commission_krw: Mapped[Decimal] = mapped_column(sa.Numeric(20, 4))
    tax_krw: Mapped[Decimal] = mapped_column(sa.Numeric(20, 4))
    pnl_krw: Mapped[Decimal | None] = mapped_column(sa.Numeric(20, 4))


class BacktestEquity(Base):
    """A backtest's book at one day's close, beside the buy-and-hold benchmark."""

    __tablename__ = "backtest_equity"
    __table_args__ = (sa.UniqueConstraint("run_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(sa.ForeignKey("backtest_runs.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(sa.Date)
    equity_krw: Mapped[Decimal] = mapped_column(sa.Numeric(20, 4))
    cash_krw: Mapped[Decimal] = mapped_column(sa.Numeric(20, 4))
    benchmark_krw: Mapped[Decimal] = mapped_column(sa.Numeric(20, 4))
