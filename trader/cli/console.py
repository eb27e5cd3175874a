"""Shared terminal output for the CLI: rich consoles, and errors as one line plus an exit code.

Our own errors become one red line and a non-zero exit instead of a stack trace.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console
from rich.markup import escape

from trader.errors import ConfigurationError, OperationalError, TraderError

console = Console(soft_wrap=True)
err_console = Console(stderr=True, soft_wrap=True)

EXIT_CONFIGURATION = 2
EXIT_OPERATIONAL = 3
EXIT_OTHER = 1


@contextmanager
def cli_errors() -> Iterator[None]:
    """Turn a `TraderError` into one line on stderr and a non-zero exit."""
    try:
        yield
    except ConfigurationError as exc:
        err_console.print(
            f"[bold red]configuration error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True
        )
        raise typer.Exit(EXIT_CONFIGURATION) from None
    except OperationalError as exc:
        err_console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False)
        raise typer.Exit(EXIT_OPERATIONAL) from None
    except TraderError as exc:
        err_console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False)
        raise typer.Exit(EXIT_OTHER) from None
