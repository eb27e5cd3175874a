"""An approver's edit goes back through the risk rules before it can be approved.

The approver may change an order's quantity, its limit price, or switch it between limit and
market; never its ticker or side (reject it instead). The edited order is checked as the gate
checks its own orders, against the portfolio plus the session's other orders: price on the
grid and inside the band, halts, per-order, per-ticker, gross and cash caps for buys, shares
held and sellable (not locked by open sell orders at the broker) for sells. A too-large edit
is cut (a clamp, shown again to the approver); an edit that leaves nothing, or makes no sense,
is denied. The client order id stays: the order has not been
sent yet, and a re-run of the approval must still find the same id.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

from agents.risk.book import Book, halt_decisions
from agents.risk.limits import RiskLimits
from agents.risk.models import (
    DecisionKind,
    EditResult,
    MarketSnapshot,
    PortfolioSnapshot,
    ProposedOrder,
    RiskCode,
    RiskDecision,
)
from agents.risk.pricing import check_price, price_band, snap_limit_price
from core.orders import OrderType, Side
from tools.krx.costs import CostModel


def recheck_edit(
    order: ProposedOrder,
    new_qty: int | None,
    new_price: int | None,
    *,
    portfolio: PortfolioSnapshot,
    market: Mapping[str, MarketSnapshot],
    limits: RiskLimits,
    other_orders: Sequence[ProposedOrder] = (),
    new_order_type: OrderType | None = None,
    cost_model: CostModel | None = None,
    session_date: date | None = None,
) -> EditResult:
    """Apply the risk rules to an approver's edit of one proposed order.

    Args:
        order: the order as proposed.
        new_qty: the approver's quantity, or None to keep it.
        new_price: the approver's limit price, or None to keep it; giving a price to a market
            order makes it a limit order.
        portfolio: the account, as for `propose_orders`.
        market: today's snapshots.
        limits: the risk limits.
        other_orders: the session's other orders still going ahead; they use up caps and cash.
        new_order_type: switch between limit and market (a market order has no price).
        cost_model: commission used in the cash check.
        session_date: the trading date, for the tick table.

    Returns:
        The order to approve (None when denied) and the clamps or denial that shaped it.
    """
    decisions: list[RiskDecision] = []
    qty = order.qty if new_qty is None else new_qty
    order_type = new_order_type or (OrderType.LIMIT if new_price is not None else order.order_type)
    price = new_price if new_price is not None else order.limit_price_krw
    problem = _invalid(qty, order_type, new_price, price)
    if problem:
        return _denied(order, RiskCode.INVALID_EDIT, problem)
    snapshot = market.get(order.ticker)
    if snapshot is None:
        return _denied(order, RiskCode.UNKNOWN_TICKER, "no market data for this ticker")
    band = price_band(snapshot, session_date)
    if band is None:
        return _denied(order, RiskCode.NO_PRICE_BAND, "no orderable price today")
    limit_price: int | None = None
    if order_type is OrderType.LIMIT and price is not None:
        limit_price, notes = snap_limit_price(price, order.side, snapshot, band, session_date)
        decisions.extend(notes)

    book = Book(portfolio, market, limits, cost_model or CostModel())
    for other in other_orders:
        if other.client_order_id == order.client_order_id:
            continue
        other_snapshot = market.get(other.ticker)
        if other.side is Side.BUY and other_snapshot is None:
            raise ValueError(f"other order {other.client_order_id} has no market data")
        value_at = (
            check_price(other.order_type, other.limit_price_krw, other_snapshot, session_date)
            if other_snapshot is not None
            else 0
        )
        book.commit(other.ticker, other.side, other.qty, value_at)

    value_at = check_price(order_type, limit_price, snapshot, session_date)
    if order.side is Side.BUY:
        halts = halt_decisions(portfolio, limits)
        if halts:
            decisions.extend(halts)
            return _denied(order, halts[0].code, "new buys are halted", decisions)
        qty = book.clamp_buy(order.ticker, qty, value_at, decisions)
    else:
        qty = book.clamp_sell(order.ticker, qty, value_at, order.origin, decisions)
    if qty <= 0:
        return EditResult(order=None, decisions=tuple(decisions))
    edited = ProposedOrder(
        client_order_id=order.client_order_id,
        ticker=order.ticker,
        side=order.side,
        order_type=order_type,
        qty=qty,
        limit_price_krw=limit_price,
        origin=order.origin,
        reason=f"{order.reason}; edited by the approver to {_describe(qty, limit_price)}",
    )
    return EditResult(order=edited, decisions=tuple(decisions))


def _invalid(qty: int, order_type: OrderType, new_price: int | None, price: int | None) -> str:
    if qty <= 0:
        return f"quantity {qty} is not a positive whole number; reject the order instead"
    if order_type is OrderType.MARKET and new_price is not None:
        return "a market order takes no price"
    if order_type is OrderType.LIMIT and price is None:
        return "a limit order needs a price"
    if price is not None and price <= 0:
        return f"price {price} is not positive"
    return ""


def _describe(qty: int, price: int | None) -> str:
    return f"{qty:,} at {price:,} KRW" if price is not None else f"{qty:,} at market"


def _denied(
    order: ProposedOrder,
    code: RiskCode,
    reason: str,
    earlier: Sequence[RiskDecision] = (),
) -> EditResult:
    denial = RiskDecision(
        kind=DecisionKind.DENY,
        code=code,
        reason=f"edit denied: {reason}",
        ticker=order.ticker,
        side=order.side,
    )
    return EditResult(order=None, decisions=(*earlier, denial))
