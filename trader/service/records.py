"""The database's books, read for the API: the portfolio with its positions, orders and fills.

Synchronous (SQLAlchemy sessions); the routes call these in a worker thread.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload, sessionmaker

from db.models import BacktestRun, Order, Portfolio, Position, Run, RunStatus
from trader.service.models import (
    BacktestRunView,
    FillView,
    OrderView,
    PortfolioView,
    PositionView,
)
from trader.settings import Settings

MAX_ORDERS = 1000


def _pct(part: int, whole: int) -> Decimal:
    if whole <= 0:
        return Decimal(0)
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.01")) + 0  # no -0.00


def _last_report(session: Session, portfolio_id: int) -> tuple[dict[str, Any], Any]:
    """The newest finished session's report of the portfolio, and when it finished."""
    run = session.scalars(
        sa.select(Run)
        .where(
            Run.portfolio_id == portfolio_id,
            Run.status == RunStatus.COMPLETED,
            Run.summary.is_not(None),
        )
        .order_by(Run.finished_at.desc(), Run.id.desc())
        .limit(1)
    ).one_or_none()
    if run is None or not run.summary:
        return {}, None
    return run.summary, run.finished_at


def read_portfolio(sessions: sessionmaker[Session], settings: Settings) -> PortfolioView:
    """The settings' portfolio as the database's book records it, valued at the last prices."""
    with sessions() as session:
        row = session.scalars(
            sa.select(Portfolio).where(Portfolio.name == settings.portfolio)
        ).one_or_none()
        if row is None:
            cash = settings.starting_cash_krw
            return PortfolioView(
                portfolio=settings.portfolio,
                recorded=False,
                trading_mode=settings.trading_mode.value,
                cash_krw=cash,
                starting_cash_krw=cash,
                peak_equity_krw=cash,
                positions=[],
                equity_krw=cash,
                pnl_krw=0,
                pnl_pct=Decimal(0),
                drawdown_pct=Decimal(0),
                priced_at=None,
            )
        report, priced_at = _last_report(session, row.id)
        prices = {
            str(h["ticker"]): int(h["last_price_krw"])
            for h in report.get("holdings", [])
            if h.get("last_price_krw")
        }
        held = session.scalars(
            sa.select(Position)
            .where(Position.portfolio_id == row.id, Position.qty != 0)
            .order_by(Position.ticker)
        ).all()
        positions = []
        for p in held:
            last = prices.get(p.ticker)
            value = last * p.qty if last is not None else p.cost_basis_krw
            positions.append(
                PositionView(
                    ticker=p.ticker,
                    qty=p.qty,
                    cost_basis_krw=p.cost_basis_krw,
                    avg_price_krw=p.cost_basis_krw // p.qty if p.qty else 0,
                    last_price_krw=last,
                    market_value_krw=value,
                    unrealized_pnl_krw=value - p.cost_basis_krw,
                )
            )
        # The broker's evaluation at the last session's end; the deposit alone lags trades by
        # two trading days, so cash plus positions would count today's buys twice.
        reported = report.get("equity_krw")
        if isinstance(reported, int):
            equity = reported
        else:
            equity = row.cash_krw + sum(p.market_value_krw for p in positions)
        peak = max(row.peak_equity_krw, equity)
        return PortfolioView(
            portfolio=row.name,
            recorded=True,
            trading_mode=row.trading_mode,
            cash_krw=row.cash_krw,
            starting_cash_krw=row.starting_cash_krw,
            peak_equity_krw=row.peak_equity_krw,
            positions=positions,
            equity_krw=equity,
            pnl_krw=equity - row.starting_cash_krw,
            pnl_pct=_pct(equity - row.starting_cash_krw, row.starting_cash_krw),
            drawdown_pct=_pct(peak - equity, peak),
            priced_at=priced_at,
        )


def read_orders(
    sessions: sessionmaker[Session], *, thread_id: str | None = None, limit: int = 100
) -> list[OrderView]:
    """Orders newest first, each with its fills; only one session's with `thread_id`."""
    stmt = (
        sa.select(Order, Run.thread_id)
        .outerjoin(Run, Run.id == Order.run_id)
        .options(selectinload(Order.fills))
        .order_by(Order.created_at.desc(), Order.id.desc())
        .limit(min(limit, MAX_ORDERS))
    )
    if thread_id is not None:
        stmt = stmt.where(Run.thread_id == thread_id)
    with sessions() as session:
        return [
            OrderView(
                client_order_id=o.client_order_id,
                thread_id=thread,
                ticker=o.ticker,
                side=o.side,
                order_type=o.order_type,
                qty=o.qty,
                limit_price_krw=o.limit_price_krw,
                status=o.status,
                filled_qty=o.filled_qty,
                filled_value_krw=o.filled_value_krw,
                reason=o.reason,
                created_at=o.created_at,
                submitted_at=o.submitted_at,
                fills=[
                    FillView(
                        qty=f.qty,
                        price_krw=f.price_krw,
                        commission_krw=f.commission_krw,
                        tax_krw=f.tax_krw,
                        filled_at=f.filled_at,
                    )
                    for f in sorted(o.fills, key=lambda f: (f.filled_at, f.id))
                ],
            )
            for o, thread in session.execute(stmt).all()
        ]


MAX_BACKTESTS = 200


def _pct_of(fraction: Any) -> Decimal | None:
    """A stored metric (a fraction, a JSON float) as a percent to two places; None if unset."""
    if not isinstance(fraction, int | float) or isinstance(fraction, bool):
        return None
    return (Decimal(str(fraction)) * 100).quantize(Decimal("0.01")) + 0


def _ratio(value: Any) -> Decimal | None:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None
    return Decimal(str(value)).quantize(Decimal("0.01")) + 0


def read_backtests(sessions: sessionmaker[Session], *, limit: int = 20) -> list[BacktestRunView]:
    """Stored backtest runs, newest first, with their headline metrics."""
    stmt = (
        sa.select(BacktestRun)
        .order_by(BacktestRun.created_at.desc(), BacktestRun.id.desc())
        .limit(min(limit, MAX_BACKTESTS))
    )
    with sessions() as session:
        views = []
        for run in session.scalars(stmt).all():
            metrics, bench = run.metrics or {}, run.benchmark_metrics or {}
            trades = metrics.get("closed_trades")
            views.append(
                BacktestRunView(
                    id=run.id,
                    strategy=run.strategy,
                    tickers=[str(t) for t in (run.tickers or {}).get("tickers", [])],
                    start_date=run.start_date,
                    end_date=run.end_date,
                    cost_mode=run.cost_mode,
                    initial_cash_krw=run.initial_cash_krw,
                    final_equity_krw=int(run.final_equity_krw),
                    total_return_pct=_pct_of(metrics.get("total_return")),
                    max_drawdown_pct=_pct_of(metrics.get("max_drawdown")),
                    sharpe=_ratio(metrics.get("sharpe")),
                    closed_trades=trades if isinstance(trades, int) else None,
                    benchmark_return_pct=_pct_of(bench.get("total_return")),
                    created_at=run.created_at,
                )
            )
        return views
