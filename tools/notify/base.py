"""The notifier contract, the notifier that does nothing, and a fan-out to several.

A notifier sends one event and raises `tools.notify.errors.NotifyError` when it could not; it
does not decide what a failure means for the session. `tools.notify.dispatch.Dispatcher` does:
it logs and carries on.
"""

from __future__ import annotations

from typing import Protocol

from tools.notify.errors import NotifyError
from tools.notify.events import Event


class Notifier(Protocol):
    """Sends events somewhere a person reads them."""

    @property
    def channel(self) -> str:
        """A short name for logs (``telegram``, ``webhook``, ``none``)."""
        ...

    async def send(self, event: Event) -> None:
        """Deliver one event's message.

        Raises:
            NotifyError: it was not delivered (the message is free of secrets).
        """
        ...

    async def aclose(self) -> None:
        """Release the notifier's connections."""
        ...


class NullNotifier:
    """Sends nothing: notifications are off (the default)."""

    channel = "none"

    async def send(self, event: Event) -> None:
        """Do nothing."""

    async def aclose(self) -> None:
        """Nothing to release."""


class FanOut:
    """Sends each event to every notifier in turn; one failing does not stop the others."""

    channel = "fan-out"

    def __init__(self, notifiers: tuple[Notifier, ...]) -> None:
        """Send through `notifiers`, in this order."""
        self.notifiers = notifiers

    async def send(self, event: Event) -> None:
        """Send to every notifier, then report the failures (if any).

        Raises:
            NotifyError: at least one notifier failed (the others were still tried); one
                failure is raised as is, several as one error naming each.
        """
        failures: list[Exception] = []
        for notifier in self.notifiers:
            try:
                await notifier.send(event)
            except Exception as exc:
                failures.append(exc)
        if len(failures) == 1:
            raise failures[0]
        if failures:
            raise NotifyError(self.channel, "; ".join(str(f) for f in failures))

    async def aclose(self) -> None:
        """Close every notifier."""
        for notifier in self.notifiers:
            await notifier.aclose()
