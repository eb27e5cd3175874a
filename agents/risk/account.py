"""The gate's view of the account: the broker's `AccountSnapshot` as a `PortfolioSnapshot`.

The broker is the source of truth for cash and positions. The halts compare two equities, so
the conversion lives next to the gate that reads them and puts both on one footing:

- current equity is the broker's own total (cash plus holdings at market value; KIS
  `tot_evlu_amt` counts the D+2 cash, and so does the paper broker);
- start-of-day equity is that same total with the held shares valued at the previous close
  instead of now. Only the holdings' price move since the close separates the two; the cash
  term is the very one in the broker's total, so sale proceeds (or purchases) that have not
  settled yet cannot read as a gain or a loss.

An earlier version took the start of day from the settled deposit (`dnca_tot_amt`) plus the
holdings at the previous close. After yesterday's sale the deposit lacks the proceeds until
D+2 while the total has them, so a 5 % loss read as a gain and the daily-loss halt never fired.

Known limit: shares bought or sold earlier today count at their fill price, not the previous
close, so the gap between the two on today's own trades is not in the daily loss.
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
        prev_closes: today's base price (the previous close) per quoted ticker; a held ticker
            without one is taken at the broker's last price (no move today).
        peak_equity: the stored high-water mark of equity.
    """
    positions: dict[str, Holding] = {}
    value_now = 0
    value_at_close = 0
    for position in account.positions:
        if position.qty <= 0:
            continue
        cost = int(position.avg_price * position.qty)
        positions[position.ticker] = Holding(
            qty=position.qty,
            cost_basis_krw=max(cost, 0),
            # What open sell orders at the broker lock is not sellable (KIS ord_psbl_qty).
            sellable_qty=min(max(position.sellable_qty, 0), position.qty),
        )
        value_now += position.market_value
        base = prev_closes.get(position.ticker, position.last_price)
        value_at_close += base * position.qty
    cash = max(min(account.cash.deposit, account.cash.settled_d2), 0)
    equity = max(account.cash.total_eval, 0)
    return PortfolioSnapshot(
        cash_krw=cash,
        positions=positions,
        equity_krw=equity,
        peak_equity_krw=max(peak_equity, equity),
        start_of_day_equity_krw=max(account.cash.total_eval - value_now + value_at_close, 0),
    )
