"""Shared terminal output for the CLI: rich consoles, and errors as one line plus an exit code.

Our own errors become one red line and a non-zero exit instead of a stack trace. Anything else
is a bug: its traceback is shown (without local variables, which may hold secrets), followed by
where to report it, and the exit code is `EXIT_BUG`. The README's exit-code table lists them.
"""

from __future__ import annotations

import traceback
from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console
from rich.markup import escape
from typer.exceptions import TyperException

from core.errors import ConfigurationError, OperationalError, TraderError

console = Console(soft_wrap=True)
err_console = Console(stderr=True, soft_wrap=True)

EXIT_CONFIGURATION = 2
EXIT_OPERATIONAL = 3
EXIT_OTHER = 1
EXIT_BUG = 70
"""An unexpected exception (sysexits' EX_SOFTWARE): a bug to report, not a user error."""
REPORT_BUG = (
    "This is a bug in Market Auto Trader, not a mistake of yours: please report it on the "
    "project's issue tracker with the traceback above and the command you ran."
)

_PASS_THROUGH = (
    typer.Exit,
    typer.Abort,
    TyperException,
)


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
    except _PASS_THROUGH:
        raise  # typer's own exits and usage errors (exit 2) keep their meaning
    except Exception as exc:
        text = "".join(traceback.format_exception(exc)).rstrip()
        err_console.print(escape(text), highlight=False, markup=True)
        err_console.print(f"[bold red]{REPORT_BUG}[/]", highlight=False)
        raise typer.Exit(EXIT_BUG) from None
