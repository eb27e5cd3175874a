"""Fixtures: a simulator on a loopback port at a fixed KRX instant, and a wire-format caller."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import datetime
from typing import Any

import pytest

from core.clock import KST, FixedClock
from tests.tools.kis.simulator.kis_wire import WireCaller
from tools.kis.simulator import SimulatorConfig, SimulatorServer

TRADING_DAY_1030 = datetime(2026, 3, 10, 10, 30, tzinfo=KST)
"""A Tuesday KRX trading day, mid-morning."""


class ManualMonotonic:
    """A monotonic time source the test moves by hand (for the rate limiter)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(TRADING_DAY_1030)


@pytest.fixture
def start_sim(clock: FixedClock) -> Iterator[Callable[..., tuple[SimulatorServer, WireCaller]]]:
    """Start a simulator (config overrides as keywords) and a caller holding a fresh token."""
    with ExitStack() as stack:

        def start(*, token: bool = True, **overrides: Any) -> tuple[SimulatorServer, WireCaller]:
            values: dict[str, Any] = {"clock": clock, "rate_limit_per_s": 1e6}
            values.update(overrides)
            cfg = SimulatorConfig(**values)
            sim = stack.enter_context(SimulatorServer(cfg, port=0))
            caller = WireCaller(sim.base_url, cfg)
            stack.callback(caller.close)
            if token:
                assert caller.issue_token().status_code == 200
            return sim, caller

        yield start
