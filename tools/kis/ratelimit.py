"""Pace requests evenly so one account never exceeds its KIS requests-per-second.

KIS counts requests per account (app key): 18/s on the real server, 1/s on the virtual one. A
burst followed by a pause still trips the gateway (EGW00201) when it counts with a token bucket,
so the limiter hands out *slots* spaced exactly ``1/rate`` apart: each caller reserves the next
free slot and sleeps until it. Reservation is a few arithmetic steps under a thread lock and
never awaits, so one limiter can be shared by every client of the account in the process, on
any event loop or thread (`RateLimiter.shared`).

After an EGW00201 the caller calls `penalize`, which pushes the next free slot back, so every
waiting caller of the account backs off together instead of each one retrying into the wall.

Slots are reserved ahead, so a caller that wakes late (a busy event loop, typically at session
start when every ticker asks at once) would leave the next callers bunched behind it. The server
counts requests in any 1-second window, so the limiter also keeps the times callers actually
went: no more than ``ceil(rate)`` (18 at 0.97 x 18/s; 1 at 0.97 x 1/s) leave inside
``ceil(rate) / rate`` seconds (1.031 s: the server's second plus the pacing's headroom), and a
caller that would be one too many waits until the oldest of them is that old.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import ClassVar

WINDOW_S = 1.0
"""The span in which KIS counts an account's requests."""


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
        self._sent: deque[float] = deque(maxlen=self._window_cap())

    def _window_cap(self) -> int:
        return max(1, math.ceil(self.rate_per_s - 1e-9))

    def _window_s(self) -> float:
        # `cap` sends span cap/rate seconds when evenly paced (18 / 17.46 = 1.031 s): at least
        # the server's 1 s window, plus the pacing's own headroom for jitter on the way.
        return max(WINDOW_S, self._window_cap() / self.rate_per_s)

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
            self._sent = deque(self._sent, maxlen=self._window_cap())

    def reserve(self) -> float:
        """Reserve the next slot and return how long to wait for it (seconds, >= 0)."""
        with self._lock:
            now = self._monotonic()
            slot = max(now, self._next_slot)
            self._next_slot = slot + self.interval
            return slot - now

    async def acquire(self) -> None:
        """Wait for this caller's slot, and for room in the last second's window."""
        delay = self.reserve()
        if delay > 0:
            await self._sleep(delay)
        while (wait := self._claim_window()) > 0:
            await self._sleep(wait)

    def _claim_window(self) -> float:
        """Record a send now and return 0, or return how long until the window has room."""
        with self._lock:
            now = self._monotonic()
            if len(self._sent) == self._sent.maxlen:
                wait = self._sent[0] + self._window_s() - now
                if wait > 1e-9:  # float dust must not keep a caller spinning
                    return wait
            self._sent.append(now)
            return 0.0

    def penalize(self, seconds: float) -> None:
        """Push the next free slot at least `seconds` into the future (after EGW00201)."""
        with self._lock:
            self._next_slot = max(self._next_slot, self._monotonic() + seconds)
