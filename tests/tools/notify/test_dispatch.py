"""The dispatch point: failures end there, and messages queued from any thread are sent."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

import pytest
from pydantic import SecretStr

from tests.tools.notify.receiver import Receiver
from tools.notify import (
    Dispatcher,
    NeedsReviewEvent,
    NullNotifier,
    ScheduledRunFailed,
    SessionHalted,
    TelegramConfig,
    TelegramNotifier,
    WebhookNotifier,
)
from tools.notify.http import HttpPolicy

pytestmark = pytest.mark.anyio

TOKEN = "987654321:BBsecret-token-for-dispatch"
FAST = HttpPolicy(timeout_s=5.0, attempts=1)
"""One attempt; a timeout a loaded machine never trips by accident (the timeout test has its
own)."""
REVIEW = NeedsReviewEvent(
    thread_id="default:2026-11-26:regular",
    client_order_id="mat-0123",
    ticker="005930",
    reason="in doubt after the follow window: check the broker's order list",
)


async def test_a_failing_notifier_is_logged_redacted_and_swallowed(
    receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    receiver.status = 502
    config = TelegramConfig(bot_token=SecretStr(TOKEN), chat_id="42", base_url=receiver.base_url)
    dispatcher = Dispatcher(TelegramNotifier(config, policy=FAST))
    await dispatcher.notify(REVIEW)  # does not raise
    dispatcher.submit(REVIEW)
    await dispatcher.aclose()
    assert len(receiver.requests) == 2
    assert "telegram notification (needs_review) not sent" in caplog.text
    assert "HTTP 502" in caplog.text
    assert TOKEN not in caplog.text


async def test_a_timing_out_receiver_is_given_up_without_raising(
    receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    receiver.delay_s = 1.0
    hook = SecretStr(f"{receiver.base_url}/hooks/secret-path-123")
    dispatcher = Dispatcher(WebhookNotifier(hook, policy=HttpPolicy(timeout_s=0.3, attempts=1)))
    dispatcher.submit(REVIEW)
    await dispatcher.aclose()
    assert "timeout" in caplog.text
    assert "secret-path-123" not in caplog.text


async def test_events_queued_from_a_worker_thread_are_sent_before_close(
    receiver: Receiver,
) -> None:
    hook = SecretStr(f"{receiver.base_url}/hooks/abc")
    dispatcher = Dispatcher(WebhookNotifier(hook, policy=FAST))
    halted = SessionHalted(
        thread_id="default:2026-11-26:regular",
        reasons=("equity is 3.2 % below the day's start; the daily-loss halt is 3 %",),
    )
    await asyncio.to_thread(dispatcher.submit, halted)
    await asyncio.to_thread(dispatcher.submit, REVIEW)
    await dispatcher.aclose()
    assert receiver.bodies() == [
        {
            "text": "Session default:2026-11-26:regular: new buys are halted\n"
            "- equity is 3.2 % below the day's start; the daily-loss halt is 3 %"
        },
        {
            "text": "Session default:2026-11-26:regular: order mat-0123 (005930) needs review: "
            "in doubt after the follow window: check the broker's order list"
        },
    ]


async def test_messages_go_out_one_at_a_time_in_the_order_submitted(receiver: Receiver) -> None:
    receiver.delay_s = 0.05  # each answer is slow, so parallel sends would race
    hook = SecretStr(f"{receiver.base_url}/hooks/abc")
    dispatcher = Dispatcher(WebhookNotifier(hook, policy=FAST))
    for n in range(5):
        dispatcher.submit(
            NeedsReviewEvent(
                thread_id="default:2026-11-26:regular",
                client_order_id=f"mat-{n}",
                ticker="005930",
                reason="rejected by the broker",
            )
        )
    await dispatcher.aclose()
    ids = [body["text"].split("order ")[1].split(" ")[0] for body in receiver.bodies()]
    assert ids == [f"mat-{n}" for n in range(5)]


async def test_messages_still_queued_at_the_drain_deadline_are_dropped_and_counted(
    receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    receiver.delay_s = 1.0
    hook = SecretStr(f"{receiver.base_url}/hooks/abc")
    dispatcher = Dispatcher(WebhookNotifier(hook, policy=FAST), drain_timeout_s=0.2)
    for _ in range(3):
        dispatcher.submit(REVIEW)
    await dispatcher.aclose()
    assert "3 notification(s) dropped: still unsent at shutdown" in caplog.text
    assert len(receiver.requests) <= 1


async def test_off_sends_nothing_and_queues_nothing() -> None:
    dispatcher = Dispatcher(NullNotifier())
    assert not dispatcher.enabled
    dispatcher.submit(REVIEW)
    await dispatcher.notify(REVIEW)
    await dispatcher.aclose()


def test_a_scheduled_run_message_says_when_and_why() -> None:
    event = ScheduledRunFailed(
        job="pre-open",
        scheduled_for=datetime(2026, 11, 25, 23, 40, tzinfo=UTC),
        started=False,
        reason="the database did not answer",
    )
    assert event.text() == (
        "Scheduled run pre-open of 2026-11-26 08:40 KST did not start: the database did not answer"
    )
