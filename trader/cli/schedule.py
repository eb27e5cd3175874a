"""`trader schedule`: start the configured sessions on KRX trading days, unattended.

Each run is what `trader session run` does without a terminal: it analyses, proposes, and
stops at the approval, which stays pending for `trader approve` (never approved by itself).
`--dry-run` prints the coming days' plan and exits.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import date, timedelta
from functools import partial
from typing import Annotated, Any

import typer
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from rich.table import Table
from rich.text import Text

from agents.state import SessionStatus
from core.clock import KST, kst_today
from core.errors import OperationalError
from db import migrate
from graphs.step_lines import describe_update
from trader.cli import clock as cli_clock
from trader.cli.console import cli_errors, console
from trader.cli.real_account import guard_real_database
from trader.cli.session import prepare_session, session_input, start_session
from trader.schedule import ledger
from trader.schedule.days import KisCheckedCalendar, XkrxCalendar
from trader.schedule.plan import PlannedRun, TradingCalendar, plan_days
from trader.schedule.runner import EventKind, Notifier, Schedule, ScheduleEvent, session_phase
from trader.settings import Settings, TradingMode, load_settings
from trader.wiring.context import kis_client_for
from trader.wiring.notify import notify_scheduled_run_failed

log = logging.getLogger(__name__)

KIS_CALENDAR_REFRESH = "07:00"
"""When (KST) a real account's KIS market calendar is asked again each day."""


class ScheduledRunFailed(OperationalError):
    """A scheduled session ended failed; a person looks at it."""


def _log_progress(thread_id: str, node: str, update: dict[str, Any]) -> None:
    log.info("%s: %s: %s", thread_id, node, describe_update(node, update))


def _log_say(text: str) -> None:
    log.info("%s", Text.from_markup(text).plain)


def start_run(
    settings: Settings, demo: bool, planned: PlannedRun, thread_id: str, phase: str
) -> str:
    """Start a planned run's session as `trader session run` would, up to the approval.

    Raises:
        ScheduledRunFailed: the session stopped part-way (it can be continued by hand).
    """
    on_demo = prepare_session(settings, thread_id, demo=demo)
    view, ran = asyncio.run(
        start_session(
            settings,
            demo=on_demo,
            thread_id=thread_id,
            session=session_input(settings, planned.day, phase),
            progress=partial(_log_progress, thread_id),
            say=_log_say,
        )
    )
    if view.stopped_part_way or view.status is SessionStatus.RUNNING:
        raise ScheduledRunFailed(
            f"session {thread_id} stopped before {', '.join(view.next_nodes) or 'its end'}"
        )
    status = view.status.value if view.status else "unknown"
    if view.awaiting_approval:
        return f"waiting for approval: trader approve {thread_id}"
    return f"{'ran' if ran else 'already there'}, status {status}"


def find_started(settings: Settings, planned: PlannedRun, phase: str) -> ledger.Started | None:
    """The session of a planned run the database already holds."""
    return ledger.started(settings.resolved_database_url, settings.portfolio, planned.day, phase)


async def _kis_holidays(settings: Settings, day: date) -> list[Any]:
    client = kis_client_for(settings, demo=False, clock=cli_clock.session_clock())
    try:
        return list(await client.holidays(day))
    finally:
        await client.aclose()


def calendar_for(settings: Settings, *, demo: bool) -> TradingCalendar:
    """XKRX; on a real account, cross-checked with KIS's market calendar from today on."""
    if demo or settings.trading_mode is not TradingMode.KIS_REAL:
        return XkrxCalendar()
    calendar = KisCheckedCalendar()
    refresh_kis_calendar(settings, calendar)
    return calendar


def refresh_kis_calendar(settings: Settings, calendar: KisCheckedCalendar) -> None:
    """Ask KIS for its market calendar from today (KST) on."""
    today = kst_today(cli_clock.session_clock())
    asyncio.run(calendar.refresh(partial(_kis_holidays, settings), today))


def print_plan(schedule: Schedule, start: date, days: int) -> None:
    """The plan of `days` days from `start`, and the next run."""
    table = Table(title=f"Planned runs, {days} days from {start.isoformat()} (KST)")
    for column in ("Date", "Day", "Runs"):
        table.add_column(column)
    for plan in plan_days(start, days, schedule.runs, schedule.calendar):
        if plan.closed_because:
            runs = f"none ({plan.closed_because})"
        else:
            runs = ", ".join(
                f"{p.at.strftime('%H:%M')} {session_phase(p.phase, demo=schedule.demo)}"
                + (
                    f" (late opening: {p.configured.strftime('%H:%M')} + {p.shifted})"
                    if p.shifted
                    else ""
                )
                for p in plan.runs
            )
        table.add_row(plan.day.isoformat(), plan.day.strftime("%a"), runs)
    console.print(table)
    upcoming = schedule.next_run()
    console.print(
        f"Next run: {upcoming.describe() if upcoming else 'none planned'}", highlight=False
    )


def build_schedule(settings: Settings, *, demo: bool, notifier: Notifier | None = None) -> Schedule:
    """The settings' runs on the KRX calendar, started through the session CLI's code path."""
    return Schedule(
        runs=settings.schedule_runs,
        calendar=calendar_for(settings, demo=demo),
        clock=cli_clock.session_clock(),
        portfolio=settings.portfolio,
        start_run=partial(start_run, settings, demo),
        find_started=partial(find_started, settings),
        demo=demo,
        catch_up=timedelta(minutes=settings.schedule_catch_up_minutes),
        notifier=notifier,
    )


def channel_notifier(settings: Settings) -> Notifier:
    """Tell the configured channels (Telegram, a webhook) of a failed or missed run.

    The schedule calls notifiers from its worker thread, which runs no event loop, so each
    message is sent on a loop of its own; sending never raises (nothing is sent when no
    channel is configured).
    """

    def notify(event: ScheduleEvent) -> None:
        asyncio.run(
            notify_scheduled_run_failed(
                settings,
                job=event.run.phase,
                scheduled_for=event.run.at,
                reason=event.message,
                started=event.kind is EventKind.FAILED,
                thread_id=event.thread_id,
            )
        )

    return notify


def serve(settings: Settings, schedule: Schedule) -> None:
    """Catch up on today's due runs, then fire the plan until Ctrl-C."""
    scheduler = BlockingScheduler(timezone=KST)
    schedule.install(scheduler)
    if isinstance(schedule.calendar, KisCheckedCalendar):
        hour, minute = KIS_CALENDAR_REFRESH.split(":")
        scheduler.add_job(
            refresh_kis_calendar,
            CronTrigger(hour=int(hour), minute=int(minute), timezone=KST),
            args=[settings, schedule.calendar],
            id="kis-calendar",
        )
    runs = ", ".join(str(r) for r in schedule.runs)
    log.info("schedule of %s: %s (KST, KRX trading days)", settings.portfolio, runs)
    schedule.log_next()
    schedule.catch_up()
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        log.info("schedule stopped")


def schedule(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the planned runs and exit.")
    ] = False,
    days: Annotated[int, typer.Option(help="With --dry-run: how many days.", min=1, max=366)] = 14,
    demo: Annotated[
        bool, typer.Option("--demo", help="Run the sessions on the built-in market.")
    ] = False,
) -> None:
    """Run the configured sessions (SCHEDULE_RUNS) on KRX trading days; approvals stay pending."""
    with cli_errors():
        settings = load_settings()
        if not settings.schedule_runs:
            console.print("SCHEDULE_RUNS is empty: nothing to schedule.", highlight=False)
            return
        guard_real_database(settings, demo=demo)
        the_schedule = build_schedule(settings, demo=demo, notifier=channel_notifier(settings))
        if dry_run:
            print_plan(the_schedule, kst_today(the_schedule.clock), days)
            return
        migrate.upgrade(settings.resolved_database_url)
        serve(settings, the_schedule)
