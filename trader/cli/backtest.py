"""`trader backtest`: replay a strategy over daily bars with the simulated KRX broker.

The command only declares its flags, checks them into a `BacktestOptions`
(`trader.cli.backtest_options`), reads the settings once, and hands the run
(`trader.cli.backtest_run`) the typed parts of them it needs.
"""

from __future__ import annotations

from contextlib import ExitStack
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from agents.llm import training_cutoff
from core.errors import ConfigurationError
from evals.backtest.strategies import STRATEGY_NAMES
from tools.krx.costs import DEFAULT_COMMISSION_RATE
from trader.cli.backtest_options import BacktestOptions, LLMOptions, Outputs
from trader.cli.backtest_run import RunEnvironment, run
from trader.cli.console import cli_errors, console

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from tools.kis.client import KISClient
    from trader.settings import Settings


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
    volume_share: Annotated[
        str | None,
        typer.Option(
            "--volume-share",
            help="Share of a day's volume one order may fill, the rest lapses (default 0.1; "
            "0: no cap; --parity has none).",
        ),
    ] = None,
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
        options = BacktestOptions.parse(
            tickers=tickers,
            start=start,
            end=end,
            strategy=strategy,
            fast=fast,
            slow=slow,
            commission=commission,
            no_tax=no_tax,
            parity=parity,
            slippage_bps=slippage_bps,
            slippage_ticks=slippage_ticks,
            volume_share=volume_share,
            data=data,
            kis=kis,
            llm=LLMOptions(enabled=llm, cache=llm_cache, max_tokens=llm_max_tokens),
            fundamentals=fundamentals,
            macro=macro,
            etf=etf,
            kosdaq=kosdaq,
            cash=cash,
            save=save,
            db_url=db_url,
            outputs=Outputs(trades_csv, equity_csv, orders_csv, report),
        )
        run(options, environment(options))


def environment(options: BacktestOptions) -> RunEnvironment:
    """Read the settings, once, into what the run needs of them."""
    from trader.settings import load_settings

    settings = load_settings()

    def open_kis() -> KISClient:
        from trader.wiring.context import kis_client_for  # the venue stack loads only for --kis

        return kis_client_for(settings, demo=False)

    return RunEnvironment(
        database_url=options.db_url or settings.resolved_database_url,
        limits=settings.risk_limits,
        open_kis=open_kis,
        chat_model=partial(_chat_model, settings, options.llm.cache),
        training_cutoff=training_cutoff(settings.llm_model, settings.llm_training_cutoff),
    )


def _chat_model(settings: Settings, cache_path: Path | None, stack: ExitStack) -> BaseChatModel:
    """The settings' chat model behind the answer cache (closed by `stack`)."""
    from agents.llm import build_chat_model
    from agents.llm_cache import CACHE_FILE, LLMAnswerCache, cached
    from trader.wiring.configs import llm_config

    model = build_chat_model(llm_config(settings))
    if model is None:
        raise ConfigurationError("--llm needs LLM_PROVIDER (openai or openai-compatible)")
    cache = LLMAnswerCache(cache_path or settings.data_dir / CACHE_FILE)
    stack.callback(cache.close)
    console.print(f"LLM answers cached in {cache.path} ({len(cache)} stored)")
    return cached(model, cache)
