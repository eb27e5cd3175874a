"""The gate's view of the account: the broker's `AccountSnapshot` as a `PortfolioSnapshot`.

The broker is the source of truth for cash and positions. The numbers the halts compare must be
on one footing, so the conversion lives next to the gate that reads them.
"""

from __future__ import annotations

from collections.abc import Mapping

from agents.risk.models import Holding, PortfolioSnapshot
from tools.broker import AccountSnapshot


def portfolio_from_account(
    account: AccountSnapshot, prev_closes: Mapping[str, int], peak_equity: int
) -> PortfolioSnapshot:
    """Return the account as the gate reads it.

    Args:
        account: cash and positions as the broker reports them.
        prev_closes: today's base price (the previous close) per quoted ticker.
        peak_equity: the stored high-water mark of equity.
    """
    positions: dict[str, Holding] = {}
    prev_close_value = 0
    for position in account.positions:
        if position.qty <= 0:
            continue
        cost = int(position.avg_price * position.qty)
        positions[position.ticker] = Holding(qty=position.qty, cost_basis_krw=max(cost, 0))
        base = prev_closes.get(position.ticker, position.last_price)
        prev_close_value += base * position.qty
    cash = max(min(account.cash.deposit, account.cash.settled_d2), 0)
    equity = max(account.cash.total_eval, 0)
    return PortfolioSnapshot(
        cash_krw=cash,
        positions=positions,
        equity_krw=equity,
        peak_equity_krw=max(peak_equity, equity),
        # Equity at the previous close: the daily-loss halt measures today's move from it.
        start_of_day_equity_krw=max(cash + prev_close_value, 0),
    )
