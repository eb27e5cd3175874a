"""The dispatch point: where a notification's failure stops, so a session never fails for one.

The session calls `Dispatcher.submit` from wherever it is (an event-loop task, a worker thread:
the executor's needs-review hook is synchronous), which returns at once; the message is sent by
one sender task on the dispatcher's event loop, one after another in the order they were
submitted: a reader sees "new buys are halted" before the review it caused, whatever the network
does. A notifier that raises is logged (one redacted line) and forgotten. `aclose` waits a bounded
time for messages still queued, then closes the notifier.
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
        self._queue: asyncio.Queue[Event] = asyncio.Queue()
        self._sender: asyncio.Task[None] | None = None
        self._in_flight = 0
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
            self._enqueue(event)
        else:
            self._loop.call_soon_threadsafe(self._enqueue, event)

    def _enqueue(self, event: Event) -> None:
        self._queue.put_nowait(event)
        if self._sender is None or self._sender.done():
            self._sender = self._loop.create_task(self._send_in_order())

    async def _send_in_order(self) -> None:
        """Send queued events one at a time, in submission order, until the queue is empty."""
        while not self._queue.empty():
            event = self._queue.get_nowait()
            self._in_flight = 1
            try:
                await self.notify(event)
            finally:
                self._in_flight = 0
                self._queue.task_done()

    async def drain(self) -> None:
        """Wait (a bounded time) until the queued messages are sent or given up."""
        # A message queued from a worker thread is enqueued on the loop's next turn.
        await asyncio.sleep(0)
        sender = self._sender
        if sender is None or sender.done():
            return
        try:
            await asyncio.wait_for(self._queue.join(), timeout=self._drain_timeout_s)
        except TimeoutError:
            unsent = self._in_flight + self._queue.qsize()  # the one being sent, those behind
            sender.cancel()
            while not self._queue.empty():
                self._queue.get_nowait()
                self._queue.task_done()
            logger.warning("%d notification(s) dropped: still unsent at shutdown", unsent)

    async def aclose(self) -> None:
        """Drain the queue, then close the notifier."""
        await self.drain()
        await self.notifier.aclose()
