"""The schedule on APScheduler: one job per configured run, fired on the plan's trading days.

Each configured run (`08:40 pre_open`) is an APScheduler job whose trigger asks the plan for
its next time, so weekends, KRX holidays and late openings come from one place. A run starts
only when the database has no session of its (portfolio, date, phase): a restart, a second
scheduler or a session run by hand is never started again. A run that fails is logged and
handed to the notifier, and not retried: a person looks at it (`trader session resume`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.base import BaseTrigger

from agents.state import thread_id_for
from core.clock import KST, Clock
from trader.schedule.ledger import Started
from trader.schedule.plan import PlannedRun, ScheduledRun, TradingCalendar, next_run, plan_day

log = logging.getLogger(__name__)

StartRun = Callable[[PlannedRun, str, str], str]
"""Start a run's session: (planned run, thread id, session phase) -> a one-line outcome."""
FindStarted = Callable[[PlannedRun, str], Started | None]
"""The session a run (in its session phase) already has in the database, if any."""


class EventKind(StrEnum):
    """What went wrong with a scheduled run."""

    FAILED = "failed"
    """The run started and raised."""
    MISSED = "missed"
    """The scheduler was not running at the run's time (and it is too late to catch up)."""


@dataclass(frozen=True)
class ScheduleEvent:
    """A scheduled run that failed or never started; what a notifier is told."""

    kind: EventKind
    run: PlannedRun
    thread_id: str
    message: str


Notifier = Callable[[ScheduleEvent], None]
"""Told of each failed or missed run (Telegram, a webhook...); its own errors are logged."""


class Outcome(StrEnum):
    """What happened to a run the scheduler was due to start."""

    STARTED = "started"
    SKIPPED = "skipped"
    FAILED = "failed"
    MISSED = "missed"


def session_phase(phase: str, *, demo: bool) -> str:
    """The phase of the session a run starts: on the demo market `demo` (or `demo-<phase>`)."""
    if not demo:
        return phase
    return "demo" if phase == "regular" else f"demo-{phase}"


class PlanTrigger(BaseTrigger):  # type: ignore[misc]  # apscheduler 3 is untyped
    """Fire one configured run on the plan's times: trading days only, shifted on late opens."""

    def __init__(self, run: ScheduledRun, calendar: TradingCalendar) -> None:
        """Follow `run` on `calendar`."""
        self.run = run
        self.calendar = calendar

    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None:
        """The first planned time after the previous fire, or at or after `now` at first."""
        after = previous_fire_time or now - timedelta(microseconds=1)
        planned = next_run(after, [self.run], self.calendar)
        return planned.at if planned else None

    def __str__(self) -> str:
        """`plan[08:40 pre_open]`, in APScheduler's job listings."""
        return f"plan[{self.run}]"


class Schedule:
    """The configured runs of one portfolio, and what starting one involves."""

    def __init__(
        self,
        *,
        runs: Sequence[ScheduledRun],
        calendar: TradingCalendar,
        clock: Clock,
        portfolio: str,
        start_run: StartRun,
        find_started: FindStarted,
        demo: bool = False,
        catch_up: timedelta = timedelta(minutes=30),
        notifier: Notifier | None = None,
    ) -> None:
        """Plan `runs` on `calendar`; start each through `start_run` unless already started."""
        self.runs = tuple(runs)
        self.calendar = calendar
        self.clock = clock
        self.portfolio = portfolio
        self.start_run = start_run
        self.find_started = find_started
        self.demo = demo
        self.catch_up_window = catch_up
        self.notifier = notifier
        self.attempted: set[tuple[date, str]] = set()
        """Runs this process started (or tried to): never started twice, even when they failed
        before the database recorded them."""

    # --- one run ---------------------------------------------------------------------------

    def thread_of(self, planned: PlannedRun) -> tuple[str, str]:
        """(thread id, session phase) of a planned run."""
        phase = session_phase(planned.phase, demo=self.demo)
        return thread_id_for(self.portfolio, planned.day, phase), phase

    def run_planned(self, planned: PlannedRun) -> Outcome:
        """Start `planned` unless its session already exists; report a failure, never retry."""
        thread_id, phase = self.thread_of(planned)
        try:
            already = self.find_started(planned, phase)
        except Exception as exc:
            return self._failed(planned, thread_id, f"could not read the database: {exc!r}")
        if already is None and (planned.day, planned.phase) in self.attempted:
            already = Started(thread_id=thread_id, status="tried by this scheduler")
        if already is not None:
            status = f" (status {already.status})" if already.status else ""
            log.info(
                "skipping %s: session %s already started as thread %s%s",
                planned.describe(),
                thread_id,
                already.thread_id,
                status,
            )
            return Outcome.SKIPPED
        log.info("starting %s as session %s", planned.describe(), thread_id)
        self.attempted.add((planned.day, planned.phase))
        try:
            outcome = self.start_run(planned, thread_id, phase)
        except Exception as exc:
            log.exception("scheduled run %s failed", planned.describe())
            return self._failed(
                planned,
                thread_id,
                f"{type(exc).__name__}: {exc}; not retried "
                f"(see `trader session status {thread_id}`, `trader session resume {thread_id}`)",
            )
        log.info("%s: %s", planned.describe(), outcome)
        return Outcome.STARTED

    def _failed(self, planned: PlannedRun, thread_id: str, message: str) -> Outcome:
        log.error("scheduled run %s failed: %s", planned.describe(), message)
        self._notify(ScheduleEvent(EventKind.FAILED, planned, thread_id, message))
        return Outcome.FAILED

    def _notify(self, event: ScheduleEvent) -> None:
        if self.notifier is None:
            return
        try:
            self.notifier(event)
        except Exception:  # a failing notifier never stops the schedule
            log.exception("the notifier failed on %s of %s", event.kind, event.run.describe())

    # --- the job, the catch-up, the next run -----------------------------------------------

    def fire(self, phase: str) -> Outcome | None:
        """APScheduler's job: start today's run of `phase`, then log the next run."""
        now = self.clock.now()
        today = now.astimezone(KST).date()
        planned = next(
            (p for p in plan_day(today, self.runs, self.calendar).runs if p.phase == phase), None
        )
        outcome = None
        if planned is None:
            log.info("no %s run on %s: not a trading day", phase, today.isoformat())
        else:
            outcome = self.run_planned(planned)
        self.log_next()
        return outcome

    def catch_up(self) -> dict[PlannedRun, Outcome]:
        """At start: today's runs whose time passed; start recent ones, report older ones.

        A run recorded in the database is skipped (a restart between two runs of a day starts
        neither the first again nor anything twice); one whose time passed within the catch-up
        window starts now; an older one is reported as missed and left to a person.
        """
        now = self.clock.now()
        today = now.astimezone(KST).date()
        outcomes: dict[PlannedRun, Outcome] = {}
        for planned in plan_day(today, self.runs, self.calendar).runs:
            if planned.at > now:
                continue
            thread_id, phase = self.thread_of(planned)
            if now - planned.at <= self.catch_up_window:
                outcomes[planned] = self.run_planned(planned)
                continue
            try:
                already = self.find_started(planned, phase)
            except Exception as exc:
                outcomes[planned] = self._failed(
                    planned, thread_id, f"could not read the database: {exc!r}"
                )
                continue
            if already is not None:
                log.info("%s already ran as thread %s", planned.describe(), already.thread_id)
                outcomes[planned] = Outcome.SKIPPED
                continue
            message = (
                f"the scheduler was not running at {planned.at.strftime('%H:%M')} KST; "
                f"start it by hand if still wanted: trader session run"
            )
            log.warning("missed %s: %s", planned.describe(), message)
            self._notify(ScheduleEvent(EventKind.MISSED, planned, thread_id, message))
            outcomes[planned] = Outcome.MISSED
        return outcomes

    def next_run(self) -> PlannedRun | None:
        """The next planned run after the clock's now."""
        return next_run(self.clock.now(), self.runs, self.calendar)

    def log_next(self) -> PlannedRun | None:
        """Log (and return) the next planned run."""
        upcoming = self.next_run()
        if upcoming is None:
            log.warning("no run planned in the coming weeks")
        else:
            log.info("next run: %s", upcoming.describe())
        return upcoming

    def install(self, scheduler: BaseScheduler) -> None:
        """Add one job per configured run; one worker, so runs never overlap."""
        scheduler.add_executor(ThreadPoolExecutor(max_workers=1), alias="sessions")
        for run in self.runs:
            scheduler.add_job(
                self.fire,
                PlanTrigger(run, self.calendar),
                args=[run.phase],
                id=f"run-{run.phase}",
                name=str(run),
                executor="sessions",
                max_instances=1,
                coalesce=True,
                misfire_grace_time=int(self.catch_up_window.total_seconds()) or None,
                replace_existing=True,
            )
