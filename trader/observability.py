"""Logging and LangSmith tracing, switched by the settings at an entry point's start-up.

`.env` is read by the settings object only, so variables that third-party code reads from the
process environment (the LangSmith SDK's `LANGSMITH_*`) have no effect unless the entry point
exports them: `export_langsmith` does, from the one settings object. `configure_logging` sends
log lines to stderr at `LOG_LEVEL` for the application's packages (third-party libraries stay
at WARNING unless the level is DEBUG), through a filter that masks every configured secret.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any, TextIO

from pydantic import SecretStr

from tools.kis.masking import MASKER, MaskingFilter
from trader.settings import Settings

APP_LOGGERS = ("agents", "graphs", "tools", "db", "trader", "evals", "bench")
"""The application's top-level packages: their loggers follow LOG_LEVEL."""
LOG_FORMAT = "%(levelname)s %(name)s: %(message)s"


class _StderrHandler(logging.StreamHandler[TextIO]):
    """Writes to whatever `sys.stderr` is at the time (test runners swap it)."""

    def __init__(self) -> None:
        super().__init__()

    @property
    def stream(self) -> TextIO:
        """The current standard error."""
        return sys.stderr

    @stream.setter
    def stream(self, value: TextIO) -> None:
        """Ignore: the stream is always the current stderr."""


_HANDLER: _StderrHandler | None = None


def register_secrets(settings: Settings) -> None:
    """Have every log line mask the settings' secret values (keys, account, API keys)."""
    for name in type(settings).model_fields:
        value = getattr(settings, name)
        if isinstance(value, SecretStr):
            secret = value.get_secret_value().strip()
            MASKER.add(secret)
            if name == "kis_account_no":
                MASKER.add(secret.partition("-")[0])  # the CANO alone, as query strings carry it


def configure_logging(settings: Settings) -> None:
    """Log to stderr at `settings.log_level`, secrets masked (idempotent)."""
    global _HANDLER
    level = logging.getLevelName(settings.log_level)
    register_secrets(settings)
    root = logging.getLogger()
    if _HANDLER is None or _HANDLER not in root.handlers:
        _HANDLER = _StderrHandler()
        _HANDLER.setFormatter(logging.Formatter(LOG_FORMAT))
        _HANDLER.addFilter(MaskingFilter())
        root.addHandler(_HANDLER)
    root.setLevel(level if level == logging.DEBUG else logging.WARNING)
    for name in APP_LOGGERS:
        logging.getLogger(name).setLevel(level)


def export_langsmith(settings: Settings, environ: MutableMapping[str, str]) -> None:
    """Put the LangSmith settings where the SDK reads them (the process environment).

    Tracing is on only when `LANGSMITH_TRACING` is true; an API key alone does not switch it on.
    """
    environ["LANGSMITH_TRACING"] = "true" if settings.langsmith_tracing else "false"
    optional = {
        "LANGSMITH_API_KEY": settings.langsmith_api_key.get_secret_value()
        if settings.langsmith_api_key is not None
        else None,
        "LANGSMITH_ENDPOINT": settings.langsmith_endpoint,
        "LANGSMITH_PROJECT": settings.langsmith_project,
    }
    for name, value in optional.items():
        if value:
            environ[name] = value
    from langsmith import utils as ls_utils

    cached: Any = ls_utils.get_env_var  # the SDK caches what it read from the environment
    if hasattr(cached, "cache_clear"):
        cached.cache_clear()
