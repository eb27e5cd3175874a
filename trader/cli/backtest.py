"""`trader backtest`: replay a strategy over daily bars with the simulated KRX broker."""

from __future__ import annotations

import asyncio
from collections import Counter
from contextlib import ExitStack
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from core.errors import ConfigurationError
from evals.backtest.broker import BrokerConfig, CostMode
from evals.backtest.data import (
    Bars,
    CsvBarSource,
    DailyBarSource,
    DatabaseBarSource,
    KisBarSource,
    load_universe,
)
from evals.backtest.engine import (
    BacktestConfig,
    BacktestResult,
    day_range,
    heap_frozen,
    run_backtest,
)
from evals.backtest.fundamentals import RecordedEcon
from evals.backtest.metrics import SHARPE_CONVENTION, benchmark_metrics, compute_metrics
from evals.backtest.orders import Strategy
from evals.backtest.report import (
    write_equity_csv,
    write_html_report,
    write_orders_csv,
    write_trades_csv,
)
from evals.backtest.slippage import BpsSlippage, NoSlippage, SlippageModel, TickSlippage
from evals.backtest.store import BacktestStore
from evals.backtest.strategies import STRATEGY_NAMES, build_strategy
from evals.backtest.view import MarketData
from tools.krx.costs import DEFAULT_COMMISSION_RATE
from tools.krx.rules import Market
from trader.cli.console import cli_errors, console

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from db.models import SignalStatus

WARNINGS_SHOWN = 3
"""Warnings of one kind for one ticker printed in full; the rest are counted on one line."""
AGENTS_WARMUP_DAYS = 200
"""Calendar days of history loaded before --start for the agents (their indicators need about
60 trading days); the replay itself still starts at --start."""


def _day(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ConfigurationError(f"{option} must be a date YYYY-MM-DD, got {text!r}") from None


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


def _markets(tickers: list[str], etf: str, kosdaq: str) -> dict[str, Market]:
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


def _econ(
    fundamentals: Path | None, macro: Path | None, tickers: list[str], markets: dict[str, Market]
) -> RecordedEcon | None:
    """Load the recorded economic data (before any bars, so a bad file fails fast)."""
    if fundamentals is None and macro is None:
        return None
    econ = RecordedEcon.from_files(fundamentals, macro)
    if fundamentals is not None:
        companies = [t for t in tickers if markets.get(t) is not Market.ETF]
        missing = [t for t in companies if t not in econ.tickers]
        if missing:
            console.print(
                f"no annual filing in {fundamentals} for {', '.join(missing)}: the fundamental "
                "analyst reports data_failed for them",
                style="yellow",
            )
    return econ


def _db_url(db_url: str | None) -> str:
    if db_url:
        return db_url
    from trader.settings import load_settings

    return load_settings().resolved_database_url


def _print_summary(result: BacktestResult) -> None:
    metrics, bench = compute_metrics(result), benchmark_metrics(result)
    table = Table(title="Backtest", show_header=True)
    table.add_column("")
    table.add_column("strategy", justify="right")
    table.add_column("buy & hold", justify="right")

    def pct(v: float | None) -> str:
        return "n/a" if v is None else f"{v * 100:.2f} %"

    ours, theirs = metrics.curve, bench
    table.add_row("total return", pct(ours.total_return), pct(theirs.total_return))
    table.add_row("CAGR", pct(ours.cagr), pct(theirs.cagr))
    table.add_row("volatility (ann.)", pct(ours.volatility), pct(theirs.volatility))
    sharpe = "n/a" if ours.sharpe is None else f"{ours.sharpe:.4f}"
    b_sharpe = "n/a" if theirs.sharpe is None else f"{theirs.sharpe:.4f}"
    table.add_row("Sharpe", sharpe, b_sharpe)
    table.add_row("max drawdown", pct(ours.max_drawdown), pct(theirs.max_drawdown))
    table.add_row("trades closed / open", f"{metrics.closed_trades} / {metrics.open_trades}", "")
    table.add_row("win rate", pct(metrics.win_rate), "")
    table.add_row("exposure", pct(metrics.exposure), "")
    table.add_row("turnover", f"{metrics.turnover:.2f}", "")
    table.add_row("costs paid (KRW)", f"{metrics.costs_paid:,.2f}", "")
    console.print(table)
    console.print(f"Sharpe convention: {SHARPE_CONVENTION}", style="dim")


async def _kis_bars(tickers: list[str], start: date, end: date) -> list[Bars]:
    """Load the universe through the KIS daily chart on one event loop."""
    from trader.settings import load_settings
    from trader.wiring.context import kis_client_for

    client = kis_client_for(load_settings(), demo=False)
    try:
        return await KisBarSource(client).fetch_all(tickers, start, end)
    finally:
        await client.aclose()


def backtest(
    tickers: Annotated[str, typer.Option(help="Comma-separated tickers, e.g. 005930,000660.")],
    start: Annotated[str, typer.Option(help="First trading day, YYYY-MM-DD.")],
    end: Annotated[str, typer.Option(help="Last trading day, YYYY-MM-DD.")],
    data: Annotated[
        Path | None,
        typer.Option(help="Folder of <ticker>.csv / <ticker>_*.csv files (default: the database)."),
    ] = None,
    strategy: Annotated[str, typer.Option(help=f"One of {', '.join(STRATEGY_NAMES)}.")] = "sma",
    fast: Annotated[int, typer.Option(help="SMA fast window (days).")] = 10,
    slow: Annotated[int, typer.Option(help="SMA slow window (days).")] = 30,
    cash: Annotated[int, typer.Option(help="Starting cash, KRW.", min=1)] = 10_000_000,
    commission: Annotated[str, typer.Option(help="Commission per side, as a fraction.")] = str(
        DEFAULT_COMMISSION_RATE
    ),
    no_tax: Annotated[bool, typer.Option("--no-tax", help="Do not charge the sell tax.")] = False,
    parity: Annotated[
        bool,
        typer.Option(
            "--parity",
            help="backtesting.py arithmetic: fractional commission, no tax, no tick/band checks.",
        ),
    ] = False,
    slippage_bps: Annotated[float | None, typer.Option(help="Slippage, basis points.")] = None,
    slippage_ticks: Annotated[int | None, typer.Option(help="Slippage, ticks.")] = None,
    trades_csv: Annotated[Path | None, typer.Option(help="Write the closed trades here.")] = None,
    equity_csv: Annotated[Path | None, typer.Option(help="Write the daily equity here.")] = None,
    orders_csv: Annotated[
        Path | None,
        typer.Option(help="Write every order decided, its fill or rejection, and its reason."),
    ] = None,
    report: Annotated[Path | None, typer.Option(help="Write the HTML report here.")] = None,
    save: Annotated[bool, typer.Option("--save", help="Store the run in the database.")] = False,
    db_url: Annotated[
        str | None, typer.Option(help="Database URL (default: DATABASE_URL / the SQLite file).")
    ] = None,
    kis: Annotated[
        bool,
        typer.Option(
            "--kis",
            help="Read the bars through the KIS daily chart: the configured KIS account, or the "
            "built-in demo market when no KIS keys are set.",
        ),
    ] = False,
    llm: Annotated[
        bool,
        typer.Option(
            "--llm",
            help="Agents judge with the chat model from settings (LLM_PROVIDER) instead of rules.",
        ),
    ] = False,
    llm_cache: Annotated[
        Path | None,
        typer.Option(
            help="Prompt/answer cache of --llm runs (default: DATA_DIR/backtest-llm-cache.sqlite; "
            "delete the file to clear it)."
        ),
    ] = None,
    llm_max_tokens: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Stop an --llm replay once the LLM has spent this many tokens (cached answers "
            "are free, so a rerun with a larger cap pays only for the days not yet asked).",
        ),
    ] = None,
    fundamentals: Annotated[
        Path | None,
        typer.Option(
            help="Annual reports CSV for --strategy agents (format in the README); each report "
            "is used from the day after its publication."
        ),
    ] = None,
    macro: Annotated[
        Path | None,
        typer.Option(
            help="Macro values CSV for --strategy agents: base rate, KRW/USD, CPI (format in "
            "the README)."
        ),
    ] = None,
    etf: Annotated[
        str, typer.Option(help="Comma-separated tickers that are ETFs (no sell tax, macro view).")
    ] = "",
    kosdaq: Annotated[str, typer.Option(help="Comma-separated tickers listed on KOSDAQ.")] = "",
) -> None:
    """Replay a strategy day by day; decisions on day t fill at day t+1's open."""
    with cli_errors():
        first, last = _day(start, "--start"), _day(end, "--end")
        if first > last:
            raise ConfigurationError("--start is after --end")
        names = [t.strip() for t in tickers.split(",") if t.strip()]
        if not names:
            raise ConfigurationError("--tickers is empty")
        if strategy not in STRATEGY_NAMES:
            raise ConfigurationError(
                f"unknown strategy {strategy!r}; choose one of {', '.join(STRATEGY_NAMES)}"
            )
        if llm and strategy != "agents":
            raise ConfigurationError("--llm is for --strategy agents")
        if llm_max_tokens is not None and not llm:
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
        broker = replace(broker, markets=markets)
        if parity and (slippage_bps is not None or slippage_ticks is not None):
            raise ConfigurationError("--parity runs without slippage")
        if data is not None and kis:
            raise ConfigurationError("choose one of --data and --kis")
        econ = _econ(fundamentals, macro, names, markets)
        history_from = first - timedelta(days=AGENTS_WARMUP_DAYS) if strategy == "agents" else first
        source: DailyBarSource
        if kis:
            bars = asyncio.run(_kis_bars(names, history_from, last))
            source_name = "kis:daily-chart"
        else:
            if data is not None:
                source, source_name = CsvBarSource(data), f"csv:{data}"
            else:
                from db.engine import create_db_engine, session_factory

                source = DatabaseBarSource(session_factory(create_db_engine(_db_url(db_url))))
                source_name = "db:market_data"
            bars = load_universe(source, names, history_from, last)
        _print_warnings(bars)
        market = MarketData(bars)
        config = BacktestConfig(cash=cash, broker=broker, start=first, end=last)
        with ExitStack() as stack:
            model = _chat_model(llm_cache, stack) if llm else None
            if model is not None:
                days = len(day_range(market, first, last))
                console.print(
                    f"LLM mode: up to {2 * days * len(names):,} conversations ({len(names)} "
                    f"tickers x {days} days x 2 analysts); cached answers cost nothing"
                    + ("" if llm_max_tokens else "; --llm-max-tokens caps the spend"),
                    highlight=False,
                )
            chosen = build_strategy(
                strategy,
                fast=fast,
                slow=slow,
                data=market,
                llm=model,
                markets=markets,
                econ=econ,
                commission_rate=broker.commission_rate,
                llm_token_budget=llm_max_tokens,
            )
            close = getattr(chosen, "close", None)
            if close is not None:
                stack.callback(close)
            result = _replay(market, chosen, config)
        _print_summary(result)
        _print_failed_opinions(chosen)
        if trades_csv is not None:
            write_trades_csv(result, trades_csv)
            console.print(f"trades written to {trades_csv}")
        if equity_csv is not None:
            write_equity_csv(result, equity_csv)
            console.print(f"equity written to {equity_csv}")
        if orders_csv is not None:
            write_orders_csv(result, orders_csv)
            console.print(f"orders written to {orders_csv}")
        if report is not None:
            write_html_report(result, report)
            console.print(f"report written to {report}")
        if save:
            _save(result, _db_url(db_url), source_name)
        mode = "parity" if broker.cost_mode is CostMode.PARITY else "KRX"
        console.print(
            f"final equity {result.final_equity:,.4f} KRW ({mode} costs)", highlight=False
        )


def _print_warnings(universe: list[Bars]) -> None:
    """Print what the loader repaired or doubts: one line each, a count past a few per kind."""
    for bars in universe:
        by_kind: dict[str, list[str]] = {}
        for warning in bars.warnings:
            by_kind.setdefault(warning.kind, []).append(str(warning))
        for kind, lines in by_kind.items():
            for line in lines[:WARNINGS_SHOWN]:
                console.print(f"warning: {line}", style="yellow", highlight=False, markup=False)
            if len(lines) > WARNINGS_SHOWN:
                console.print(
                    f"warning: ... and {len(lines) - WARNINGS_SHOWN} more {kind} warnings for "
                    f"{bars.ticker}",
                    style="yellow",
                    highlight=False,
                    markup=False,
                )


def _print_failed_opinions(strategy: Strategy) -> None:
    """Say how many analyst opinions failed: the days they fell on had fewer voices."""
    failed: Counter[tuple[str, SignalStatus]] | None = getattr(strategy, "failed_opinions", None)
    if not failed:
        return
    table = Table(title="Analyst opinions that failed (those days were decided without them)")
    table.add_column("analyst")
    table.add_column("status")
    table.add_column("opinions", justify="right")
    for (agent, status), count in sorted(failed.items()):
        table.add_row(agent, status.value, f"{count:,}")
    console.print(table)


def _chat_model(cache_path: Path | None, stack: ExitStack) -> BaseChatModel:
    from agents.llm import build_chat_model
    from agents.llm_cache import CACHE_FILE, LLMAnswerCache, cached
    from trader.settings import load_settings
    from trader.wiring.configs import llm_config

    settings = load_settings()
    model = build_chat_model(llm_config(settings))
    if model is None:
        raise ConfigurationError("--llm needs LLM_PROVIDER (openai or openai-compatible)")
    cache = LLMAnswerCache(cache_path or settings.data_dir / CACHE_FILE)
    stack.callback(cache.close)
    console.print(f"LLM answers cached in {cache.path} ({len(cache)} stored)")
    return cached(model, cache)


def _replay(market: MarketData, strategy: Strategy, config: BacktestConfig) -> BacktestResult:
    with Progress(
        TextColumn("replaying"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task("days", total=len(market))

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        with heap_frozen():
            return run_backtest(market, strategy, config, progress=advance)


def _save(result: BacktestResult, url: str, source_name: str) -> None:
    import sqlalchemy as sa

    from db.engine import create_db_engine, session_factory, transaction

    engine = create_db_engine(url)
    try:
        with transaction(session_factory(engine)) as session:
            run_id = BacktestStore(session).save(result, source_name)
    except sa.exc.OperationalError as exc:
        raise ConfigurationError(
            "cannot store the backtest; is the schema current? run `trader db upgrade`"
        ) from exc
    finally:
        engine.dispose()
    console.print(f"stored as backtest run {run_id}")
