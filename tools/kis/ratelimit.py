"""Pace requests evenly so one account never exceeds its KIS requests-per-second.

KIS counts requests per account (app key): 18/s on the real server, 1/s on the virtual one. A
burst followed by a pause still trips the gateway (EGW00201) when it counts with a token bucket,
so the limiter hands out *slots* spaced exactly ``1/rate`` apart: each caller reserves the next
free slot and sleeps until it. Reservation is a few arithmetic steps under a thread lock and
never awaits, so one limiter can be shared by every client of the account in the process, on
any event loop or thread (`RateLimiter.shared`).

After an EGW00201 the caller calls `penalize`, which pushes the next free slot back, so every
waiting caller of the account backs off together instead of each one retrying into the wall.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable
from typing import ClassVar


class RateLimiter:
    """Even spacing of requests at `rate_per_s`, shared by every caller holding it."""

    _registry: ClassVar[dict[str, RateLimiter]] = {}
    _registry_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(
        self,
        rate_per_s: float,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        """Create a limiter.

        Args:
            rate_per_s: requests per second; slots are ``1/rate_per_s`` seconds apart.
            monotonic: the time source (seconds); injected for tests.
            sleep: the async sleep; injected for tests.
        """
        if rate_per_s <= 0:
            raise ValueError("rate_per_s must be positive")
        self.rate_per_s = rate_per_s
        self.interval = 1.0 / rate_per_s
        self._monotonic = monotonic
        self._sleep = sleep
        self._next_slot = 0.0
        self._lock = threading.Lock()

    @classmethod
    def shared(cls, key: str, rate_per_s: float) -> RateLimiter:
        """Return the process-wide limiter of an account, creating it on first use.

        Args:
            key: a non-secret id of the account (`KISConfig.key_fingerprint`).
            rate_per_s: the rate used when the limiter is created; a later, different rate for
                the same key updates it (the slowest setting would be safer, but the settings
                are one object per process, so they agree).
        """
        with cls._registry_lock:
            limiter = cls._registry.get(key)
            if limiter is None:
                limiter = cls._registry[key] = cls(rate_per_s)
            elif limiter.rate_per_s != rate_per_s:
                limiter.set_rate(rate_per_s)
            return limiter

    def set_rate(self, rate_per_s: float) -> None:
        """Change the rate; takes effect from the next reservation."""
        with self._lock:
            self.rate_per_s = rate_per_s
            self.interval = 1.0 / rate_per_s

    def reserve(self) -> float:
        """Reserve the next slot and return how long to wait for it (seconds, >= 0)."""
        with self._lock:
            now = self._monotonic()
            slot = max(now, self._next_slot)
            self._next_slot = slot + self.interval
            return slot - now

    async def acquire(self) -> None:
        """Wait for this caller's slot."""
        delay = self.reserve()
        if delay > 0:
            await self._sleep(delay)

    def penalize(self, seconds: float) -> None:
        """Push the next free slot at least `seconds` into the future (after EGW00201)."""
        with self._lock:
            self._next_slot = max(self._next_slot, self._monotonic() + seconds)
