"""Fixtures for the KIS client tests: a fixed clock, the fake server and a client wired to it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import pytest
from pydantic import SecretStr

from core.clock import KST, FixedClock
from tests.tools.kis.fake_kis import FakeKIS
from tools.kis.client import KISClient
from tools.kis.config import KISConfig
from tools.kis.endpoints import Mode
from tools.kis.ratelimit import RateLimiter

ACCOUNT = "73918264"


class SleepRecorder:
    """An async sleep that returns at once and remembers what it was asked (and moves a clock)."""

    def __init__(self, clock: FixedClock | None = None) -> None:
        self.calls: list[float] = []
        self.clock = clock

    async def __call__(self, seconds: float) -> None:
        from datetime import timedelta

        self.calls.append(seconds)
        if self.clock is not None:
            self.clock.advance(timedelta(seconds=seconds))


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2026, 11, 26, 10, 0, 0, tzinfo=KST))


@pytest.fixture
def fake(shared_dir: Path, clock: FixedClock) -> FakeKIS:
    return FakeKIS(samples=shared_dir / "kis-samples", clock=clock)


@pytest.fixture
def sleeps(clock: FixedClock) -> SleepRecorder:
    return SleepRecorder(clock)


@pytest.fixture
def config(fake: FakeKIS, tmp_path: Path) -> KISConfig:
    return KISConfig(
        mode=Mode.REAL,
        app_key=SecretStr(fake.app_key),
        app_secret=SecretStr(fake.app_secret),
        account_no=SecretStr(ACCOUNT),
        base_url="https://kis.test",
        token_cache_dir=tmp_path / "data",
        retry_wait_s=0.01,
        reconcile_delay_s=0.5,
        timeout_s=2.0,
    )


def make_client(
    config: KISConfig, fake: FakeKIS, clock: FixedClock, sleeps: SleepRecorder
) -> KISClient:
    limiter = RateLimiter(10_000, sleep=sleeps)
    return KISClient(config, transport=fake.transport(), clock=clock, limiter=limiter, sleep=sleeps)


@pytest.fixture
async def client(
    config: KISConfig, fake: FakeKIS, clock: FixedClock, sleeps: SleepRecorder
) -> AsyncIterator[KISClient]:
    async with make_client(config, fake, clock, sleeps) as kis:
        yield kis
