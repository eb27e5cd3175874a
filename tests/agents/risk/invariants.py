"""An independent statement of every risk limit, checked against a finished set of orders.

Written from the rules, not from the gate's code: it recomputes halts, bands, values and caps
from the inputs and asserts that the orders, taken together, respect all of them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal

from agents.risk import MarketSnapshot, PortfolioSnapshot, ProposedOrder, RiskLimits
from core.orders import OrderType, Side
from tools.krx.costs import CostModel
from tools.krx.rules import is_on_tick, price_limits


def buys_halted(portfolio: PortfolioSnapshot, limits: RiskLimits) -> bool:
    """Tell whether a daily-loss or drawdown halt is in force."""
    start, equity = portfolio.start_of_day_equity_krw, portfolio.equity_krw
    peak = max(portfolio.peak_equity_krw, equity)
    daily = start > 0 and Decimal(start - equity) / start * 100 >= limits.daily_loss_halt_pct
    drawdown = peak > 0 and Decimal(peak - equity) / peak * 100 >= limits.drawdown_halt_pct
    return daily or drawdown


def held_value(
    ticker: str, portfolio: PortfolioSnapshot, market: Mapping[str, MarketSnapshot]
) -> int:
    """Value a position at the last price, or at its cost without market data."""
    holding = portfolio.positions[ticker]
    snapshot = market.get(ticker)
    return holding.qty * snapshot.last_price_krw if snapshot else holding.cost_basis_krw


def assert_orders_respect_limits(
    orders: Sequence[ProposedOrder],
    portfolio: PortfolioSnapshot,
    market: Mapping[str, MarketSnapshot],
    limits: RiskLimits,
    cost_model: CostModel | None = None,
) -> None:
    """Fail with the broken rule if any order, or the orders together, break a limit."""
    costs = cost_model or CostModel()
    equity = Decimal(portfolio.equity_krw)
    ticker_cap = equity * limits.max_ticker_exposure_pct / 100
    gross_cap = equity * limits.max_gross_exposure_pct / 100
    halted = buys_halted(portfolio, limits)
    spent = 0
    bought: dict[str, int] = {}
    sold: dict[str, int] = {}
    ids = [o.client_order_id for o in orders]
    assert len(set(ids)) == len(ids), "client order ids repeat"
    exits = sum(1 for o in orders if o.origin.is_exit)
    assert len(orders) <= max(limits.max_orders_per_session, exits), "too many orders"

    for o in orders:
        assert isinstance(o.qty, int) and o.qty > 0, f"{o.ticker}: quantity {o.qty}"
        assert o.ticker in market, f"{o.ticker}: ordered without market data"
        snapshot = market[o.ticker]
        lower, upper = price_limits(snapshot.prev_close_krw, snapshot.market)
        if o.order_type is OrderType.LIMIT:
            price = o.limit_price_krw
            assert price is not None
            assert is_on_tick(price, snapshot.market), f"{o.ticker}: {price} off the grid"
            assert lower <= price <= upper, f"{o.ticker}: {price} outside {lower}-{upper}"
        else:
            assert o.limit_price_krw is None
            price = upper
        value = o.qty * price
        if o.side is Side.BUY:
            assert not halted, f"{o.ticker}: buy under a halt"
            assert not o.origin.is_exit
            assert value <= limits.max_order_krw, f"{o.ticker}: buy of {value} over the cap"
            spent += value + costs.commission(value)
            bought[o.ticker] = bought.get(o.ticker, 0) + value
        else:
            if not o.origin.is_exit:
                assert value <= limits.max_order_krw, f"{o.ticker}: sell of {value} over the cap"
            sold[o.ticker] = sold.get(o.ticker, 0) + o.qty

    if bought:
        assert spent <= portfolio.cash_krw - limits.min_cash_buffer_krw, f"spends {spent}"
        held_total = sum(held_value(t, portfolio, market) for t in portfolio.positions)
        gross = held_total + sum(bought.values())
        assert gross <= gross_cap, f"gross exposure {gross} over {gross_cap}"
    for ticker, value in bought.items():
        exposure = value + (
            held_value(ticker, portfolio, market) if ticker in portfolio.positions else 0
        )
        assert exposure <= ticker_cap, f"{ticker}: exposure {exposure} over {ticker_cap}"
    for ticker, qty in sold.items():
        holding = portfolio.positions.get(ticker)
        assert holding is not None and qty <= holding.qty, f"{ticker}: sells {qty}, short"
        assert qty <= holding.sellable, f"{ticker}: sells {qty} of {holding.sellable} sellable"
