"""The `trader` command: assembles the command groups."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from core.errors import ConfigurationError
from trader import __version__
from trader.cli import (
    account,
    approve,
    backtest,
    data,
    db,
    demo,
    evals,
    kis_sim,
    schedule,
    serve,
    session,
)
from trader.cli.console import console
from trader.observability import configure_logging, export_langsmith
from trader.settings import load_settings

app = typer.Typer(
    name="trader",
    help="Market Auto Trader: automated KRX trading through the KIS Open API.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
app.add_typer(db.app, name="db")
app.add_typer(evals.app, name="evals")
app.add_typer(data.app, name="data")
app.add_typer(account.app, name="account")
app.command("backtest")(backtest.backtest)
app.command("kis-sim")(kis_sim.run)
app.add_typer(session.app, name="session")
app.command("approve")(approve.approve)
app.command("demo")(demo.demo)
app.command("serve")(serve.serve)
app.command("schedule")(schedule.schedule)


def _show_version(value: bool) -> None:
    if value:
        console.print(f"trader {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_show_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    """Market Auto Trader: automated KRX trading through the KIS Open API."""
    start_up()


def start_up() -> None:
    """Apply LOG_LEVEL and the LangSmith settings before any command runs.

    A configuration error is left for the command to report (some need no settings at all).
    """
    try:
        settings = load_settings()
    except ConfigurationError:
        return
    configure_logging(settings)
    export_langsmith(settings, os.environ)


if __name__ == "__main__":  # `python -m trader.cli.main`, for subprocesses without the script
    app()
