"""The gateway's per-second limit: at most N requests of one app key in any 1-second window.

KIS states its limit as requests per second (초당 거래건수: 18 real, 1 virtual). The simulator
counts it the strictest way that statement allows, a *sliding* window: a request is refused
(EGW00201) when accepting it would put more than ``floor(rate) + burst`` accepted requests inside
some 1-second span. Anything that passes a sliding window also passes fixed per-second buckets,
so a client that never trips the simulator never trips either reading of the real server.

A request is stamped when it arrives at the gateway (`arrived_at`, taken before any await), not
when the worker thread gets round to it: queueing inside the simulator must not bunch requests
that the client spaced out. Time comes from an injected monotonic source, not the market clock,
so a frozen test clock does not freeze the window. Refused requests are not counted.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable

WINDOW_S = 1.0
_EPS = 1e-9  # float dust from summed intervals must not refuse a client paced exactly at the rate


class SlidingWindow:
    """Per-key logs of accepted request times, checked against one limit per window."""

    def __init__(self, rate_per_s: float, burst: float, monotonic: Callable[[], float]) -> None:
        """Allow ``floor(rate_per_s) + burst`` requests (at least 1) in any 1-second window."""
        if rate_per_s <= 0:
            raise ValueError("rate_per_s must be positive")
        self.rate = rate_per_s
        self.limit = max(1, math.floor(rate_per_s * WINDOW_S + _EPS) + int(max(0.0, burst)))
        self._monotonic = monotonic
        self._stamps: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def arrived_at(self) -> float:
        """Return the time to stamp a request with, as it arrives."""
        return self._monotonic()

    def allow(self, key: str, at: float | None = None) -> bool:
        """Accept a request of `key` stamped `at` (default: now); False means EGW00201."""
        at = self._monotonic() if at is None else at
        with self._lock:
            recent = [s for s in self._stamps.get(key, []) if s > at - 2 * WINDOW_S]
            candidate = sorted([*recent, at])
            if self._crowded(candidate, at):
                self._stamps[key] = recent
                return False
            self._stamps[key] = candidate
            return True

    def _crowded(self, stamps: list[float], at: float) -> bool:
        """Tell whether some window of `WINDOW_S` holding `at` holds more than `limit` stamps."""
        n = self.limit
        for i in range(len(stamps) - n):
            first, last = stamps[i], stamps[i + n]
            if first <= at <= last and last - first < WINDOW_S - _EPS:
                return True
        return False

    def drain(self, key: str) -> None:
        """Fill the window of `key` so its next requests are refused for a second."""
        now = self._monotonic()
        with self._lock:
            self._stamps[key] = [now] * self.limit
