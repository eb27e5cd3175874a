"""The limiter hands out evenly spaced slots, shared per account, pushed back after EGW00201."""

from __future__ import annotations

import asyncio
import heapq

import pytest

from tools.kis.ratelimit import RateLimiter


class FakeTime:
    """A monotonic clock that only moves when the limiter sleeps."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)


@pytest.mark.anyio
async def test_slots_are_evenly_spaced_not_bursts() -> None:
    t = FakeTime()
    limiter = RateLimiter(18, monotonic=t.monotonic, sleep=t.sleep)
    for _ in range(5):
        await limiter.acquire()
    # the first call goes at once, every next one waits one more 1/18 s slot
    assert t.sleeps == pytest.approx([k / 18 for k in range(1, 5)])


def test_slots_resume_from_now_after_idle() -> None:
    t = FakeTime()
    limiter = RateLimiter(2, monotonic=t.monotonic)
    assert limiter.reserve() == 0
    t.now += 10
    assert limiter.reserve() == 0
    assert limiter.reserve() == pytest.approx(0.5)


def test_penalize_pushes_every_waiter_back() -> None:
    t = FakeTime()
    limiter = RateLimiter(10, monotonic=t.monotonic)
    limiter.reserve()
    limiter.penalize(1.0)
    assert limiter.reserve() == pytest.approx(1.0)
    assert limiter.reserve() == pytest.approx(1.1)


def test_shared_limiter_is_one_per_account() -> None:
    a = RateLimiter.shared("real-test-account-a", 18)
    assert RateLimiter.shared("real-test-account-a", 18) is a
    assert RateLimiter.shared("real-test-account-b", 18) is not a
    with pytest.raises(ValueError):
        RateLimiter(0)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class LateWakeups:
    """Sleeping callers wake in time order on a manual clock; the first wake-up comes late.

    This is a busy event loop at session start: every caller reserved its slot at once, the first
    one's wake-up was delayed, the others woke on time, so the first sends bunch together.
    """

    def __init__(self, first_late_by: float) -> None:
        self.now = 0.0
        self.late = first_late_by
        self._waiting: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = 0

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._seq += 1
        heapq.heappush(self._waiting, (self.now + seconds, self._seq, future))
        await future

    async def run(self, tasks: list[asyncio.Task[float]]) -> None:
        for _ in range(5):
            await asyncio.sleep(0)
        while self._waiting:
            at, _, future = heapq.heappop(self._waiting)
            self.now = max(self.now, at + self.late)
            self.late = 0.0
            future.set_result(None)
            for _ in range(5):
                await asyncio.sleep(0)
        await asyncio.gather(*tasks)


@pytest.mark.anyio
async def test_a_late_first_wakeup_does_not_squeeze_the_next_second() -> None:
    t = LateWakeups(first_late_by=0.05)
    limiter = RateLimiter(18 * 0.97, monotonic=t.monotonic, sleep=t.sleep)
    limiter.penalize(0.1)  # every caller sleeps until its slot

    async def caller() -> float:
        await limiter.acquire()
        return t.now

    tasks = [asyncio.create_task(caller()) for _ in range(40)]
    await t.run(tasks)
    sent = sorted(task.result() for task in tasks)
    crowded = [(a, b) for a, b in zip(sent, sent[18:], strict=False) if b - a < 1.0 - 1e-9]
    assert not crowded  # never 19 sends inside one second: the server's limit is 18
