"""Which scheduled runs happen on which day: pure, on an injected calendar and clock.

A run is configured as a KST time and a phase (`08:40 pre_open`). It happens only on KRX
trading days. On a day the market opens late (the year's first trading day opens at 10:00
instead of 09:00), a run configured before the day's open shifts by the delay, so it keeps its
distance to the open (08:40 becomes 09:40); a run at or after the day's open keeps its time.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Protocol

from agents.state import PHASES
from core.clock import KST

REGULAR_OPEN = time(9, 0)
"""KRX's usual opening time (KST)."""

LOOKAHEAD_DAYS = 40
"""How far `next_run` looks for a trading day: longer than any KRX closure (Seollal, Chuseok)."""

DEFAULT_RUNS_TEXT = ("08:40 pre_open", "14:30 regular")
"""Analysis before the open (its approval can come before 09:00), and an afternoon session."""

_RUN = re.compile(r"^(?P<hh>\d{1,2}):(?P<mm>\d{2})\s+(?P<phase>[a-z_]+)$")


class TradingCalendar(Protocol):
    """What the plan asks of a calendar (XKRX, possibly cross-checked with KIS)."""

    def is_trading_day(self, day: date) -> bool:
        """Whether KRX trades on `day`."""
        ...

    def opens_at(self, day: date) -> datetime:
        """When KRX opens on the trading day `day` (aware, KST)."""
        ...


@dataclass(frozen=True, order=True)
class ScheduledRun:
    """One configured run: a time of day in KST and the session phase it starts."""

    at: time
    phase: str

    def __str__(self) -> str:
        """`08:40 pre_open`, the form the SCHEDULE_RUNS setting takes."""
        return f"{self.at.strftime('%H:%M')} {self.phase}"


@dataclass(frozen=True)
class PlannedRun:
    """A run on a given trading day, at the instant it starts (KST)."""

    day: date
    phase: str
    at: datetime
    configured: time
    """The time the run is configured for; `at` differs from it on a late opening."""

    @property
    def shifted(self) -> timedelta:
        """How far the late opening moved the run (zero on an ordinary day)."""
        return self.at - datetime.combine(self.day, self.configured, KST)

    def describe(self) -> str:
        """`2025-01-02 09:40 KST pre_open (08:40 shifted by 1:00:00: late opening)`."""
        text = f"{self.day.isoformat()} {self.at.strftime('%H:%M')} KST {self.phase}"
        if self.shifted:
            text += (
                f" ({self.configured.strftime('%H:%M')} shifted by {self.shifted}: late opening)"
            )
        return text


@dataclass(frozen=True)
class DayPlan:
    """One calendar day: its runs, or why it has none."""

    day: date
    runs: tuple[PlannedRun, ...]
    closed_because: str | None = None


def parse_runs(entries: Iterable[str]) -> tuple[ScheduledRun, ...]:
    """Parse `HH:MM phase` entries, sorted by time.

    Raises:
        ValueError: a malformed entry, an unknown phase, or a phase twice (one session per
            phase a day: a second run of a phase would land on the session the first started).
    """
    runs: list[ScheduledRun] = []
    for raw in entries:
        text = " ".join(raw.split())
        match = _RUN.match(text)
        if match is None:
            raise ValueError(f"{raw!r}: a run is 'HH:MM phase', e.g. '08:40 pre_open'")
        try:
            at = time(int(match["hh"]), int(match["mm"]))
        except ValueError:
            raise ValueError(f"{raw!r}: not a time of day") from None
        phase = match["phase"]
        if phase not in PHASES:
            raise ValueError(f"{raw!r}: phase must be one of {', '.join(PHASES)}")
        runs.append(ScheduledRun(at=at, phase=phase))
    phases = [r.phase for r in runs]
    twice = sorted({p for p in phases if phases.count(p) > 1})
    if twice:
        raise ValueError(f"phase {', '.join(twice)} is scheduled twice; one run per phase a day")
    return tuple(sorted(runs))


DEFAULT_SCHEDULE_RUNS = parse_runs(DEFAULT_RUNS_TEXT)


def plan_day(day: date, runs: Sequence[ScheduledRun], calendar: TradingCalendar) -> DayPlan:
    """The runs of `day`: none on a weekend or holiday; shifted on a late opening."""
    if not calendar.is_trading_day(day):
        why = "weekend" if day.weekday() >= 5 else "KRX holiday"
        return DayPlan(day=day, runs=(), closed_because=why)
    opens = calendar.opens_at(day).astimezone(KST)
    delay = opens - datetime.combine(day, REGULAR_OPEN, KST)
    planned: list[PlannedRun] = []
    for run in runs:
        at = datetime.combine(day, run.at, KST)
        if delay > timedelta(0) and at < opens:
            at += delay
        planned.append(PlannedRun(day=day, phase=run.phase, at=at, configured=run.at))
    return DayPlan(day=day, runs=tuple(sorted(planned, key=lambda p: p.at)))


def plan_days(
    start: date, days: int, runs: Sequence[ScheduledRun], calendar: TradingCalendar
) -> list[DayPlan]:
    """The plans of `days` calendar days from `start`."""
    return [plan_day(start + timedelta(days=i), runs, calendar) for i in range(days)]


def next_run(
    after: datetime, runs: Sequence[ScheduledRun], calendar: TradingCalendar
) -> PlannedRun | None:
    """The first planned run strictly after `after` (None: nothing within LOOKAHEAD_DAYS)."""
    if not runs:
        return None
    start = after.astimezone(KST).date()
    for offset in range(LOOKAHEAD_DAYS):
        for planned in plan_day(start + timedelta(days=offset), runs, calendar).runs:
            if planned.at > after:
                return planned
    return None
