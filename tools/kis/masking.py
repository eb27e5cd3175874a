"""Keep secrets (app key, app secret, token, account number) out of log lines and messages.

`Masker` replaces every registered secret in a string. `MaskingFilter` applies the process-wide
masker to log records; the client installs it on its own logger and on ``httpx`` (which logs
request URLs, and a query string may carry the account number), the simulator on uvicorn's
access log (the same URLs, server side).
"""

from __future__ import annotations

import logging
import threading

MASK = "***"


class Masker:
    """Replaces known secret values in text."""

    def __init__(self) -> None:
        """Start with no secrets."""
        self._secrets: set[str] = set()
        self._lock = threading.Lock()

    def add(self, *values: str) -> None:
        """Register values to hide; very short values are ignored (they would mask noise)."""
        with self._lock:
            self._secrets.update(v for v in values if v and len(v) >= 4)

    def mask(self, text: str) -> str:
        """Return `text` with every registered secret replaced by ``***``."""
        with self._lock:
            secrets = sorted(self._secrets, key=len, reverse=True)
        for secret in secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        return text


MASKER = Masker()
"""The process-wide masker: every KIS client registers its secrets here."""


class MaskingFilter(logging.Filter):
    """A logging filter that masks secrets in the formatted message."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's message with secrets masked; never drops a record."""
        try:
            message = record.getMessage()
        except Exception:  # a broken format string is not ours to fix; leave the record alone
            return True
        masked = MASKER.mask(message)
        if masked == message:
            return True
        if isinstance(record.args, tuple):
            # Keep the arguments' shape where that suffices: some formatters (uvicorn's access
            # log) unpack them.
            msg, args = record.msg, record.args
            record.msg = MASKER.mask(str(msg))
            record.args = tuple(MASKER.mask(a) if isinstance(a, str) else a for a in args)
            if _masked_already(record):
                return True
        record.msg = masked
        record.args = None
        return True


def _masked_already(record: logging.LogRecord) -> bool:
    try:
        message = record.getMessage()
    except Exception:
        return False
    return MASKER.mask(message) == message


_FILTER = MaskingFilter()
_INSTALLED: set[str] = set()
_INSTALL_LOCK = threading.Lock()


def install_log_masking(*logger_names: str) -> None:
    """Attach the masking filter to the named loggers and their handlers (idempotent)."""
    with _INSTALL_LOCK:
        for name in logger_names:
            if name in _INSTALLED:
                continue
            logging.getLogger(name).addFilter(_FILTER)
            _INSTALLED.add(name)
