"""`trader kis-sim`: run the KIS simulator standalone, for demos and for a client on another host.

It opens the account of the configured settings (KIS_APP_KEY, KIS_APP_SECRET, KIS_ACCOUNT_NO,
STARTING_CASH_KRW; demo values when unset), so the client needs only KIS_BASE_URL pointed here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tools.kis.simulator.config import SimulatorConfig
from tools.kis.simulator.server import SimulatorServer
from trader.cli.console import cli_errors, console
from trader.settings import load_settings


def run(
    port: Annotated[int, typer.Option(help="TCP port to listen on.")] = 8800,
    mode: Annotated[
        str, typer.Option(help="real (TTTC… TRs, 18 req/s) or virtual (VTTC… TRs, 1 req/s).")
    ] = "real",
    store: Annotated[
        Path | None, typer.Option(help="SQLite file of the simulated broker; memory if omitted.")
    ] = None,
    reset: Annotated[bool, typer.Option("--reset", help="Wipe the store before starting.")] = False,
    always_open: Annotated[
        bool, typer.Option("--always-open", help="Keep the market open at any hour (demos).")
    ] = False,
    replay: Annotated[
        list[Path] | None,
        typer.Option(help="Daily-bar CSV to replay instead of generated prices (repeatable)."),
    ] = None,
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
) -> None:
    """Serve a simulated KIS Open API (tokens, quotes, orders, balance) over HTTP."""
    with cli_errors():
        if mode not in ("real", "virtual"):
            raise typer.BadParameter("must be 'real' or 'virtual'", param_hint="--mode")
        settings = load_settings()
        cfg = SimulatorConfig.from_settings(
            settings,
            mode=mode,
            store_path=store,
            always_open=always_open,
            replay_csv=tuple(replay or ()),
        )
        server = SimulatorServer(cfg, port=port, host=host, reset=reset)
        account = f"****{cfg.account_no[-4:]}-{cfg.account_product_code}"
        console.print(
            f"KIS simulator ({cfg.mode}) on [bold]http://{host}:{port}[/], account {account}, "
            f"store {store or 'in memory'}{', always open' if always_open else ''}"
        )
        server.serve_forever()
