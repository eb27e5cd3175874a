"""Exceptions shared by every part of the application, grouped by what the caller should do.

The grouping follows one question: *what should the code that catches this do next?*

- `ConfigurationError`: nothing will work until a person fixes the settings. Stop, say which
  variables are wrong.
- `OperationalError`: a dependency is down or inconsistent in a way that needs a person (the
  database cannot be reached, the broker disagrees with our books). Stop the session.
- `TemporaryError`: transient; the same call may succeed if retried (with back-off).
- `RejectedError`: the request itself was refused (an order the broker or the risk gate will not
  take). Record it and move on; retrying the same request is pointless.

Subsystems (the KIS client, the risk gate, ...) subclass these so a caller can either catch the
precise error or the group it belongs to.
"""

from __future__ import annotations


class TraderError(Exception):
    """Base of every exception raised on purpose by this application."""


class ConfigurationError(TraderError):
    """The settings are missing, inconsistent or invalid; a person must fix them."""


class OperationalError(TraderError):
    """A dependency failed in a way that needs a person; the current session must stop."""


class DatabaseUnavailableError(OperationalError):
    """The database did not answer. Carries where we tried to connect, never credentials."""

    def __init__(self, where: str, reason: str) -> None:
        """Build the one-line message an operator sees.

        Args:
            where: a description of the target without secrets, e.g. ``127.0.0.1:5432/trader``.
            reason: a short reason, typically the driver's first message line.
        """
        super().__init__(f"cannot reach the database at {where}: {reason}")
        self.where = where
        self.reason = reason


class TemporaryError(TraderError):
    """A transient failure; retrying (with back-off) may succeed."""


class RejectedError(TraderError):
    """A request was refused on its merits; record the reason, do not retry it unchanged."""
