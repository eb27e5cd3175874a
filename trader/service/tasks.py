"""Background work the service starts and must end cleanly when it stops."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable


async def drain(tasks: Iterable[asyncio.Task[object]], timeout_s: float) -> None:
    """Wait up to `timeout_s` for the tasks, then cancel those still running and let them end.

    A cancelled session-resuming task leaves its session resumable (`trader session resume`),
    as Ctrl-C in a terminal does; waiting for the cancellations keeps shutdown from leaving
    half-finished writes behind.
    """
    pending = set(tasks)
    if not pending:
        return
    _done, late = await asyncio.wait(pending, timeout=timeout_s)
    for task in late:
        task.cancel()
    if late:
        await asyncio.wait(late)
