"""Keep API keys out of logs and exception text.

ECOS puts the key in the URL path, FRED and OpenDART in the query string, so any URL we log or
quote would leak it. Two defences:

- `redact(text, *secrets)` for the messages we build ourselves;
- a logging filter on the ``httpx`` logger (which logs every request URL at INFO), fed with every
  key a client is built with, so the library's own request log never shows a key.
"""

from __future__ import annotations

import logging
import threading
from urllib.parse import quote

MASK = "***"
_MIN_SECRET_LEN = 4
"""Shorter strings are not treated as secrets (redacting "a" would mangle every message)."""


def _variants(secret: str) -> set[str]:
    """Return the forms a secret takes on the wire: raw, path-quoted and query-quoted."""
    return {secret, quote(secret, safe=""), quote(secret, safe="").replace("%20", "+")}


def redact(text: str, *secrets: str) -> str:
    """Replace every occurrence of each secret (raw or URL-encoded) in `text` by ``***``."""
    for secret in secrets:
        if len(secret) < _MIN_SECRET_LEN:
            continue
        for form in sorted(_variants(secret), key=len, reverse=True):
            text = text.replace(form, MASK)
    return text


class SecretRedactingFilter(logging.Filter):
    """A logging filter that rewrites records so that no registered secret is printed."""

    def __init__(self) -> None:
        super().__init__()
        self._secrets: set[str] = set()
        self._lock = threading.Lock()

    def add(self, secret: str) -> None:
        """Register one more secret to hide."""
        if len(secret) >= _MIN_SECRET_LEN:
            with self._lock:
                self._secrets.add(secret)

    def filter(self, record: logging.LogRecord) -> bool:
        """Render the message, mask the secrets, and keep the record."""
        with self._lock:
            secrets = tuple(self._secrets)
        if not secrets:
            return True
        message = record.getMessage()
        cleaned = redact(message, *secrets)
        if cleaned != message:
            record.msg = cleaned
            record.args = None
        return True


_FILTER = SecretRedactingFilter()
_INSTALLED_ON: set[str] = set()
_INSTALL_LOCK = threading.Lock()
HTTP_LOGGERS = ("httpx",)
"""Loggers that print request URLs. (httpcore logs connections and methods, never URLs.)"""


def protect_secret(secret: str) -> None:
    """Hide `secret` from the HTTP libraries' loggers for the rest of the process."""
    with _INSTALL_LOCK:
        for name in HTTP_LOGGERS:
            if name not in _INSTALLED_ON:
                logging.getLogger(name).addFilter(_FILTER)
                _INSTALLED_ON.add(name)
    _FILTER.add(secret)
