"""The work of `trader backtest`: load the bars, build the strategy, replay, report, save.

The command reads the settings once and hands this module what it needs of them as a
`RunEnvironment` (the database URL, the risk limits, how to open the KIS client and the chat
model); nothing here reads the settings again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from agents.risk.limits import RiskLimits
from core.errors import ConfigurationError
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
from evals.backtest.orders import Strategy
from evals.backtest.store import BacktestStore
from evals.backtest.stored_fundamentals import (
    DART,
    KIS,
    StoredFundamentals,
    StoredKisRatios,
    stored_report_tickers,
)
from evals.backtest.strategies import build_strategy
from evals.backtest.view import MarketData
from tools.company_figures import CompanyFigures
from tools.econ.source import EconSource
from trader.cli.backtest_options import BacktestOptions
from trader.cli.backtest_output import (
    print_failed_opinions,
    print_final_equity,
    print_summary,
    print_warnings,
    write_outputs,
)
from trader.cli.console import console

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel
    from sqlalchemy.orm import Session

    from tools.kis.client import KISClient

AGENTS_WARMUP_DAYS = 200
"""Calendar days of history loaded before --start for the agents (their indicators need about
60 trading days); the replay itself still starts at --start."""


@dataclass(frozen=True)
class RunEnvironment:
    """What a backtest takes from the settings, read once by the command."""

    database_url: str
    """Where bars are read from (without --data or --kis) and the run is saved (--save)."""
    limits: RiskLimits
    """The risk limits the agents' gate applies (the settings' `RISK_*`, as live)."""
    open_kis: Callable[[], KISClient]
    """Opens the KIS client --kis reads the daily chart through (the caller closes it)."""
    chat_model: Callable[[ExitStack], BaseChatModel]
    """Builds the --llm chat model, its cache closed by the stack given."""
    training_cutoff: date | None = None
    """The --llm model's training cutoff (None: unknown): earlier days may be remembered."""


def run(options: BacktestOptions, env: RunEnvironment) -> None:
    """Replay the strategy over the bars and report; decisions on day t fill at t+1's open."""
    econ = load_econ(options, env)
    figures = load_company_figures(options, env)
    bars, source_name = load_bars(options, env)
    print_warnings(bars)
    market = MarketData(bars)
    with ExitStack() as stack:
        chosen = open_strategy(options, env, market, econ, stack, figures=figures)
        print_fundamental_gaps(chosen)
        result = replay(market, chosen, options.config)
    note = memorised_note(options, env.training_cutoff)
    if note:
        result.params = {**result.params, "memorised_history": note}
    print_summary(result)
    print_failed_opinions(chosen)
    write_outputs(result, options.outputs)
    if options.save:
        save(result, env.database_url, source_name)
    print_final_equity(result, options.broker.cost_mode)
    if note:
        console.print(f"memorised history: {note}", style="yellow")


def memorised_note(options: BacktestOptions, cutoff: date | None) -> str:
    """Say so when an --llm replay covers days the model may remember (before its cutoff)."""
    if options.strategy != "agents" or not options.llm.enabled:
        return ""
    if cutoff is None:
        return "the model's training cutoff is unknown (set LLM_TRAINING_CUTOFF)"
    if options.start >= cutoff:
        return ""
    last = min(options.end, cutoff)
    return (
        f"the days {options.start}..{last} are before the model's training cutoff {cutoff}: "
        "it may remember what happened next"
    )


def load_econ(options: BacktestOptions, env: RunEnvironment) -> EconSource | None:
    """The replay's company figures and macro values (before any bars: a bad file fails fast).

    `--fundamentals` reads annual reports from a file; without it, the `fundamentals` table
    (`trader data collect`) is read point in time when it holds reports for the tickers (and
    only for the agents, the one strategy that reads them). `--macro` adds the macro file.
    """
    fundamentals, macro = options.fundamentals, options.macro
    if fundamentals is not None:
        return RecordedEcon.from_files(fundamentals, macro)
    recorded_macro = RecordedEcon.from_files(None, macro) if macro is not None else None
    if options.strategy == "agents" and not options.data and not options.kis:
        stored = _stored_fundamentals(options, env, recorded_macro)
        if stored is not None:
            return stored
    return recorded_macro


def _stored_sessions(
    options: BacktestOptions, env: RunEnvironment, source: str
) -> Callable[[], Session] | None:
    """The database's sessions when it stores rows of `source` for the tickers (else None)."""
    import sqlalchemy as sa

    from db.engine import create_db_engine, session_factory

    sessions = session_factory(create_db_engine(env.database_url))
    try:
        if not stored_report_tickers(sessions, options.tickers, source=source):
            return None
    except sa.exc.OperationalError:
        return None  # no schema yet (`trader db upgrade`): nothing stored to read
    return sessions


def _stored_fundamentals(
    options: BacktestOptions, env: RunEnvironment, macro: RecordedEcon | None
) -> StoredFundamentals | None:
    sessions = _stored_sessions(options, env, DART)
    return None if sessions is None else StoredFundamentals(sessions, options.tickers, macro=macro)


def load_company_figures(options: BacktestOptions, env: RunEnvironment) -> CompanyFigures | None:
    """The stored KIS ratios the agents read as of each replayed day, as a live session does.

    Only for the agents replaying the database's bars (`trader data collect` stores both);
    None when no ratios are stored for the tickers.
    """
    if options.strategy != "agents" or options.data or options.kis:
        return None
    sessions = _stored_sessions(options, env, KIS)
    return None if sessions is None else StoredKisRatios(sessions, options.tickers)


def print_fundamental_gaps(strategy: Strategy) -> None:
    """Say once which tickers the fundamental analyst has no data for (the agents only)."""
    missing: tuple[str, ...] = getattr(strategy, "fundamental_missing", ())
    if missing:
        console.print(
            f"the fundamental analyst has no data for {', '.join(missing)}: the market analyst "
            "alone decides them (`trader data collect` stores annual reports, or give "
            "--fundamentals)",
            style="yellow",
            highlight=False,
        )


def load_bars(options: BacktestOptions, env: RunEnvironment) -> tuple[list[Bars], str]:
    """The universe's bars (with the agents' warm-up before --start) and where they came from."""
    first, last = options.start, options.end
    history_from = (
        first - timedelta(days=AGENTS_WARMUP_DAYS) if options.strategy == "agents" else first
    )
    names = list(options.tickers)
    if options.kis:
        return asyncio.run(_kis_bars(env, names, history_from, last)), "kis:daily-chart"
    source: DailyBarSource
    if options.data is not None:
        source, source_name = CsvBarSource(options.data), f"csv:{options.data}"
    else:
        from db.engine import create_db_engine, session_factory

        source = DatabaseBarSource(session_factory(create_db_engine(env.database_url)))
        source_name = "db:market_data"
    return load_universe(source, names, history_from, last), source_name


async def _kis_bars(env: RunEnvironment, tickers: list[str], start: date, end: date) -> list[Bars]:
    """Load the universe through the KIS daily chart on one event loop."""
    client = env.open_kis()
    try:
        return await KisBarSource(client).fetch_all(tickers, start, end)
    finally:
        await client.aclose()


def open_strategy(
    options: BacktestOptions,
    env: RunEnvironment,
    market: MarketData,
    econ: EconSource | None,
    stack: ExitStack,
    *,
    figures: CompanyFigures | None = None,
) -> Strategy:
    """Build the strategy (and its chat model with --llm); the stack closes what they hold."""
    model = env.chat_model(stack) if options.llm.enabled else None
    chosen = build_strategy(
        options.strategy,
        fast=options.fast,
        slow=options.slow,
        data=market,
        llm=model,
        markets=options.markets,
        econ=econ,
        figures=figures,
        commission_rate=options.broker.commission_rate,
        limits=env.limits,
        llm_token_budget=options.llm.max_tokens,
    )
    close = getattr(chosen, "close", None)
    if close is not None:
        stack.callback(close)
    if model is not None:
        days = len(day_range(market, options.start, options.end))
        n = len(options.tickers)
        judged = n - len(getattr(chosen, "fundamental_missing", ()))
        shape = (
            f"{n} tickers x {days} days x 2 analysts"
            if judged == n
            else f"{n} tickers x {days} days for the market analyst, {judged} for the "
            "fundamental analyst"
        )
        console.print(
            f"LLM mode: up to {(n + judged) * days:,} conversations ({shape}); cached answers "
            "cost nothing"
            + ("" if options.llm.max_tokens else "; --llm-max-tokens caps the spend"),
            highlight=False,
        )
    return chosen


def replay(market: MarketData, strategy: Strategy, config: BacktestConfig) -> BacktestResult:
    """Run the engine with a progress bar that disappears when done."""
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


def save(result: BacktestResult, url: str, source_name: str) -> None:
    """Store the run in the database (`trader db upgrade` first)."""
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
