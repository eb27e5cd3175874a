"""Built-in strategies: the SMA crossover used to check the engine against other libraries.

The session graph (`--strategy agents`) plugs in through the same `Strategy` protocol:
`evals.backtest.twin.AgentsStrategy` replays its decision part day by day.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from core.errors import ConfigurationError
from core.orders import Side
from evals.backtest.orders import OrderIntent, PortfolioSnapshot, Strategy
from evals.backtest.view import MarketData, PointInTimeView
from tools.krx.costs import CostModel

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from agents.risk.limits import RiskLimits
    from tools.company_figures import CompanyFigures
    from tools.econ.source import EconSource
    from tools.krx.rules import Market

STRATEGY_NAMES = ("agents", "sma")


class SmaCrossover:
    """Long-only SMA crossover on closes, per ticker.

    Golden cross at t: fast[t-1] < slow[t-1] and fast[t] > slow[t] (strict, as backtesting.py's
    `crossover`); a dead cross is the mirror. Flat + golden: buy with an equal share of the cash
    (all of it for one ticker); long + dead: sell everything. Means are sums of the last n
    closes divided by n, which equals pandas' `rolling(n).mean()` on whole-won prices. No state
    is kept between days: the decision depends only on the view and the book.
    """

    name = "sma"

    def __init__(self, fast: int = 10, slow: int = 30) -> None:
        """Cross a `fast`-day mean over a `slow`-day mean."""
        if not 0 < fast < slow:
            raise ConfigurationError(f"SMA needs 0 < fast < slow, got fast={fast} slow={slow}")
        self.fast = fast
        self.slow = slow

    def params(self) -> Mapping[str, Any]:
        """Return the windows."""
        return {"fast": self.fast, "slow": self.slow}

    def cross(self, view: PointInTimeView, ticker: str) -> int:
        """Return +1 on a golden cross today, -1 on a dead cross, 0 otherwise."""
        close = view.history(ticker).close
        n = len(close)
        fast, slow = self.fast, self.slow
        if n < slow + 1:
            return 0
        f_now = float(close[n - fast :].sum()) / fast
        s_now = float(close[n - slow :].sum()) / slow
        f_prev = float(close[n - fast - 1 : n - 1].sum()) / fast
        s_prev = float(close[n - slow - 1 : n - 1].sum()) / slow
        if f_prev < s_prev and f_now > s_now:
            return 1
        if s_prev < f_prev and s_now > f_now:
            return -1
        return 0

    def decide(self, view: PointInTimeView, portfolio: PortfolioSnapshot) -> Sequence[OrderIntent]:
        """Return sells on dead crosses of held tickers and sized buys on golden crosses."""
        sells: list[OrderIntent] = []
        buys: list[str] = []
        for ticker in view.tickers:
            if not view.traded_today(ticker):
                continue
            signal = self.cross(view, ticker)
            held = portfolio.qty(ticker)
            if signal > 0 and not held:
                buys.append(ticker)
            elif signal < 0 and held:
                sells.append(OrderIntent(ticker, Side.SELL, reason="dead cross"))
        if not buys:
            return sells
        # Equal shares of the cash among the tickers not held after today's sells: the j-th buy
        # of the day spends 1/(k-j) of what is left, so each gets cash/k.
        flat = len(view.tickers) - len(portfolio.positions) + len(sells)
        intents = list(sells)
        for j, ticker in enumerate(buys):
            fraction = Decimal(1) / Decimal(max(flat - j, 1))
            intents.append(
                OrderIntent(ticker, Side.BUY, cash_fraction=fraction, reason="golden cross")
            )
        return intents


def build_strategy(
    name: str,
    *,
    fast: int = 10,
    slow: int = 30,
    data: MarketData | None = None,
    llm: BaseChatModel | None = None,
    markets: Mapping[str, Market] | None = None,
    econ: EconSource | None = None,
    figures: CompanyFigures | None = None,
    commission_rate: Decimal | None = None,
    limits: RiskLimits | None = None,
    llm_token_budget: int | None = None,
) -> Strategy:
    """Return the strategy called `name` (one of `STRATEGY_NAMES`).

    `agents` replays the session graph over `data` (required), with `llm` (None: the rules
    reasoner), the listing `markets`, the point-in-time `econ` source and stored KIS ratios
    (`figures`); its risk gate applies
    `limits` (None: the built-in ones) and reserves commission at `commission_rate` (the
    simulated broker's; None: the standard rate), and the LLM may spend `llm_token_budget`
    tokens over the replay (None: no limit). Close it when done
    (`evals.backtest.twin.AgentsStrategy.close`).
    """
    if name == "sma":
        return SmaCrossover(fast, slow)
    if name == "agents":
        if data is None:
            raise ConfigurationError("the agents strategy needs the backtest's data")
        from evals.backtest.twin import AgentsStrategy  # the graph stack loads only when asked for

        costs = None if commission_rate is None else CostModel(commission_rate=commission_rate)
        return AgentsStrategy(
            data,
            llm=llm,
            markets=markets,
            econ=econ,
            figures=figures,
            cost_model=costs,
            limits=limits,
            llm_token_budget=llm_token_budget,
        )
    raise ConfigurationError(
        f"unknown strategy {name!r}; choose one of {', '.join(STRATEGY_NAMES)}"
    )
