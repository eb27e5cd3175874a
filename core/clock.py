"""The injectable clock.

Trading code never calls `datetime.now()` directly: it asks a `Clock`. Production uses
`SystemClock`; tests, the simulator's demo mode and the backtester use `FixedClock` (a manually
advanced clock), so "is the market open?" and "has the approval expired?" are deterministic.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

KST = ZoneInfo("Asia/Seoul")
"""KRX time. Every market rule (sessions, dates of bars, tax dates) is in this zone."""


class Clock(Protocol):
    """Something that tells the time as an aware UTC datetime."""

    def now(self) -> datetime:
        """Return the current instant, timezone-aware, in UTC."""
        ...


class SystemClock:
    """The real wall clock."""

    def now(self) -> datetime:
        """Return the current instant in UTC."""
        return datetime.now(UTC)


class FixedClock:
    """A clock that stands still until told to move; for tests, demos and replays."""

    def __init__(self, start: datetime) -> None:
        """Start at `start`, which must be timezone-aware."""
        if start.tzinfo is None:
            raise ValueError("FixedClock needs a timezone-aware datetime")
        self._now = start.astimezone(UTC)

    def now(self) -> datetime:
        """Return the current (frozen) instant in UTC."""
        return self._now

    def advance(self, delta: timedelta) -> None:
        """Move the clock forward by `delta`."""
        self._now += delta

    def set(self, instant: datetime) -> None:
        """Jump to `instant` (timezone-aware)."""
        if instant.tzinfo is None:
            raise ValueError("FixedClock needs a timezone-aware datetime")
        self._now = instant.astimezone(UTC)


def kst_now(clock: Clock) -> datetime:
    """Return the clock's instant in KRX time."""
    return clock.now().astimezone(KST)


def kst_today(clock: Clock) -> date:
    """Return the KRX calendar date of the clock's instant."""
    return kst_now(clock).date()
