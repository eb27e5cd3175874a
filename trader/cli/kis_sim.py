"""`trader kis-sim`: run the KIS simulator standalone, for demos and for a client on another host.

By default it accepts only its own demo key pair and account (`--print-env` shows them as the
client's settings), whatever `.env` holds: started in a folder whose `.env` has a real KIS key
pair, it must not copy that pair into its store, its tokens or its log. `--keys-from-settings`
opens the account of the configured settings instead (KIS_APP_KEY, KIS_APP_SECRET,
KIS_ACCOUNT_NO). Starting cash, rate limit and commission come from the settings either way.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tools.kis.simulator.config import (
    DEMO_ACCOUNT_NO,
    DEMO_APP_KEY,
    DEMO_APP_SECRET,
)
from tools.kis.simulator.server import SimulatorServer
from trader.cli.console import cli_errors, console
from trader.settings import load_settings
from trader.wiring.configs import simulator_config

DEMO_PRODUCT_CODE = "01"


def demo_env() -> str:
    """The client's settings for the simulator's own key pair and account, as shell exports."""
    return (
        f"export KIS_APP_KEY={DEMO_APP_KEY}\n"
        f"export KIS_APP_SECRET={DEMO_APP_SECRET}\n"
        f"export KIS_ACCOUNT_NO={DEMO_ACCOUNT_NO}-{DEMO_PRODUCT_CODE}"
    )


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
    keys_from_settings: Annotated[
        bool,
        typer.Option(
            "--keys-from-settings",
            help="Accept the configured KIS_APP_KEY/KIS_APP_SECRET/KIS_ACCOUNT_NO instead of "
            "the simulator's own demo key pair and account.",
        ),
    ] = False,
    print_env: Annotated[
        bool,
        typer.Option(
            "--print-env",
            help="Print the client settings for the simulator's own keys (for eval) and exit.",
        ),
    ] = False,
) -> None:
    """Serve a simulated KIS Open API (tokens, quotes, orders, balance) over HTTP."""
    with cli_errors():
        if print_env:
            typer.echo(demo_env())
            return
        if mode not in ("real", "virtual"):
            raise typer.BadParameter("must be 'real' or 'virtual'", param_hint="--mode")
        settings = load_settings()
        cfg = simulator_config(
            settings,
            mode=mode,
            store_path=store,
            always_open=always_open,
            replay_csv=tuple(replay or ()),
        )
        if not keys_from_settings:
            cfg = cfg.with_changes(
                app_key=DEMO_APP_KEY,
                app_secret=DEMO_APP_SECRET,
                account_no=DEMO_ACCOUNT_NO,
                account_product_code=DEMO_PRODUCT_CODE,
            )
        server = SimulatorServer(cfg, port=port, host=host, reset=reset)
        account = f"****{cfg.account_no[-4:]}-{cfg.account_product_code}"
        keys = "the configured key pair" if keys_from_settings else "its own demo key pair"
        console.print(
            f"KIS simulator ({cfg.mode}) on [bold]http://{host}:{port}[/], {keys}, account "
            f"{account}, store {store or 'in memory'}{', always open' if always_open else ''}",
            highlight=False,
        )
        if not keys_from_settings:
            console.print(
                'Point a client at it with: eval "$(trader kis-sim --print-env)"', highlight=False
            )
        server.serve_forever()
