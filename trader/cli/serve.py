"""`trader serve`: the JSON API (`trader.service`) under Uvicorn."""

from __future__ import annotations

from typing import Annotated

import typer
import uvicorn

from trader.cli import clock as cli_clock
from trader.cli.console import cli_errors, console
from trader.service.app import create_app
from trader.settings import load_settings


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8000,
    demo: Annotated[
        bool,
        typer.Option("--demo", help="Triggered sessions trade on the built-in market."),
    ] = False,
) -> None:
    """Serve the API: sessions, approvals, portfolio and orders (OpenAPI at /docs).

    Every route but /api/health needs 'Authorization: Bearer <SERVICE_AUTH_TOKEN>'.
    """
    with cli_errors():
        settings = load_settings()
        app = create_app(settings, clock=cli_clock.session_clock, demo=demo)
        console.print(
            f"Serving on http://{host}:{port} (API docs: http://{host}:{port}/docs)",
            highlight=False,
        )
    uvicorn.run(app, host=host, port=port, log_config=None)
