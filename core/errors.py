"""Exceptions shared by every part of the application, grouped by what the caller should do.

The grouping follows one question: *what should the code that catches this do next?*

- `ConfigurationError`: nothing will work until a person fixes the settings. Stop, say which
  variables are wrong.
- `OperationalError`: a dependency is down or inconsistent in a way that needs a person (the
  database cannot be reached, the broker disagrees with our books). Stop the session.
- `TemporaryError`: transient; the same call may succeed if retried (with back-off).
- `RejectedError`: the request itself was refused (an order the broker or the risk gate will not
  take). Record it and move on; retrying the same request is pointless.
- `BusyError`: another process is doing this very work right now (executing the same session).
  Stop this attempt and change nothing; the other process carries on, and the work is not
  failed.

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


class BusyError(TraderError):
    """Another process is doing this work now; stop here, change nothing, mark nothing failed."""


class ExecutorBusyError(BusyError):
    """Someone else is executing this session (holds its executor lease); nothing was sent here.

    Raised when the lease cannot be taken, and when a lease this process held was taken over
    (it lapsed while this process was stalled): either way this process must not send.
    """

    def __init__(
        self, thread_id: str, holder: str | None, until: str | None, *, lost: bool = False
    ):
        """Build the one line an operator sees (the CLI prints it as is).

        Args:
            thread_id: the session.
            holder: who holds the lease now (host:pid:nonce), when known.
            until: when that lease lapses unless renewed (ISO, UTC), when known.
            lost: this process held the lease and lost it.
        """
        who = f"{holder} until {until}" if holder and until else (holder or "unknown")
        if lost:
            text = (
                f"the executor lease of session {thread_id} was taken over ({who}); "
                "this process stopped sending"
            )
        else:
            text = (
                f"another process is executing session {thread_id} (lease held by {who}); "
                "nothing was sent from here"
            )
        super().__init__(text)
        self.thread_id = thread_id
        self.holder = holder
        self.until = until
