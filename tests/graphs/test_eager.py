"""`gather_eager`: results in order, waiting work still overlaps, contexts stay apart."""

from __future__ import annotations

import asyncio
import contextvars

import pytest

from graphs.eager import gather_eager

LABEL: contextvars.ContextVar[str] = contextvars.ContextVar("label", default="parent")


async def immediate(value: int) -> int:
    LABEL.set(f"immediate-{value}")
    return value * 10


async def waits(value: int, gate: asyncio.Event, started: list[int]) -> tuple[int, str]:
    LABEL.set(f"waits-{value}")
    started.append(value)
    await gate.wait()
    await asyncio.sleep(0)
    return value, LABEL.get()


def test_results_come_back_in_order_and_waiting_coroutines_run_concurrently() -> None:
    async def main() -> list[object]:
        gate = asyncio.Event()
        started: list[int] = []

        async def release() -> None:
            # Every waiting coroutine must have started before any is let through.
            while len(started) < 3:
                await asyncio.sleep(0)
            gate.set()

        releaser = asyncio.create_task(release())
        out = await gather_eager(
            [immediate(1), waits(2, gate, started), immediate(3), waits(4, gate, started),
             waits(5, gate, started)]
        )  # fmt: skip
        await releaser
        assert LABEL.get() == "parent"  # no coroutine's context leaked into the caller
        return out

    assert asyncio.run(main()) == [10, (2, "waits-2"), 30, (4, "waits-4"), (5, "waits-5")]


class Boom(Exception):
    pass


async def fails() -> int:
    raise Boom("first step failed")


def test_an_exception_propagates_and_unstarted_coroutines_are_closed() -> None:
    async def main() -> None:
        later = immediate(2)
        with pytest.raises(Boom):
            await gather_eager([immediate(1), fails(), later])
        assert later.cr_frame is None  # closed, so no "never awaited" warning

    asyncio.run(main())


def test_cancelling_the_caller_cancels_the_waiting_coroutine() -> None:
    cleaned: list[str] = []

    async def slow() -> int:
        try:
            await asyncio.sleep(3600)
        finally:
            cleaned.append("slow")
        return 1

    async def main() -> None:
        task = asyncio.create_task(gather_eager([slow()]))
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert cleaned == ["slow"]
