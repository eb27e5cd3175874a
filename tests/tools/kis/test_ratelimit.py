"""The limiter hands out evenly spaced slots, shared per account, pushed back after EGW00201."""

from __future__ import annotations

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
