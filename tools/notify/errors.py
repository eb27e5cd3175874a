"""Errors of the notifiers, grouped by what the caller does (`core.errors`).

- `NotifyUnavailableError` (TemporaryError): the service could not be reached, timed out or
  answered 5xx/429. A later message may get through.
- `NotifyRejectedError` (RejectedError): the service refused the message (a wrong token or chat,
  a revoked webhook). Sending it again unchanged is pointless; a person should fix the settings.

Messages never carry the bot token or the webhook URL: the notifiers redact them first.
"""

from __future__ import annotations

from core.errors import RejectedError, TemporaryError, TraderError


class NotifyError(TraderError):
    """Base of the notifiers' errors.

    Attributes:
        channel: ``telegram`` or ``webhook``.
        detail: what went wrong, already free of secrets.
    """

    def __init__(self, channel: str, detail: str) -> None:
        """Build the one-line message ``<channel> notification failed: <detail>``."""
        super().__init__(f"{channel} notification failed: {detail}")
        self.channel = channel
        self.detail = detail


class NotifyUnavailableError(NotifyError, TemporaryError):
    """The service was unreachable, too slow, or failed on its side (5xx, 429)."""


class NotifyRejectedError(NotifyError, RejectedError):
    """The service refused the message (4xx, or Telegram's `ok: false`)."""
