"""The schedule's runs on a real database (SQLite and PostgreSQL) with an injected clock.

A run starts a session only when the database holds none of its (portfolio, date, phase): the
started run here records its claim exactly as the graph's `load_context` does, so a restart
between two runs of a day finds the first and starts only the second.
"""

from __future__ import annotations

import logging
import threading
from datetime import date, datetime, time, timedelta

import pytest
from apscheduler.schedulers.background import BackgroundScheduler

from core.clock import KST, FixedClock
from db import migrate
from db.engine import create_db_engine, session_factory
from db.models import RunStatus
from db.repositories import PortfolioRepository, SessionClaimRepository
from db.runs import RunRepository
from trader.schedule import ledger
from trader.schedule.days import XkrxCalendar
from trader.schedule.plan import PlannedRun, ScheduledRun, parse_runs
from trader.schedule.runner import (
    EventKind,
    Outcome,
    PlanTrigger,
    Schedule,
    ScheduleEvent,
    session_phase,
)

RUNS = parse_runs(["08:40 pre_open", "14:30 regular"])
DAY = date(2026, 11, 26)  # a Thursday, a KRX trading day


def kst(hh: int, mm: int, day: date = DAY) -> datetime:
    return datetime(day.year, day.month, day.day, hh, mm, tzinfo=KST)


class Sessions:
    """Starts a run's session by recording its claim, as the graph's first node does."""

    def __init__(self, url: str, *, fail: set[str] | None = None) -> None:
        self.url = url
        self.fail = fail or set()
        self.started: list[str] = []

    def start(self, planned: PlannedRun, thread_id: str, phase: str) -> str:
        self.started.append(thread_id)
        if phase in self.fail:
            raise RuntimeError("the broker hung up")
        engine = create_db_engine(self.url)
        try:
            with session_factory(engine).begin() as s:
                PortfolioRepository(s).ensure("default", "paper", 10_000_000)
                portfolio_id = PortfolioRepository(s).id_of("default")
                SessionClaimRepository(s).claim(
                    portfolio_id, planned.day, phase, thread_id, planned.at
                )
        finally:
            engine.dispose()
        return f"waiting for approval: trader approve {thread_id}"


def make_schedule(
    url: str,
    clock: FixedClock,
    sessions: Sessions,
    *,
    events: list[ScheduleEvent] | None = None,
    catch_up: timedelta = timedelta(minutes=30),
) -> Schedule:
    def find(planned: PlannedRun, phase: str) -> ledger.Started | None:
        return ledger.started(url, "default", planned.day, phase)

    return Schedule(
        runs=RUNS,
        calendar=XkrxCalendar(),
        clock=clock,
        portfolio="default",
        start_run=sessions.start,
        find_started=find,
        catch_up=catch_up,
        notifier=events.append if events is not None else None,
    )


def test_a_restart_between_two_runs_of_a_day_starts_only_the_second(
    db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    migrate.upgrade(db_url)
    caplog.set_level(logging.INFO, logger="trader.schedule")
    clock = FixedClock(kst(8, 40))
    sessions = Sessions(db_url)
    first = make_schedule(db_url, clock, sessions)
    assert first.fire("pre_open") is Outcome.STARTED
    assert sessions.started == ["default:2026-11-26:pre_open"]
    assert "next run: 2026-11-26 14:30 KST regular" in caplog.text

    # The process dies and comes back at 09:05, inside the catch-up window of the 08:40 run:
    # the database has its session, so it is not started again.
    caplog.clear()
    clock.set(kst(9, 5))
    restarted = make_schedule(db_url, clock, sessions)
    assert restarted.log_next() is not None
    assert "next run: 2026-11-26 14:30 KST regular" in caplog.text
    outcomes = restarted.catch_up()
    assert list(outcomes.values()) == [Outcome.SKIPPED]
    assert "session default:2026-11-26:pre_open already started" in caplog.text
    # APScheduler firing it anyway (say, a second scheduler) changes nothing either.
    assert restarted.fire("pre_open") is Outcome.SKIPPED
    assert sessions.started == ["default:2026-11-26:pre_open"]

    # The afternoon run starts; the day's next run is then Friday's.
    caplog.clear()
    clock.set(kst(14, 30))
    assert restarted.fire("regular") is Outcome.STARTED
    assert sessions.started == ["default:2026-11-26:pre_open", "default:2026-11-26:regular"]
    assert "next run: 2026-11-27 08:40 KST pre_open" in caplog.text
    assert ledger.started(db_url, "default", DAY, "regular") == ledger.Started(
        "default:2026-11-26:regular", None
    )


def test_a_restart_after_the_catch_up_window_reports_a_missed_run_and_skips_a_done_one(
    sqlite_url: str,
) -> None:
    migrate.upgrade(sqlite_url)
    clock = FixedClock(kst(8, 40))
    sessions = Sessions(sqlite_url)
    events: list[ScheduleEvent] = []
    make_schedule(sqlite_url, clock, sessions, events=events).fire("pre_open")
    clock.set(kst(15, 30))
    outcomes = make_schedule(sqlite_url, clock, sessions, events=events).catch_up()
    assert [(p.phase, o) for p, o in outcomes.items()] == [
        ("pre_open", Outcome.SKIPPED),
        ("regular", Outcome.MISSED),
    ]
    assert [(e.kind, e.thread_id) for e in events] == [
        (EventKind.MISSED, "default:2026-11-26:regular")
    ]
    assert sessions.started == ["default:2026-11-26:pre_open"]


def test_a_failed_run_is_reported_once_and_not_retried(
    sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    migrate.upgrade(sqlite_url)
    caplog.set_level(logging.INFO, logger="trader.schedule")
    clock = FixedClock(kst(8, 40))
    sessions = Sessions(sqlite_url, fail={"pre_open"})
    events: list[ScheduleEvent] = []
    schedule = make_schedule(sqlite_url, clock, sessions, events=events)
    assert schedule.fire("pre_open") is Outcome.FAILED
    assert [(e.kind, e.thread_id) for e in events] == [
        (EventKind.FAILED, "default:2026-11-26:pre_open")
    ]
    assert "RuntimeError: the broker hung up; not retried" in events[0].message
    assert "trader session resume default:2026-11-26:pre_open" in events[0].message
    assert "next run: 2026-11-26 14:30 KST regular" in caplog.text
    # Fired again in the same process (nothing in the database): not retried.
    clock.set(kst(8, 41))
    assert schedule.fire("pre_open") is Outcome.SKIPPED
    assert sessions.started == ["default:2026-11-26:pre_open"] and len(events) == 1


def test_a_failing_notifier_is_logged_and_does_not_stop_the_schedule(
    sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    migrate.upgrade(sqlite_url)
    caplog.set_level(logging.INFO, logger="trader.schedule")
    clock = FixedClock(kst(14, 30))
    schedule = make_schedule(sqlite_url, clock, Sessions(sqlite_url, fail={"regular"}))

    def broken(event: ScheduleEvent) -> None:
        raise OSError("webhook down")

    schedule.notifier = broken
    assert schedule.fire("regular") is Outcome.FAILED
    assert "the notifier failed on failed of 2026-11-26 14:30 KST regular" in caplog.text
    assert "next run: 2026-11-27 08:40 KST pre_open" in caplog.text


def test_no_run_on_a_holiday_even_when_apscheduler_fires(sqlite_url: str) -> None:
    migrate.upgrade(sqlite_url)
    clock = FixedClock(kst(8, 40, date(2025, 1, 28)))
    sessions = Sessions(sqlite_url)
    assert make_schedule(sqlite_url, clock, sessions).fire("pre_open") is None
    assert sessions.started == []


def test_the_jobs_on_apscheduler_carry_the_plan_and_never_overlap(sqlite_url: str) -> None:
    clock = FixedClock(kst(12, 0, date(2025, 1, 4)))  # a Saturday
    schedule = make_schedule(sqlite_url, clock, Sessions(sqlite_url))
    scheduler = BackgroundScheduler(timezone=KST)
    schedule.install(scheduler)
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {"run-pre_open", "run-regular"}
    assert all(isinstance(job.trigger, PlanTrigger) for job in jobs.values())
    assert jobs["run-regular"].args == ("regular",)
    assert jobs["run-pre_open"].max_instances == 1 and jobs["run-pre_open"].coalesce
    # The trigger, asked with the saturday's now as the scheduler does on start.
    saturday = clock.now()
    assert jobs["run-pre_open"].trigger.get_next_fire_time(None, saturday) == kst(
        8, 40, date(2025, 1, 6)
    )
    # The job function is `Schedule.fire`, called with the phase at the planned time.
    assert jobs["run-pre_open"].func == schedule.fire


def test_demo_runs_use_the_demo_phases() -> None:
    assert session_phase("regular", demo=True) == "demo"
    assert session_phase("pre_open", demo=True) == "demo-pre_open"
    assert session_phase("pre_open", demo=False) == "pre_open"


def test_the_ledger_reads_runs_recorded_without_a_claim(sqlite_url: str) -> None:
    # An analysis-only run (another date) records a run row but no claim.
    migrate.upgrade(sqlite_url)
    engine = create_db_engine(sqlite_url)
    try:
        with session_factory(engine).begin() as s:
            portfolio = PortfolioRepository(s).ensure("default", "paper", 10_000_000)
            RunRepository(s).ensure(
                {
                    "thread_id": "x",
                    "portfolio_id": portfolio.id,
                    "session_date": DAY,
                    "phase": "regular",
                    "status": RunStatus.FAILED,
                }
            )
    finally:
        engine.dispose()
    found = ledger.started(sqlite_url, "default", DAY, "regular")
    assert found == ledger.Started("x", "failed")
    assert ledger.started(sqlite_url, "default", DAY, "pre_open") is None
    assert ledger.started(sqlite_url, "other", DAY, "regular") is None


class EveryDayOpensAtNine:
    """A calendar on which every day trades and opens at 09:00 (for a run a second away)."""

    def is_trading_day(self, day: date) -> bool:
        return True

    def opens_at(self, day: date) -> datetime:
        return datetime.combine(day, time(9, 0), KST)


def test_apscheduler_fires_the_job_at_the_planned_time(sqlite_url: str) -> None:
    migrate.upgrade(sqlite_url)
    now = datetime.now(KST)
    at = (now + timedelta(seconds=2)).replace(microsecond=0)
    if at.date() != now.date():
        pytest.skip("too close to midnight KST for a run two seconds away")
    sessions = Sessions(sqlite_url)
    fired = threading.Event()

    def start(planned: PlannedRun, thread_id: str, phase: str) -> str:
        outcome = sessions.start(planned, thread_id, phase)
        fired.set()
        return outcome

    schedule = Schedule(
        runs=(ScheduledRun(at.time(), "regular"),),
        calendar=EveryDayOpensAtNine(),
        clock=FixedClock(at),  # what the job reads when it fires
        portfolio="default",
        start_run=start,
        find_started=lambda planned, phase: ledger.started(
            sqlite_url, "default", planned.day, phase
        ),
    )
    scheduler = BackgroundScheduler(timezone=KST)
    schedule.install(scheduler)
    scheduler.start()
    try:
        assert fired.wait(timeout=15), "APScheduler did not fire the planned run"
    finally:
        scheduler.shutdown(wait=True)
    assert sessions.started == [f"default:{at.date().isoformat()}:regular"]
    assert ledger.started(sqlite_url, "default", at.date(), "regular") is not None
