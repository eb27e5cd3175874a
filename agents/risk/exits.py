"""Protective exits for held positions: stop-loss and take-profit.

A position whose last price is `stop_loss_pct` below its average cost is sold whole with a
market order (a stop must fill, not wait at a price a falling market has left). One whose price
is `take_profit_pct` above its cost is sold whole with a limit order at the last price, rounded
up to the grid and kept inside today's band.

"Whole" means every share the broker lets us sell (`Holding.sellable`, KIS `ord_psbl_qty`):
shares an open sell order at the broker already offers (a cancel that failed, an order placed
by hand) are locked, and a sell for the full holding would be refused, so the stop would never
execute. The exit is cut to the sellable shares (a clamp in the report) or, when none are,
denied with the reason; the ticker still counts as being exited, so no signal buys it.

Exits reduce risk, so they are allowed under a daily-loss or drawdown halt (halts stop new
buys, never risk-reducing sells), are not cut by the per-order value cap (a capped stop would
leave the rest of the position exposed), and are never dropped by the per-session order cap;
they do take up slots of that cap before any signal order is considered.

The comparison is exact: ``last * qty * 100 <= cost_basis * (100 - stop_loss_pct)`` in
integers and `Decimal`, no floats.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from agents.risk.limits import RiskLimits
from agents.risk.models import (
    DecisionKind,
    MarketSnapshot,
    OrderOrigin,
    PortfolioSnapshot,
    ProposedOrder,
    RiskCode,
    RiskDecision,
    make_client_order_id,
)
from agents.risk.pricing import price_band, snap_limit_price
from core.orders import OrderType, Side


def exit_orders(
    portfolio: PortfolioSnapshot,
    market: Mapping[str, MarketSnapshot],
    limits: RiskLimits,
    *,
    thread_id: str,
    session_date: date | None = None,
) -> tuple[list[ProposedOrder], list[RiskDecision]]:
    """Return the exit orders due on held positions, sorted by ticker, with notes.

    The notes name positions that could not be evaluated (no market data, no cost basis) and
    the exits taken.
    """
    orders: list[ProposedOrder] = []
    decisions: list[RiskDecision] = []
    for ticker in sorted(portfolio.positions):
        holding = portfolio.positions[ticker]
        snapshot = market.get(ticker)
        if snapshot is None:
            decisions.append(
                _note(ticker, RiskCode.UNKNOWN_TICKER, "no market data for this held position")
            )
            continue
        if holding.cost_basis_krw <= 0:
            decisions.append(
                _note(ticker, RiskCode.NO_COST_BASIS, "the position has no recorded cost")
            )
            continue
        value100 = snapshot.last_price_krw * holding.qty * 100
        cost = holding.cost_basis_krw
        avg = cost // holding.qty
        if value100 <= cost * (100 - limits.stop_loss_pct):
            reason = (
                f"stop-loss: last {snapshot.last_price_krw:,} KRW vs average cost {avg:,} KRW "
                f"is at or beyond -{limits.stop_loss_pct} %; sell all {holding.qty:,} at market"
            )
            decisions.append(_note(ticker, RiskCode.STOP_LOSS, reason))
            qty = _sellable(ticker, holding.qty, holding.sellable, decisions)
            if qty:
                orders.append(
                    ProposedOrder(
                        client_order_id=make_client_order_id(thread_id, ticker, Side.SELL),
                        ticker=ticker,
                        side=Side.SELL,
                        order_type=OrderType.MARKET,
                        qty=qty,
                        origin=OrderOrigin.STOP_LOSS,
                        reason=reason + _cut(holding.qty, qty),
                    )
                )
        elif value100 >= cost * (100 + limits.take_profit_pct):
            order = _take_profit(snapshot, holding.qty, avg, limits, thread_id, session_date)
            decisions.append(_note(ticker, RiskCode.TAKE_PROFIT, order.reason))
            qty = _sellable(ticker, holding.qty, holding.sellable, decisions)
            if qty:
                update = {"qty": qty, "reason": order.reason + _cut(holding.qty, qty)}
                orders.append(order.model_copy(update=update))
    return orders, decisions


def _sellable(ticker: str, held: int, sellable: int, decisions: list[RiskDecision]) -> int:
    """Return the shares an exit can sell; record a clamp or a denial when some are locked."""
    if sellable >= held:
        return held
    locked = held - sellable
    why = f"{locked:,} of {held:,} shares held are locked by open sell orders at the broker"
    decisions.append(
        RiskDecision(
            kind=DecisionKind.CLAMP if sellable > 0 else DecisionKind.DENY,
            code=RiskCode.SELLABLE_QTY,
            reason=(
                f"{why}: the exit sells the {sellable:,} sellable"
                if sellable > 0
                else f"{why}: none can be sold, the exit is not proposed (the open order sells)"
            ),
            ticker=ticker,
            side=Side.SELL,
            field="qty",
            before=held,
            after=sellable,
        )
    )
    return sellable


def _cut(held: int, qty: int) -> str:
    return "" if qty == held else f" (cut to the {qty:,} sellable: the rest is locked)"


def _take_profit(
    snapshot: MarketSnapshot,
    qty: int,
    avg: int,
    limits: RiskLimits,
    thread_id: str,
    session_date: date | None,
) -> ProposedOrder:
    band = price_band(snapshot, session_date)
    reason = (
        f"take-profit: last {snapshot.last_price_krw:,} KRW vs average cost {avg:,} KRW is at "
        f"or beyond +{limits.take_profit_pct} %; sell all {qty:,}"
    )
    order_type, price = OrderType.MARKET, None
    if band is not None:
        order_type = OrderType.LIMIT
        price, _ = snap_limit_price(
            snapshot.last_price_krw, Side.SELL, snapshot, band, session_date
        )
    return ProposedOrder(
        client_order_id=make_client_order_id(thread_id, snapshot.ticker, Side.SELL),
        ticker=snapshot.ticker,
        side=Side.SELL,
        order_type=order_type,
        qty=qty,
        limit_price_krw=price,
        origin=OrderOrigin.TAKE_PROFIT,
        reason=reason + (f" at {price:,} KRW" if price is not None else " at market"),
    )


def _note(ticker: str, code: RiskCode, reason: str) -> RiskDecision:
    return RiskDecision(
        kind=DecisionKind.NOTE, code=code, reason=reason, ticker=ticker, side=Side.SELL
    )
