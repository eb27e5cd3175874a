"""`gather_eager`: `asyncio.gather` that does not make a task of work that never waits.

The analysts judge each ticker in a coroutine and gather them, so that LLM and KIS calls
overlap. In a backtest in rules mode none of those coroutines ever waits: gathering them still
costs a task, a scheduling round and callbacks per ticker, which over 100 tickers x 1,250
replayed days is seconds. `gather_eager` runs each coroutine's first step at once (in a copy of
the context, as a task would); a coroutine that finishes there never becomes a task, and one
that waits continues as a task from where it stopped, so concurrency is what `gather` gives.
"""

from __future__ import annotations

import asyncio
import contextvars
import types
from collections.abc import Coroutine, Generator, Iterable
from typing import Any, TypeVar

T = TypeVar("T")


@types.coroutine
def _resume(coro: Coroutine[Any, Any, T], waiting_on: Any) -> Generator[Any, None, T]:
    """Drive `coro`, which already ran up to a yield of `waiting_on`, to its end.

    The task running this yields what the coroutine yielded and, like any asyncio task, sends
    None back once it is done (or throws a cancellation in), which is forwarded.
    """
    while True:
        try:
            yield waiting_on
        except BaseException as exc:  # forward cancellations and closes to the coroutine
            try:
                waiting_on = coro.throw(exc)
            except StopIteration as stop:
                return stop.value  # type: ignore[no-any-return]
        else:
            try:
                waiting_on = coro.send(None)
            except StopIteration as stop:
                return stop.value  # type: ignore[no-any-return]


async def gather_eager(coros: Iterable[Coroutine[Any, Any, T]]) -> list[T]:
    """Return the coroutines' results in order; those that wait run concurrently as tasks.

    An exception from a coroutine propagates as from `asyncio.gather` (the others go on).
    """
    pending = list(coros)
    results: list[Any] = []
    tasks: dict[int, asyncio.Task[T]] = {}
    for index, coro in enumerate(pending):
        context = contextvars.copy_context()
        try:
            waiting_on = context.run(coro.send, None)
        except StopIteration as stop:
            results.append(stop.value)
            continue
        except BaseException:
            for unstarted in pending[index + 1 :]:
                unstarted.close()
            raise
        results.append(None)
        tasks[index] = asyncio.get_running_loop().create_task(
            _resume(coro, waiting_on),
            context=context,
        )
    if tasks:
        done = await asyncio.gather(*tasks.values())
        for index, value in zip(tasks, done, strict=True):
            results[index] = value
    return results
