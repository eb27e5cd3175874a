"""`trader data collect`: fill the database with what sessions and backtests read.

Daily bars (KIS's adjusted daily chart) up to the last closed session, KIS financial and
stability ratios and OpenDART annual reports with the day each became known, and the ECOS/FRED
series with their periods. Only what the database lacks is fetched; a ticker whose past KIS
re-adjusted (a split, a rights issue) is rewritten. Stopping with Ctrl-C and running again
loses and duplicates nothing.
"""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from core.clock import kst_today
from core.errors import ConfigurationError
from datastore.collector import CollectOptions, CollectReport, TickerDone, default_since
from db import migrate
from trader.cli import clock as cli_clock
from trader.cli.console import cli_errors, console
from trader.cli.session import parse_tickers
from trader.settings import Settings, load_settings
from trader.wiring.context import serves_demo
from trader.wiring.datastore import listed_tickers, open_collector

app = typer.Typer(help="Collect market data into the database.", no_args_is_help=True)


def _since(text: str | None, settings: Settings, today: date) -> date:
    if text is None:
        return default_since(today, settings.collect_years)
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ConfigurationError(f"--since must be a date like 2020-01-02, not {text!r}") from None


async def _collect(
    settings: Settings,
    tickers: tuple[str, ...] | None,
    *,
    universe: bool,
    demo: bool,
    since_text: str | None,
    options: dict[str, bool],
) -> CollectReport:
    clock = cli_clock.session_clock()
    since = _since(since_text, settings, kst_today(clock))
    async with open_collector(settings, demo=demo, clock=clock) as collector:
        chosen = list(tickers or ())
        if universe:
            chosen = await listed_tickers(collector, demo=demo or serves_demo(settings))
        elif not chosen:
            chosen = list(settings.watchlist)
        console.print(
            f"collecting {len(chosen)} tickers since {since} "
            f"(bars up to {collector.last_closed()}, {collector.concurrency} at a time)"
        )
        with Progress(
            TextColumn("collecting"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[last]}"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        ) as bar:
            task = bar.add_task("tickers", total=len(chosen), last="")

            def advance(done: TickerDone) -> None:
                state = "failed" if done.error else (done.bars.status if done.bars else "done")
                bar.update(task, advance=1, last=f"{done.ticker} {state}")

            return await collector.run(
                chosen, CollectOptions(since=since, **options), progress=advance
            )


def _print(report: CollectReport) -> None:
    table = Table(title="collected", show_header=False)
    table.add_row("tickers", str(report.tickers))
    table.add_row("bar statuses", ", ".join(f"{k} {v}" for k, v in report.statuses.items()))
    table.add_row("bars written", str(report.bars_written))
    table.add_row("fundamentals written", str(report.fundamentals_written))
    table.add_row("econ rows written", str(report.econ_written))
    table.add_row("re-adjusted tickers", ", ".join(report.readjusted) or "none")
    table.add_row(
        "KIS requests",
        f"{report.requests} in {report.elapsed_s:.1f} s "
        f"({report.requests_per_s:.1f}/s), EGW00201 answers {report.rate_limited}",
    )
    console.print(table)
    for name, reason in sorted(report.failed.items()):
        console.print(f"[yellow]{name}[/]: {reason}")


@app.command()
def collect(
    tickers: Annotated[
        str | None, typer.Option(help="Comma-separated tickers (default: WATCHLIST).")
    ] = None,
    universe: Annotated[
        bool,
        typer.Option("--universe", help="Every listed ticker in OpenDART's company directory."),
    ] = False,
    since: Annotated[
        str | None,
        typer.Option(help="First day of history, YYYY-MM-DD (default: COLLECT_YEARS back)."),
    ] = None,
    demo: Annotated[
        bool, typer.Option("--demo", help="Collect from the built-in market (the simulator).")
    ] = False,
    fundamentals: Annotated[bool, typer.Option(help="KIS financial and stability ratios.")] = True,
    dart: Annotated[bool, typer.Option(help="OpenDART annual reports.")] = True,
    econ: Annotated[bool, typer.Option(help="ECOS and FRED series.")] = True,
) -> None:
    """Fetch what the database lacks: bars, company figures, economic series."""
    with cli_errors():
        settings = load_settings()
        if tickers is not None and universe:
            raise ConfigurationError("give --tickers or --universe, not both")
        chosen = parse_tickers(tickers) if tickers is not None else None
        migrate.upgrade(settings.resolved_database_url)
        try:
            report = asyncio.run(
                _collect(
                    settings,
                    tuple(chosen) if chosen else None,
                    universe=universe,
                    demo=demo,
                    since_text=since,
                    options={"fundamentals": fundamentals, "dart": dart, "econ": econ},
                )
            )
        except KeyboardInterrupt:
            console.print(
                "[yellow]stopped[/]: every finished ticker is stored; run again to continue"
            )
            raise typer.Exit(130) from None
        _print(report)
        if report.failed:
            raise typer.Exit(1)
