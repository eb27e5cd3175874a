"""The gateway's per-second limit: one token bucket per app key.

The bucket refills at the steady rate (18/s real, 1/s virtual by default) and holds
``1 + burst`` requests, so a client pacing itself at the documented rate never trips it, while a
client that fires more than one request of burst beyond that rate gets EGW00201. Time comes from
an injected monotonic source, not the market clock, so a frozen test clock does not freeze the
bucket.
"""

from __future__ import annotations

import threading
from collections.abc import Callable


class TokenBucket:
    """Per-key token buckets sharing one rate and capacity."""

    def __init__(self, rate_per_s: float, burst: float, monotonic: Callable[[], float]) -> None:
        """Refill `rate_per_s` tokens a second up to ``1 + burst``."""
        if rate_per_s <= 0:
            raise ValueError("rate_per_s must be positive")
        self.rate = rate_per_s
        self.capacity = 1.0 + max(0.0, burst)
        self._monotonic = monotonic
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        """Take one token for `key`; False when the bucket is empty (answer EGW00201)."""
        now = self._monotonic()
        with self._lock:
            tokens, last = self._buckets.get(key, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - last) * self.rate)
            if tokens < 1.0 - 1e-9:  # float dust from refills must not refuse a paced client
                self._buckets[key] = (tokens, now)
                return False
            self._buckets[key] = (tokens - 1.0, now)
            return True

    def drain(self, key: str) -> None:
        """Empty the bucket of `key` (used by the rate_limit_burst fault)."""
        with self._lock:
            self._buckets[key] = (0.0, self._monotonic())
