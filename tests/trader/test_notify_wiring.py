"""Notifications wired into the shell: from settings, off by default, through the runner.

The channels are a local HTTP receiver (a real server on 127.0.0.1) standing in for the Bot API
(its base URL is a setting) and for the webhook. The sessions are real demo sessions through
the CLI (the in-process KIS simulator, the rules reasoner), with the clock pinned to a trading
day as in `test_cli_session`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from agents.context import NeedsReview
from agents.risk.models import DecisionKind, RiskCode, RiskDecision, RiskReport
from core.clock import KST
from graphs.runner import open_graph, read_thread
from tests.conftest import REPO_ROOT
from tests.tools.notify.receiver import Receiver, running_receiver
from tests.trader.clocks import ShiftedClock
from tools.notify import NullNotifier, TelegramNotifier, WebhookNotifier
from tools.notify.base import FanOut
from trader.cli.main import app
from trader.settings import load_settings
from trader.wiring.notify import (
    SessionNotifications,
    build_notifier,
    notify_scheduled_run_failed,
    open_dispatcher,
    pending_approval_event,
)
from trader.wiring.runner import open_runner

START = datetime(2026, 11, 26, 10, 0, tzinfo=KST)
"""A Thursday on which the seeded market proposes buys of 051910 and 035420."""
THREAD = "default:2026-11-26:demo"
TICKERS = "051910,035420"
TOKEN = "555000111:CCsecret-token-wiring"
HOOK = "/services/T01/B02/wiring-hook-secret"


@pytest.fixture(autouse=True)
def _pinned_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("trader.cli.clock.session_clock", partial(ShiftedClock, START))


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as state:
        yield state


def invoke(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def use_webhook(monkeypatch: pytest.MonkeyPatch, receiver: Receiver) -> None:
    monkeypatch.setenv("NOTIFY_WEBHOOK_URL", receiver.base_url + HOOK)
    monkeypatch.setenv("NOTIFY_TIMEOUT_S", "0.5")
    monkeypatch.setenv("SERVICE_PUBLIC_URL", "https://trader.example.org/")


def use_telegram(monkeypatch: pytest.MonkeyPatch, receiver: Receiver) -> None:
    monkeypatch.setenv("NOTIFY_TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("NOTIFY_TELEGRAM_CHAT_ID", "-100777")
    monkeypatch.setenv("NOTIFY_TELEGRAM_BASE_URL", receiver.base_url)
    monkeypatch.setenv("NOTIFY_TIMEOUT_S", "0.5")


async def _approval_text(thread_id: str) -> str:
    settings = load_settings()
    async with open_graph(settings.resolved_database_url) as graph:
        view = await read_thread(graph, thread_id)
    assert view.request is not None
    link = f"https://trader.example.org/sessions/{thread_id}"
    return pending_approval_event(view.request, link).text()


# --- from settings ---------------------------------------------------------------------------


def test_off_by_default_and_with_a_copied_env_example(tmp_path: Path) -> None:
    assert isinstance(build_notifier(load_settings()), NullNotifier)
    (tmp_path / ".env").write_text((REPO_ROOT / ".env.example").read_text())
    assert isinstance(build_notifier(load_settings()), NullNotifier)


def test_telegram_needs_its_chat_and_both_channels_fan_out(
    monkeypatch: pytest.MonkeyPatch, receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("NOTIFY_TELEGRAM_BOT_TOKEN", TOKEN)
    assert isinstance(build_notifier(load_settings()), NullNotifier)
    assert "set both NOTIFY_TELEGRAM_BOT_TOKEN and NOTIFY_TELEGRAM_CHAT_ID" in caplog.text
    assert TOKEN not in caplog.text
    use_telegram(monkeypatch, receiver)
    assert isinstance(build_notifier(load_settings()), TelegramNotifier)
    use_webhook(monkeypatch, receiver)
    both = build_notifier(load_settings())
    assert isinstance(both, FanOut)
    assert [type(n) for n in both.notifiers] == [TelegramNotifier, WebhookNotifier]
    asyncio.run(both.aclose())


# --- through the runner ----------------------------------------------------------------------


@pytest.mark.slow
def test_a_demo_session_notifies_the_pending_approval_then_the_fills(
    monkeypatch: pytest.MonkeyPatch, receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    use_webhook(monkeypatch, receiver)
    first = invoke("session", "run", "--demo", "--tickers", TICKERS)
    assert first.exit_code == 0, first.output
    [request] = receiver.requests
    assert request.path == HOOK
    text = asyncio.run(_approval_text(THREAD))
    assert request.body == {"text": text}
    lines = text.splitlines()
    assert lines[0] == (
        f"Session {THREAD}: 2 order(s) wait for approval (expires 2026-11-26 12:00 KST)"
    )
    assert {line.split()[2] for line in lines[1:3]} == {"051910", "035420"}
    assert lines[-1] == f"Decide: https://trader.example.org/sessions/{THREAD}"

    done = invoke("approve", THREAD, "--all")
    assert done.exit_code == 0, done.output
    bodies = receiver.bodies()
    assert len(bodies) == 2, bodies
    fills = bodies[1]["text"].splitlines()
    assert fills[0] == f"Session {THREAD}: 2 order(s) filled"
    assert all(line.startswith("- BUY ") and line.endswith("(filled)") for line in fills[1:])
    assert "wiring-hook-secret" not in caplog.text


@pytest.mark.slow
@pytest.mark.parametrize("failure", ["http-500", "timeout"])
def test_a_failing_receiver_never_fails_the_demo(
    monkeypatch: pytest.MonkeyPatch,
    receiver: Receiver,
    caplog: pytest.LogCaptureFixture,
    failure: str,
) -> None:
    use_telegram(monkeypatch, receiver)
    if failure == "http-500":
        receiver.status = 500
    else:
        receiver.delay_s = 2.0
    result = invoke("demo", "--tickers", "051910")
    assert result.exit_code == 0, result.output
    assert "Portfolio: cash" in result.output
    # The pending approval and the fill were both tried, and both failed quietly.
    assert len(receiver.wait_for(2)) == 2
    assert all(r.path == f"/bot{TOKEN}/sendMessage" for r in receiver.requests)
    assert caplog.text.count("not sent") == 2
    assert TOKEN not in caplog.text and TOKEN not in result.output


def test_off_by_default_a_demo_sends_nothing(receiver: Receiver) -> None:
    # The receiver listens, but no setting names it: nothing may arrive.
    result = invoke("demo", "--tickers", "051910")
    assert result.exit_code == 0, result.output
    assert receiver.wait_for(1, timeout_s=0.5) == []


def test_the_runner_context_notifies_an_order_handed_to_a_person(
    monkeypatch: pytest.MonkeyPatch, receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    use_webhook(monkeypatch, receiver)

    async def hand_over() -> None:
        async with open_runner(load_settings(), demo=True) as runner:
            runner.ctx.on_needs_review(
                NeedsReview(
                    thread_id=THREAD,
                    client_order_id="mat-42",
                    ticker="051910",
                    reason="several broker orders match it: check them at the broker",
                )
            )

    asyncio.run(hand_over())
    assert receiver.bodies() == [
        {
            "text": f"Session {THREAD}: order mat-42 (051910) needs review: "
            "several broker orders match it: check them at the broker"
        }
    ]
    assert "order mat-42 (051910) of session" in caplog.text  # the log line stays


def test_a_halt_decided_by_the_risk_gate_is_notified(
    monkeypatch: pytest.MonkeyPatch, receiver: Receiver
) -> None:
    use_webhook(monkeypatch, receiver)
    reason = "equity is 3.4 % below the day's start; the daily-loss halt is 3 %: no new buys today"
    halted = RiskReport(
        decisions=(
            RiskDecision(kind=DecisionKind.HALT, code=RiskCode.DAILY_LOSS_HALT, reason=reason),
        ),
        buys_halted=True,
    )
    calm = RiskReport()

    async def run() -> None:
        settings = load_settings()
        async with open_dispatcher(settings) as dispatcher:
            notes = SessionNotifications(dispatcher, settings)
            notes.node_finished(
                THREAD, "risk_manager", {"risk_report": calm.model_dump(mode="json")}
            )
            notes.node_finished(
                THREAD, "risk_manager", {"risk_report": halted.model_dump(mode="json")}
            )

    asyncio.run(run())
    assert receiver.bodies() == [{"text": f"Session {THREAD}: new buys are halted\n- {reason}"}]


def test_a_scheduled_run_that_did_not_start_is_notified_without_raising(
    monkeypatch: pytest.MonkeyPatch, receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    use_telegram(monkeypatch, receiver)
    settings = load_settings()
    when = datetime(2026, 11, 25, 23, 40, tzinfo=UTC)
    asyncio.run(
        notify_scheduled_run_failed(
            settings,
            job="pre-open",
            scheduled_for=when,
            reason="missed: the host was asleep",
            started=False,
        )
    )
    [request] = receiver.requests
    assert request.path == f"/bot{TOKEN}/sendMessage"
    assert request.body == {
        "chat_id": "-100777",
        "text": "Scheduled run pre-open of 2026-11-26 08:40 KST did not start: "
        "missed: the host was asleep",
        "link_preview_options": {"is_disabled": True},
    }
    receiver.status = 500
    asyncio.run(
        notify_scheduled_run_failed(
            settings,
            job="afternoon",
            scheduled_for=when,
            reason="session stopped",
            started=True,
            thread_id=THREAD,
        )
    )
    assert len(receiver.requests) == 2
    assert "telegram notification (scheduled_run_failed) not sent: " in caplog.text
    assert TOKEN not in caplog.text


def test_a_failed_scheduled_run_reaches_the_channels_from_the_schedule_s_worker(
    monkeypatch: pytest.MonkeyPatch, receiver: Receiver
) -> None:
    from datetime import date, time

    from trader.cli.schedule import channel_notifier
    from trader.schedule.plan import PlannedRun
    from trader.schedule.runner import EventKind, ScheduleEvent

    use_webhook(monkeypatch, receiver)
    notify = channel_notifier(load_settings())
    run = PlannedRun(
        day=date(2026, 11, 26),
        phase="regular",
        at=datetime(2026, 11, 26, 14, 30, tzinfo=KST),
        configured=time(14, 30),
    )
    # Called as the schedule calls it: from a plain thread with no event loop.
    notify(ScheduleEvent(EventKind.FAILED, run, "default:2026-11-26:regular", "KIS is down"))
    [request] = receiver.wait_for(1)
    assert request.path == HOOK
    assert request.body == {
        "text": "Scheduled run regular of 2026-11-26 14:30 KST "
        "(session default:2026-11-26:regular) failed: KIS is down"
    }
