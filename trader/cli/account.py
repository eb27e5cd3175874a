"""`trader account claim`: keep the real account's sessions in the configured database.

A real account's sessions are tied to the database recorded in its marker
(`db.account_marker`); a session on another database is refused. This command is the deliberate
way to move: it points the marker at `DATABASE_URL` as configured now.
"""

from __future__ import annotations

import typer

from core.errors import ConfigurationError
from db.account_marker import claim_database, marker_path
from trader.cli import clock as cli_clock
from trader.cli.console import cli_errors, console
from trader.settings import TradingMode, load_settings
from trader.wiring.venue import venue_for

app = typer.Typer(help="The real account's marker.", no_args_is_help=True)


@app.command("claim")
def claim() -> None:
    """Keep the real account's sessions in the configured database from now on."""
    with cli_errors():
        settings = load_settings()
        if settings.trading_mode is not TradingMode.KIS_REAL:
            raise ConfigurationError("trader account claim is for TRADING_MODE=kis-real")
        fingerprint = venue_for(settings, demo=False).account
        previous, marker = claim_database(
            settings.state_dir,
            fingerprint,
            settings.resolved_database_url,
            cli_clock.session_clock().now(),
        )
        was = f" (was {previous.database})" if previous else ""
        console.print(
            f"The real account {fingerprint} keeps its sessions in {marker.database}{was}; "
            f"marker {marker_path(settings.state_dir, fingerprint)}",
            highlight=False,
            markup=False,
        )
