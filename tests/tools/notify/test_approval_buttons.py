"""The approval buttons: their data (under Telegram's 64 bytes), and the message carrying them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import SecretStr

from core.orders import OrderType, Side
from tests.tools.notify.receiver import Receiver
from tools.notify import Fills, OrderLine, PendingApproval, TelegramConfig, TelegramNotifier
from tools.notify.approval_buttons import (
    CALLBACK_DATA_MAX_BYTES,
    ButtonAction,
    ButtonPress,
    approval_keyboard,
    callback_data,
    read_callback_data,
    thread_key,
)
from tools.notify.errors import NotifyRejectedError
from tools.notify.telegram_bot import TelegramBot, TelegramChat, chat_matches

TOKEN = "987654:AAbuttons-secret"
LONG_THREAD = "the-family-retirement-portfolio-with-a-long-name:2026-11-26:pre_open"


def approval(thread_id: str) -> PendingApproval:
    return PendingApproval(
        thread_id=thread_id,
        orders=(
            OrderLine(
                ticker="005930",
                side=Side.BUY,
                qty=3,
                order_type=OrderType.LIMIT,
                limit_price_krw=71000,
            ),
        ),
        expires_at=datetime(2026, 11, 26, 6, 30, tzinfo=UTC),
        link=f"https://trader.example.org/sessions/{thread_id}",
    )


def test_the_data_fits_and_reads_back_for_a_long_thread_id() -> None:
    assert len(LONG_THREAD.encode()) > CALLBACK_DATA_MAX_BYTES
    for action in ButtonAction:
        data = callback_data(action, LONG_THREAD)
        assert len(data.encode()) <= CALLBACK_DATA_MAX_BYTES
        assert read_callback_data(data) == ButtonPress(action=action, key=thread_key(LONG_THREAD))
    assert thread_key(LONG_THREAD) != thread_key(LONG_THREAD.replace("pre_open", "regular"))


@pytest.mark.parametrize(
    "data",
    [None, "", "approve", "sell:" + "0" * 20, "approve:" + "0" * 19, "approve:" + "G" * 20],
)
def test_data_that_is_not_ours_reads_as_none(data: str | None) -> None:
    assert read_callback_data(data) is None


def test_the_chat_is_matched_by_id_or_channel_name() -> None:
    assert chat_matches(TelegramChat(id=-100777), "-100777")
    assert not chat_matches(TelegramChat(id=-100778), "-100777")
    assert chat_matches(TelegramChat(id=-1001, username="MyDesk"), "@mydesk")
    assert not chat_matches(TelegramChat(id=-1001), "@mydesk")


@pytest.mark.anyio
async def test_only_a_pending_approval_carries_the_buttons_and_only_when_asked(
    receiver: Receiver,
) -> None:
    base = TelegramConfig(bot_token=SecretStr(TOKEN), chat_id="-100777", base_url=receiver.base_url)
    plain = TelegramNotifier(base)
    with_buttons = TelegramNotifier(
        TelegramConfig(
            bot_token=base.bot_token,
            chat_id=base.chat_id,
            base_url=base.base_url,
            approval_buttons=True,
        )
    )
    event = approval(LONG_THREAD)
    await plain.send(event)
    await with_buttons.send(event)
    await with_buttons.send(Fills(thread_id=LONG_THREAD, fills=()))
    await plain.aclose()
    await with_buttons.aclose()
    first, second, third = receiver.bodies()
    assert "reply_markup" not in first
    assert second["reply_markup"] == approval_keyboard(LONG_THREAD)
    assert second["text"] == first["text"] == event.text()
    assert "reply_markup" not in third


@pytest.mark.anyio
async def test_a_refusing_bot_api_is_an_error_without_the_token(receiver: Receiver) -> None:
    receiver.status = 401
    receiver.answer = {"ok": False, "description": f"Unauthorized: bot{TOKEN}"}
    bot = TelegramBot(
        TelegramConfig(bot_token=SecretStr(TOKEN), chat_id="1", base_url=receiver.base_url)
    )
    with pytest.raises(NotifyRejectedError) as info:
        await bot.get_updates(None, wait_s=0)
    await bot.aclose()
    assert "HTTP 401" in str(info.value) and TOKEN not in str(info.value)
    [request] = receiver.requests
    assert request.path == f"/bot{TOKEN}/getUpdates"
    assert request.body == {"timeout": 0, "allowed_updates": ["callback_query"]}
