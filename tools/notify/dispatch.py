"""The dispatch point: where a notification's failure stops, so a session never fails for one.

The session calls `Dispatcher.submit` from wherever it is (an event-loop task, a worker thread:
the executor's needs-review hook is synchronous), which returns at once; the message is sent by
a task on the dispatcher's event loop. A notifier that raises is logged (one redacted line) and
forgotten. `aclose` waits a bounded time for messages still in flight, then closes the notifier.
"""

from __future__ import annotations

import asyncio
import logging

from tools.notify.base import Notifier, NullNotifier
from tools.notify.errors import NotifyError
from tools.notify.events import Event

logger = logging.getLogger(__name__)


class Dispatcher:
    """Sends events through one notifier in the background, swallowing its failures."""

    def __init__(self, notifier: Notifier, *, drain_timeout_s: float = 15.0) -> None:
        """Dispatch through `notifier` on the running event loop.

        Args:
            notifier: where messages go.
            drain_timeout_s: how long `aclose` waits for messages still being sent.

        Must be built inside the event loop the messages are sent from.
        """
        self.notifier = notifier
        self._loop = asyncio.get_running_loop()
        self._tasks: set[asyncio.Task[None]] = set()
        self._drain_timeout_s = drain_timeout_s

    @property
    def enabled(self) -> bool:
        """Whether messages go anywhere (False: notifications are off)."""
        return not isinstance(self.notifier, NullNotifier)

    async def notify(self, event: Event) -> None:
        """Send one event now; never raises (a failure is logged)."""
        try:
            await self.notifier.send(event)
        except NotifyError as exc:
            logger.warning("%s notification (%s) not sent: %s", exc.channel, event.kind, exc.detail)
        except Exception as exc:  # a notifier's bug must not fail a session either
            logger.warning(
                "%s notification (%s) not sent: %s",
                self.notifier.channel,
                event.kind,
                type(exc).__name__,
            )

    def submit(self, event: Event) -> None:
        """Queue one event for sending and return at once; safe from any thread."""
        if not self.enabled:
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self._loop:
            self._start(event)
        else:
            self._loop.call_soon_threadsafe(self._start, event)

    def _start(self, event: Event) -> None:
        task = self._loop.create_task(self.notify(event))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        """Wait (a bounded time) until the queued messages are sent or given up."""
        # A message queued from a worker thread starts on the loop's next turn.
        await asyncio.sleep(0)
        pending = set(self._tasks)
        if not pending:
            return
        _done, late = await asyncio.wait(pending, timeout=self._drain_timeout_s)
        for task in late:
            task.cancel()
        if late:
            logger.warning("%d notification(s) dropped: still unsent at shutdown", len(late))

    async def aclose(self) -> None:
        """Drain the queue, then close the notifier."""
        await self.drain()
        await self.notifier.aclose()
