"""Clocks for CLI tests: real time, moved to a chosen start.

The demo market's prices depend on the day, so session tests pin the day: the clock starts at a
fixed instant and then runs at wall-clock speed (order fills, polls and timeouts behave as in
real use, which a frozen clock would not).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta


class ShiftedClock:
    """`now()` is `start` plus the real time elapsed since the clock was made."""

    def __init__(self, start: datetime) -> None:
        """Start at `start` (timezone-aware)."""
        if start.tzinfo is None:
            raise ValueError("ShiftedClock needs a timezone-aware datetime")
        self._start = start.astimezone(UTC)
        self._origin = time.monotonic()

    def now(self) -> datetime:
        """Return the shifted instant in UTC."""
        return self._start + timedelta(seconds=time.monotonic() - self._origin)
