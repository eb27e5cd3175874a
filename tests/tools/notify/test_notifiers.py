"""The Telegram and webhook notifiers against a local HTTP receiver (a real server).

What is checked: the exact request each sends; that a failing or slow service raises one
`NotifyError` whose text (and the captured log) never shows the bot token or the webhook URL;
that only a connection that could not be made is retried.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime

import httpx
import pytest
from pydantic import SecretStr

from core.orders import OrderType, Side
from tests.tools.notify.receiver import Receiver
from tools.notify import (
    FanOut,
    NotifyRejectedError,
    NotifyUnavailableError,
    OrderLine,
    PendingApproval,
    TelegramConfig,
    TelegramNotifier,
    WebhookNotifier,
)
from tools.notify.http import HttpPolicy

TOKEN = "123456789:AAH-secret-bot-token_xyz"
HOOK_SECRET = "T000/B000/hook-secret-XYZ"

EVENT = PendingApproval(
    thread_id="default:2026-11-26:demo",
    orders=(
        OrderLine(
            ticker="051910",
            side=Side.BUY,
            qty=3,
            order_type=OrderType.LIMIT,
            limit_price_krw=312_000,
        ),
        OrderLine(ticker="035420", side=Side.SELL, qty=12, order_type=OrderType.MARKET),
    ),
    expires_at=datetime(2026, 11, 26, 3, 0, tzinfo=UTC),
    link="http://127.0.0.1:8000/sessions/default:2026-11-26:demo",
)
TEXT = (
    "Session default:2026-11-26:demo: 2 order(s) wait for approval (expires 2026-11-26 12:00 KST)\n"
    "- BUY 051910 x 3 limit 312,000 KRW\n"
    "- SELL 035420 x 12 market\n"
    "Decide: http://127.0.0.1:8000/sessions/default:2026-11-26:demo"
)
pytestmark = pytest.mark.anyio

FAST = HttpPolicy(timeout_s=5.0, attempts=2, initial_wait_s=0.01, max_wait_s=0.01)
"""Quick retries; a timeout generous enough that a loaded machine never trips it by accident
(the timeout tests give their own)."""


def telegram(receiver: Receiver, policy: HttpPolicy = FAST) -> TelegramNotifier:
    config = TelegramConfig(
        bot_token=SecretStr(TOKEN), chat_id="-1001234", base_url=receiver.base_url
    )
    return TelegramNotifier(config, policy=policy)


def webhook(receiver: Receiver) -> WebhookNotifier:
    return WebhookNotifier(SecretStr(f"{receiver.base_url}/services/{HOOK_SECRET}"), policy=FAST)


def test_the_pending_approval_message_lists_orders_expiry_and_link() -> None:
    assert EVENT.text() == TEXT


async def test_telegram_posts_send_message_with_the_exact_body(
    receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    notifier = telegram(receiver)
    try:
        await notifier.send(EVENT)
    finally:
        await notifier.aclose()
    [request] = receiver.requests
    assert request.path == f"/bot{TOKEN}/sendMessage"
    assert request.content_type == "application/json"
    assert request.body == {
        "chat_id": "-1001234",
        "text": TEXT,
        "link_preview_options": {"is_disabled": True},
    }
    assert "HTTP Request: POST" in caplog.text  # httpx logged the request, token masked
    assert TOKEN not in caplog.text


async def test_webhook_posts_the_text_as_slack_does(
    receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    notifier = webhook(receiver)
    try:
        await notifier.send(EVENT)
    finally:
        await notifier.aclose()
    [request] = receiver.requests
    assert request.path == f"/services/{HOOK_SECRET}"
    assert request.body == {"text": TEXT}
    assert HOOK_SECRET not in caplog.text


@pytest.mark.parametrize("make", [telegram, webhook])
async def test_a_server_error_raises_once_without_the_secret(
    receiver: Receiver, make: object, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    receiver.status = 500
    receiver.answer = {"ok": False, "description": f"boom at /bot{TOKEN}/ and {HOOK_SECRET}"}
    notifier = make(receiver)  # type: ignore[operator]
    try:
        with pytest.raises(NotifyUnavailableError, match="HTTP 500") as caught:
            await notifier.send(EVENT)
    finally:
        await notifier.aclose()
    assert len(receiver.requests) == 1  # an answer is never retried
    for secret in (TOKEN, HOOK_SECRET):
        assert secret not in str(caught.value)
        assert secret not in caplog.text


async def test_a_refusal_says_why_without_the_token(receiver: Receiver) -> None:
    receiver.status = 400
    receiver.answer = {
        "ok": False,
        "error_code": 400,
        "description": f"Bad Request: chat not found for bot{TOKEN}",
    }
    notifier = telegram(receiver)
    try:
        with pytest.raises(NotifyRejectedError, match="chat not found") as caught:
            await notifier.send(EVENT)
    finally:
        await notifier.aclose()
    assert TOKEN not in str(caught.value)
    assert "***" in str(caught.value)


async def test_telegram_not_ok_in_a_200_is_a_refusal(receiver: Receiver) -> None:
    receiver.answer = {"ok": False}
    notifier = telegram(receiver)
    try:
        with pytest.raises(NotifyRejectedError, match="did not answer ok"):
            await notifier.send(EVENT)
    finally:
        await notifier.aclose()


async def test_a_slow_service_times_out_once_and_is_not_retried(
    receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    receiver.delay_s = 1.5
    notifier = telegram(receiver, HttpPolicy(timeout_s=0.2, attempts=3, initial_wait_s=0.01))
    started = time.monotonic()
    try:
        with pytest.raises(NotifyUnavailableError, match="timeout") as caught:
            await notifier.send(EVENT)
    finally:
        await notifier.aclose()
    assert time.monotonic() - started < 1.0
    assert len(receiver.wait_for(1)) == 1  # it may have arrived: never sent twice
    assert TOKEN not in str(caught.value) and TOKEN not in caplog.text


async def test_a_refused_connection_is_retried_a_bounded_number_of_times() -> None:
    attempts: list[str] = []

    def refuse(request: httpx.Request) -> httpx.Response:
        attempts.append(str(request.url))
        raise httpx.ConnectError(f"cannot connect to {request.url}", request=request)

    config = TelegramConfig(bot_token=SecretStr(TOKEN), chat_id="1", base_url="http://bot.invalid")
    policy = HttpPolicy(timeout_s=0.5, attempts=3, initial_wait_s=0.01, max_wait_s=0.01)
    notifier = TelegramNotifier(config, policy=policy, transport=httpx.MockTransport(refuse))
    try:
        with pytest.raises(NotifyUnavailableError, match="ConnectError") as caught:
            await notifier.send(EVENT)
    finally:
        await notifier.aclose()
    assert len(attempts) == 3
    assert TOKEN not in str(caught.value)
    assert "***" in str(caught.value)


async def test_a_closed_port_is_unavailable_without_the_secret() -> None:
    # Port 9 (discard) on the loopback: nothing listens there on a test machine.
    notifier = WebhookNotifier(SecretStr(f"http://127.0.0.1:9/services/{HOOK_SECRET}"), policy=FAST)
    try:
        with pytest.raises(NotifyUnavailableError) as caught:
            await notifier.send(EVENT)
    finally:
        await notifier.aclose()
    assert HOOK_SECRET not in str(caught.value)


async def test_fan_out_still_sends_when_one_channel_fails(receiver: Receiver) -> None:
    broken = WebhookNotifier(SecretStr(f"http://127.0.0.1:9/services/{HOOK_SECRET}"), policy=FAST)
    fan = FanOut((broken, webhook(receiver)))
    try:
        with pytest.raises(NotifyUnavailableError):
            await fan.send(EVENT)
    finally:
        await fan.aclose()
    assert receiver.bodies() == [{"text": TEXT}]
