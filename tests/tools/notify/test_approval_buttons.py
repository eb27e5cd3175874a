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
    MAX_ORDER_BUTTONS,
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


EVERY_MARK = frozenset(range(MAX_ORDER_BUTTONS))


@pytest.mark.parametrize(
    ("action", "rejected", "index"),
    [
        (ButtonAction.APPROVE, frozenset(), None),
        (ButtonAction.REJECT, frozenset(), None),
        (ButtonAction.SEND, frozenset(), None),
        (ButtonAction.SEND, frozenset({1, 3}), None),
        (ButtonAction.FLIP, EVERY_MARK, MAX_ORDER_BUTTONS - 1),  # the longest data there is
        (ButtonAction.FLIP, frozenset(), 0),
    ],
)
def test_the_data_fits_and_reads_back_for_a_long_thread_id(
    action: ButtonAction, rejected: frozenset[int], index: int | None
) -> None:
    assert len(LONG_THREAD.encode()) > CALLBACK_DATA_MAX_BYTES
    data = callback_data(action, LONG_THREAD, rejected=rejected, index=index)
    assert len(data.encode()) <= CALLBACK_DATA_MAX_BYTES
    key = thread_key(LONG_THREAD)
    expected = ButtonPress(action=action, key=key, rejected=rejected, index=index)
    assert read_callback_data(data) == expected
    assert thread_key(LONG_THREAD) != thread_key(LONG_THREAD.replace("pre_open", "regular"))


def test_a_flip_names_its_order_and_orders_stay_in_range() -> None:
    with pytest.raises(ValueError, match="a flip names its order"):
        callback_data(ButtonAction.FLIP, LONG_THREAD)
    with pytest.raises(ValueError, match="a flip names its order"):
        callback_data(ButtonAction.SEND, LONG_THREAD, index=1)
    with pytest.raises(ValueError, match=r"numbered 0\.\.19"):
        callback_data(ButtonAction.SEND, LONG_THREAD, rejected=frozenset({MAX_ORDER_BUTTONS}))


def test_the_keyboard_decides_orders_one_by_one_from_two_orders_on() -> None:
    lines = ["BUY 005930 x 3", "SELL 000660 x 1", "BUY 069500 x 10"]
    rows = approval_keyboard(LONG_THREAD, lines, frozenset({1}))["inline_keyboard"]
    assert [[b["text"] for b in row] for row in rows] == [
        ["✓ 1. BUY 005930 x 3"],
        ["✗ 2. SELL 000660 x 1"],
        ["✓ 3. BUY 069500 x 10"],
        ["Send: approve 2, reject 1"],
        ["Approve all", "Reject all"],
    ]
    flip_third = read_callback_data(rows[2][0]["callback_data"])
    assert flip_third is not None and (flip_third.index, flip_third.rejected) == (2, {1})
    send = read_callback_data(rows[3][0]["callback_data"])
    assert send is not None and (send.action, send.rejected) == (ButtonAction.SEND, {1})
    # One order (or more than the buttons carry): the approve / reject all row alone.
    for few_or_many in (lines[:1], ["BUY 005930 x 1"] * (MAX_ORDER_BUTTONS + 1)):
        [only] = approval_keyboard(LONG_THREAD, few_or_many)["inline_keyboard"]
        assert [b["text"] for b in only] == ["Approve all", "Reject all"]


@pytest.mark.parametrize(
    "data",
    [
        None,
        "",
        "approve",
        "sell:" + "0" * 20,
        "approve:" + "0" * 19,
        "approve:" + "G" * 20,
        "approve:" + "0" * 20 + ":1",
        "send:" + "0" * 20,
        "send:" + "0" * 20 + ":zz",
        "send:" + "0" * 20 + ":100000",  # a mark beyond the 20 orders the buttons carry
        "flip:" + "0" * 20 + ":0",
        "flip:" + "0" * 20 + ":0:20",
        "flip:" + "0" * 20 + ":0:-1",
    ],
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
