"""The running account of one risk pass: what is held, what is already proposed, what is left.

Every cap is checked against the portfolio *plus the orders proposed so far*, so the caps hold
for the whole set of orders, not just each one alone. Conservative on purpose:

- a buy's value is its limit price times its quantity; a market order's is the upper limit
  price (상한가) times its quantity, which is what KIS reserves for a market buy;
- a held position is valued at the last price (at its cost when there is no market data);
- proposed sells free no cash and no exposure for buys: they may not fill, and sale proceeds
  settle T+2.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from agents.risk.limits import RiskLimits
from agents.risk.models import (
    DecisionKind,
    MarketSnapshot,
    OrderOrigin,
    PortfolioSnapshot,
    RiskCode,
    RiskDecision,
)
from core.orders import Side
from tools.krx.costs import CostModel, floor_krw


def halt_decisions(portfolio: PortfolioSnapshot, limits: RiskLimits) -> list[RiskDecision]:
    """Return the halts in force: each one stops every new buy (sells and exits still go)."""
    halts: list[RiskDecision] = []
    equity = portfolio.equity_krw
    start = portfolio.start_of_day_equity_krw
    if start > 0 and (start - equity) * 100 >= limits.daily_loss_halt_pct * start:
        loss = Decimal((start - equity) * 100) / start
        halts.append(
            RiskDecision(
                kind=DecisionKind.HALT,
                code=RiskCode.DAILY_LOSS_HALT,
                reason=(
                    f"equity {equity:,} KRW is {loss:.2f} % below the start of day ({start:,}); "
                    f"the daily-loss halt is {limits.daily_loss_halt_pct} %: no new buys today"
                ),
                before=start,
                after=equity,
            )
        )
    peak = max(portfolio.peak_equity_krw, equity)
    if peak > 0 and (peak - equity) * 100 >= limits.drawdown_halt_pct * peak:
        drawdown = Decimal((peak - equity) * 100) / peak
        halts.append(
            RiskDecision(
                kind=DecisionKind.HALT,
                code=RiskCode.DRAWDOWN_HALT,
                reason=(
                    f"equity {equity:,} KRW is {drawdown:.2f} % below its peak ({peak:,}); "
                    f"the drawdown halt is {limits.drawdown_halt_pct} %: no new buys"
                ),
                before=peak,
                after=equity,
            )
        )
    return halts


class Book:
    """Exposure and cash bookkeeping for one risk pass; `clamp_*` apply the caps in order."""

    def __init__(
        self,
        portfolio: PortfolioSnapshot,
        market: Mapping[str, MarketSnapshot],
        limits: RiskLimits,
        cost_model: CostModel,
    ) -> None:
        """Start from the portfolio with nothing proposed yet."""
        self.portfolio = portfolio
        self.market = market
        self.limits = limits
        self.cost_model = cost_model
        equity = Decimal(portfolio.equity_krw)
        self.ticker_cap_krw = floor_krw(equity * limits.max_ticker_exposure_pct / 100)
        self.gross_cap_krw = floor_krw(equity * limits.max_gross_exposure_pct / 100)
        self.committed_cash_krw = 0
        self.pending_buy_krw: dict[str, int] = {}
        self.pending_sell_qty: dict[str, int] = {}
        # Neither the portfolio nor the market moves during a pass: value the holdings once
        # (a pass over 100 tickers asks for the gross exposure at every buy).
        self.held_total_krw = sum(self.held_value(t) for t in portfolio.positions)

    # --- what we hold and have proposed --------------------------------------------------
    def held_qty(self, ticker: str) -> int:
        """Return the shares held of a ticker (0 if none)."""
        holding = self.portfolio.positions.get(ticker)
        return holding.qty if holding else 0

    def sellable_qty(self, ticker: str) -> int:
        """Return the shares of a ticker the broker lets us sell now (0 if none held)."""
        holding = self.portfolio.positions.get(ticker)
        return holding.sellable if holding else 0

    def held_value(self, ticker: str) -> int:
        """Return a position's value at the last price, or at cost without market data."""
        holding = self.portfolio.positions.get(ticker)
        if holding is None:
            return 0
        snapshot = self.market.get(ticker)
        if snapshot is None:
            return holding.cost_basis_krw
        return holding.qty * snapshot.last_price_krw

    def ticker_exposure(self, ticker: str) -> int:
        """Return held value plus proposed buys of one ticker."""
        return self.held_value(ticker) + self.pending_buy_krw.get(ticker, 0)

    def gross_exposure(self) -> int:
        """Return the value of every position plus every proposed buy."""
        return self.held_total_krw + sum(self.pending_buy_krw.values())

    def spendable_cash(self) -> int:
        """Return the cash that buys may still use, after the buffer and proposed buys."""
        return self.portfolio.cash_krw - self.limits.min_cash_buffer_krw - self.committed_cash_krw

    def buy_cost(self, qty: int, price: int) -> int:
        """Return what a buy reserves: value plus commission."""
        value = qty * price
        return value + self.cost_model.commission(value)

    def commit(self, ticker: str, side: Side, qty: int, check_price: int) -> None:
        """Record a proposed order so later caps see it."""
        if side is Side.BUY:
            self.committed_cash_krw += self.buy_cost(qty, check_price)
            self.pending_buy_krw[ticker] = self.pending_buy_krw.get(ticker, 0) + qty * check_price
        else:
            self.pending_sell_qty[ticker] = self.pending_sell_qty.get(ticker, 0) + qty

    # --- caps ----------------------------------------------------------------------------
    def affordable_qty(self, price: int) -> int:
        """Return the most shares whose value plus commission fits in the spendable cash."""
        cash = self.spendable_cash()
        if cash <= 0:
            return 0
        qty = floor_krw(Decimal(cash) / (price * (1 + self.cost_model.commission_rate)))
        while qty > 0 and self.buy_cost(qty, price) > cash:
            qty -= 1
        while self.buy_cost(qty + 1, price) <= cash:
            qty += 1
        return qty

    def clamp_buy(
        self, ticker: str, qty: int, check_price: int, decisions: list[RiskDecision]
    ) -> int:
        """Cut a buy to the per-order, per-ticker, gross and cash caps; 0 means denied.

        Each cut is recorded as a clamp; the cap that leaves no share is recorded as a denial.
        """
        exposure = self.ticker_exposure(ticker)
        gross = self.gross_exposure()
        caps = (
            (
                RiskCode.MAX_ORDER_VALUE,
                self.limits.max_order_krw // check_price,
                f"order value capped at {self.limits.max_order_krw:,} KRW",
            ),
            (
                RiskCode.TICKER_EXPOSURE,
                max(self.ticker_cap_krw - exposure, 0) // check_price,
                f"{ticker} exposure {exposure:,} KRW of a {self.ticker_cap_krw:,} KRW cap "
                f"({self.limits.max_ticker_exposure_pct} % of equity)",
            ),
            (
                RiskCode.GROSS_EXPOSURE,
                max(self.gross_cap_krw - gross, 0) // check_price,
                f"gross exposure {gross:,} KRW of a {self.gross_cap_krw:,} KRW cap "
                f"({self.limits.max_gross_exposure_pct} % of equity)",
            ),
            (
                RiskCode.CASH,
                self.affordable_qty(check_price),
                f"spendable cash {max(self.spendable_cash(), 0):,} KRW after a "
                f"{self.limits.min_cash_buffer_krw:,} KRW buffer, commission included",
            ),
        )
        return _apply_caps(ticker, Side.BUY, qty, check_price, caps, decisions)

    def clamp_sell(
        self,
        ticker: str,
        qty: int,
        check_price: int,
        origin: OrderOrigin,
        decisions: list[RiskDecision],
    ) -> int:
        """Cut a sell to the shares sellable and not yet being sold; 0 means denied.

        No shorting: held minus already-proposed sells bounds it; then the shares the broker
        lets us sell (held minus what its open sell orders lock, KIS `ord_psbl_qty`), since a
        sell for more is refused outright. Unless it is a protective exit, the per-order value
        cap applies too.
        """
        pending = self.pending_sell_qty.get(ticker, 0)
        held = self.held_qty(ticker)
        free = held - pending
        sellable = self.sellable_qty(ticker)
        caps: list[tuple[RiskCode, int, str]] = [
            (
                RiskCode.HELD_QTY,
                max(free, 0),
                f"{max(free, 0):,} shares held and not already being sold (no shorting)",
            ),
            (
                RiskCode.SELLABLE_QTY,
                max(sellable - pending, 0),
                f"{held - sellable:,} of {held:,} shares held are locked by open sell orders "
                f"at the broker; {max(sellable - pending, 0):,} can be sold",
            ),
        ]
        if not origin.is_exit:
            caps.append(
                (
                    RiskCode.MAX_ORDER_VALUE,
                    self.limits.max_order_krw // check_price,
                    f"order value capped at {self.limits.max_order_krw:,} KRW",
                )
            )
        return _apply_caps(ticker, Side.SELL, qty, check_price, caps, decisions)


def _apply_caps(
    ticker: str,
    side: Side,
    qty: int,
    price: int,
    caps: tuple[tuple[RiskCode, int, str], ...] | list[tuple[RiskCode, int, str]],
    decisions: list[RiskDecision],
) -> int:
    for code, cap, why in caps:
        if qty <= cap:
            continue
        if cap <= 0:
            decisions.append(
                RiskDecision(
                    kind=DecisionKind.DENY,
                    code=code,
                    reason=f"{why}: not one share at {price:,} KRW fits; order denied",
                    ticker=ticker,
                    side=side,
                    field="qty",
                    before=qty,
                    after=0,
                )
            )
            return 0
        decisions.append(
            RiskDecision(
                kind=DecisionKind.CLAMP,
                code=code,
                reason=f"{why}: quantity cut from {qty:,} to {cap:,} at {price:,} KRW",
                ticker=ticker,
                side=side,
                field="qty",
                before=qty,
                after=cap,
            )
        )
        qty = cap
    return qty
