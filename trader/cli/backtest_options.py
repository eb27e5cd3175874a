"""The options of `trader backtest`, checked once and grouped into one typed model.

The command's 25 flags arrive as strings, numbers and paths; `BacktestOptions.parse` turns them
into what the run needs (dates, the tickers, the simulated broker's config, the outputs to
write) or stops with one `ConfigurationError` line, before anything is loaded. The checks run
in a fixed order so the first problem named is always the same one.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

from core.errors import ConfigurationError
from evals.backtest.broker import BrokerConfig
from evals.backtest.engine import BacktestConfig
from evals.backtest.slippage import BpsSlippage, NoSlippage, SlippageModel, TickSlippage
from evals.backtest.strategies import STRATEGY_NAMES, build_strategy
from tools.krx.rules import Market


@dataclass(frozen=True)
class Outputs:
    """Files the run writes once it is done (None: not written)."""

    trades_csv: Path | None = None
    equity_csv: Path | None = None
    orders_csv: Path | None = None
    report: Path | None = None


@dataclass(frozen=True)
class LLMOptions:
    """How `--strategy agents` judges: rules (`enabled` False) or the settings' chat model."""

    enabled: bool = False
    cache: Path | None = None
    """The prompt/answer cache (None: the data folder's)."""
    max_tokens: int | None = None
    """Tokens the replay may spend (None: no cap)."""


@dataclass(frozen=True)
class BacktestOptions:
    """One backtest, as the command line asked for it."""

    tickers: tuple[str, ...]
    start: date
    end: date
    strategy: str
    fast: int
    slow: int
    cash: int
    broker: BrokerConfig
    """The simulated broker: costs, slippage, and each ticker's listing market."""
    data: Path | None = None
    """A folder of price CSVs (None: the database, or KIS with `kis`)."""
    kis: bool = False
    db_url: str | None = None
    """The database to read bars from and save to (None: the settings')."""
    save: bool = False
    llm: LLMOptions = LLMOptions()
    fundamentals: Path | None = None
    macro: Path | None = None
    outputs: Outputs = Outputs()

    @property
    def markets(self) -> dict[str, Market]:
        """The listing market of each ticker given to --etf / --kosdaq (the rest are KOSPI)."""
        return dict(self.broker.markets)

    @property
    def config(self) -> BacktestConfig:
        """The engine's config: starting cash, broker, and the days replayed."""
        return BacktestConfig(cash=self.cash, broker=self.broker, start=self.start, end=self.end)

    @classmethod
    def parse(
        cls,
        *,
        tickers: str,
        start: str,
        end: str,
        strategy: str,
        fast: int,
        slow: int,
        commission: str,
        no_tax: bool,
        parity: bool,
        slippage_bps: float | None,
        slippage_ticks: int | None,
        volume_share: str | None = None,
        data: Path | None,
        kis: bool,
        llm: LLMOptions,
        fundamentals: Path | None,
        macro: Path | None,
        etf: str,
        kosdaq: str,
        cash: int,
        save: bool,
        db_url: str | None,
        outputs: Outputs,
    ) -> BacktestOptions:
        """Check the flags and group them (cash, saving and the outputs are taken as given).

        Raises:
            ConfigurationError: a flag is malformed or does not go with another.
        """
        first, last = _day(start, "--start"), _day(end, "--end")
        if first > last:
            raise ConfigurationError("--start is after --end")
        names = tuple(t.strip() for t in tickers.split(",") if t.strip())
        if not names:
            raise ConfigurationError("--tickers is empty")
        if strategy not in STRATEGY_NAMES:
            raise ConfigurationError(
                f"unknown strategy {strategy!r}; choose one of {', '.join(STRATEGY_NAMES)}"
            )
        if llm.enabled and strategy != "agents":
            raise ConfigurationError("--llm is for --strategy agents")
        if llm.max_tokens is not None and not llm.enabled:
            raise ConfigurationError("--llm-max-tokens is for --llm runs")
        if (fundamentals is not None or macro is not None) and strategy != "agents":
            raise ConfigurationError("--fundamentals and --macro are for --strategy agents")
        markets = _markets(names, etf, kosdaq)
        if strategy == "sma":
            build_strategy(strategy, fast=fast, slow=slow)  # check the windows before loading
        rate = _rate(commission)
        slip = _slippage(slippage_bps, slippage_ticks)
        if parity:
            broker = BrokerConfig.parity(rate)
        else:
            broker = BrokerConfig(commission_rate=rate, charge_tax=not no_tax, slippage=slip)
        if parity and (slippage_bps is not None or slippage_ticks is not None):
            raise ConfigurationError("--parity runs without slippage")
        if volume_share is not None:
            if parity:
                raise ConfigurationError("--parity runs without a volume cap")
            broker = replace(broker, max_volume_share=_volume_share(volume_share))
        if data is not None and kis:
            raise ConfigurationError("choose one of --data and --kis")
        return cls(
            tickers=names,
            start=first,
            end=last,
            strategy=strategy,
            fast=fast,
            slow=slow,
            broker=replace(broker, markets=markets),
            data=data,
            kis=kis,
            llm=llm,
            fundamentals=fundamentals,
            macro=macro,
            cash=cash,
            save=save,
            db_url=db_url,
            outputs=outputs,
        )


def _day(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ConfigurationError(f"{option} must be a date YYYY-MM-DD, got {text!r}") from None


def _volume_share(text: str) -> Decimal | None:
    """`--volume-share`: a share in (0, 1], or 0 for no cap."""
    try:
        share = Decimal(text)
    except InvalidOperation:
        raise ConfigurationError(
            f"--volume-share must be a share like 0.1 (0: no cap), got {text!r}"
        ) from None
    if not Decimal(0) <= share <= Decimal(1):
        raise ConfigurationError(f"--volume-share must be in [0, 1], got {text}")
    return share or None


def _rate(text: str) -> Decimal:
    try:
        rate = Decimal(text)
    except InvalidOperation:
        raise ConfigurationError(
            f"--commission must be a rate like 0.00015, got {text!r}"
        ) from None
    if not Decimal(0) <= rate < Decimal("0.01"):
        raise ConfigurationError(f"--commission must be in [0, 0.01), got {text}")
    return rate


def _slippage(bps: float | None, ticks: int | None) -> SlippageModel:
    if bps is not None and ticks is not None:
        raise ConfigurationError("give --slippage-bps or --slippage-ticks, not both")
    if bps is not None:
        return BpsSlippage(Decimal(str(bps)))
    if ticks is not None:
        return TickSlippage(ticks)
    return NoSlippage()


def _markets(tickers: tuple[str, ...], etf: str, kosdaq: str) -> dict[str, Market]:
    """The listing market of each ticker named by --etf / --kosdaq (the rest are KOSPI)."""
    markets: dict[str, Market] = {}
    for option, text, market in (("--etf", etf, Market.ETF), ("--kosdaq", kosdaq, Market.KOSDAQ)):
        for ticker in (t.strip() for t in text.split(",")):
            if not ticker:
                continue
            if ticker not in tickers:
                raise ConfigurationError(f"{option} names {ticker}, which is not in --tickers")
            if markets.get(ticker, market) is not market:
                raise ConfigurationError(f"{ticker} is given to both --etf and --kosdaq")
            markets[ticker] = market
    return markets
