"""Approving from Telegram: the buttons of a pending approval, answered by `trader serve`.

The Bot API is a local fake over real HTTP (`tests.tools.notify.bot_api`), its base URL the
setting; the sessions are real demo sessions through the service (the in-process KIS simulator,
the rules reasoner, SQLite and PostgreSQL), approved through the same guarded path as the API.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from core.clock import Clock
from core.errors import ConfigurationError
from core.orders import OrderStatus
from db.engine import create_db_engine
from db.models import Approval
from tests.tools.notify.bot_api import FakeBotApi, running_bot_api
from tests.trader.service.conftest import AUTH, THREAD, service_settings
from tests.trader.service.test_sessions import broker_orders, db_orders
from tools.notify.approval_buttons import CALLBACK_DATA_MAX_BYTES
from trader.service.app import create_app
from trader.service.telegram_approvals import (
    NOT_AN_APPROVER,
    NOT_THIS_CHAT,
    guard_telegram_approvals,
)
from trader.settings import Settings, TradingMode

BOT_TOKEN = "424242:AAH-fake-bot-token-9d3e"
CHAT = -100555
APPROVER = 7001


@pytest.fixture
def bot_api() -> Iterator[FakeBotApi]:
    with running_bot_api(BOT_TOKEN) as fake:
        yield fake


def telegram_settings(
    tmp_path: Path, db_url: str, bot_api: FakeBotApi, **overrides: Any
) -> Settings:
    values: dict[str, Any] = {
        "notify_telegram_bot_token": BOT_TOKEN,
        "notify_telegram_chat_id": str(CHAT),
        "notify_telegram_base_url": bot_api.base_url,
        "notify_telegram_approvals": True,
        "notify_telegram_poll_s": 1,
        "notify_timeout_s": 2,
        "service_public_url": "https://trader.example.org",
    }
    values.update(overrides)
    return service_settings(tmp_path / "data", db_url, **values)


def approvers_of(settings: Settings) -> set[str]:
    engine = create_db_engine(settings.resolved_database_url)
    try:
        with engine.connect() as conn:
            return set(conn.scalars(sa.select(Approval.decided_by)).all())
    finally:
        engine.dispose()


def wait_until(check: Callable[[], bool], timeout_s: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return check()


def pending_message(client: TestClient, bot_api: FakeBotApi) -> dict[str, Any]:
    """Trigger today's demo session; the message of its pending approval."""
    started = client.post("/api/sessions", headers=AUTH)
    assert started.status_code == 200, started.text
    assert started.json()["session"]["awaiting_approval"] is True
    assert bot_api.wait_for("sendMessage", 1)
    [message] = bot_api.messages
    return message


def buttons(message: dict[str, Any]) -> dict[str, str]:
    rows = message["reply_markup"]["inline_keyboard"]
    return {b["text"]: b["callback_data"] for row in rows for b in row}


def test_approve_from_telegram_executes_once_and_refuses_other_chats(
    tmp_path: Path,
    db_url: str,
    bot_api: FakeBotApi,
    clock: Callable[[], Clock],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    settings = telegram_settings(tmp_path, db_url, bot_api)
    with TestClient(create_app(settings, clock=clock, demo=True)) as client:
        message = pending_message(client, bot_api)
        assert message["chat"]["id"] == CHAT
        assert message["text"].startswith(f"Session {THREAD}: 2 order(s) wait for approval")
        data = buttons(message)
        orders = [line[2:] for line in message["text"].splitlines() if line.startswith("- ")]
        assert list(data) == [
            *(f"✓ {n}. {line}" for n, line in enumerate(orders, 1)),
            "Send: approve 2, reject 0",
            "Approve all",
            "Reject all",
        ]
        assert all(len(d.encode()) <= CALLBACK_DATA_MAX_BYTES for d in data.values())
        assert all(THREAD not in d for d in data.values())

        # A press from another chat: refused, and the session still waits.
        bot_api.press(message, data["Approve all"], user_id=APPROVER, chat_id=-100999)
        assert bot_api.wait_for("answerCallbackQuery", 1)
        assert bot_api.answers() == [NOT_THIS_CHAT]
        waiting = client.get(f"/api/sessions/{THREAD}", headers=AUTH).json()
        assert waiting["awaiting_approval"] is True
        assert broker_orders(settings) == []

        # Approve: answered at once, applied, the message rewritten with the outcome.
        bot_api.press(message, data["Approve all"], user_id=APPROVER)
        [edit] = bot_api.wait_for("editMessageText", 1)
        assert bot_api.answers()[1] == f"Approving every order of {THREAD} as telegram:{APPROVER}…"
        assert edit.body["chat_id"] == CHAT and edit.body["message_id"] == message["message_id"]
        outcome = edit.body["text"].splitlines()[-1]
        assert outcome == (
            f"Approved by telegram:{APPROVER}: 2 of 2 orders approved; 2 orders sent (2 filled)"
        )
        assert edit.body["text"].startswith(message["text"])

        done = client.get(f"/api/sessions/{THREAD}", headers=AUTH).json()
        assert done["finished"] is True and done["approval"] is None
        rows = db_orders(settings)
        assert len(rows) == 2 and {r.status for r in rows} == {OrderStatus.FILLED}
        assert len(broker_orders(settings)) == 2
        assert approvers_of(settings) == {f"telegram:{APPROVER}"}

        # The same press replayed, and the other button: already decided, nothing more sent.
        bot_api.press(message, data["Approve all"], user_id=APPROVER)
        bot_api.press(message, data["Reject all"], user_id=APPROVER)
        answers = bot_api.wait_for("answerCallbackQuery", 4)
        assert len(answers) == 4
        for late in bot_api.answers()[2:]:
            assert late.startswith("Already decided: ") and "is finished" in late
        assert len(broker_orders(settings)) == 2
        assert len(bot_api.of("editMessageText")) == 1
        # The fills were notified to the chat too (no buttons on that one).
        assert bot_api.wait_for("sendMessage", 2)
        assert bot_api.messages[1]["text"].startswith(f"Session {THREAD}: 2 order(s) filled")
        assert bot_api.messages[1]["reply_markup"] is None

    # The token is in the URL path only: never in a body, a log line or an answer.
    assert {c.token for c in bot_api.calls} == {BOT_TOKEN}
    assert all(BOT_TOKEN not in str(c.body) for c in bot_api.calls)
    assert BOT_TOKEN not in caplog.text
    assert "a press from another chat was refused" in caplog.text


def test_only_named_approvers_and_a_reject_sends_nothing(
    tmp_path: Path, db_url: str, bot_api: FakeBotApi, clock: Callable[[], Clock]
) -> None:
    settings = telegram_settings(
        tmp_path, db_url, bot_api, notify_telegram_approvers=f"{APPROVER}, 7002"
    )
    assert settings.notify_telegram_approvers == (APPROVER, 7002)
    with TestClient(create_app(settings, clock=clock, demo=True)) as client:
        message = pending_message(client, bot_api)
        data = buttons(message)
        bot_api.press(message, data["Approve all"], user_id=9999)
        assert bot_api.wait_for("answerCallbackQuery", 1)
        assert bot_api.answers() == [NOT_AN_APPROVER]

        bot_api.press(message, data["Reject all"], user_id=7002)
        [edit] = bot_api.wait_for("editMessageText", 1)
        assert edit.body["text"].splitlines()[-1] == (
            "Rejected by telegram:7002: 0 of 2 orders approved"
        )
        done = client.get(f"/api/sessions/{THREAD}", headers=AUTH).json()
        assert done["finished"] is True
    assert broker_orders(settings) == []
    assert approvers_of(settings) == {"telegram:7002"}


def test_orders_decided_one_by_one_from_the_buttons(
    tmp_path: Path, db_url: str, bot_api: FakeBotApi, clock: Callable[[], Clock]
) -> None:
    settings = telegram_settings(tmp_path, db_url, bot_api)
    with TestClient(create_app(settings, clock=clock, demo=True)) as client:
        message = pending_message(client, bot_api)
        first, second = [line[2:] for line in message["text"].splitlines() if line[:2] == "- "]

        # Flip the second order: nothing is applied, the buttons are redrawn with its mark.
        bot_api.press(message, buttons(message)[f"✓ 2. {second}"], user_id=APPROVER)
        assert bot_api.wait_for("editMessageReplyMarkup", 1)
        assert bot_api.answers() == ["Order 2 will be rejected; Send applies the marks"]
        redrawn = buttons(bot_api.messages[0])
        assert f"✓ 1. {first}" in redrawn and f"✗ 2. {second}" in redrawn
        assert client.get(f"/api/sessions/{THREAD}", headers=AUTH).json()["awaiting_approval"]
        assert broker_orders(settings) == []

        # Send the redrawn marks: the first order approved and filled, the second rejected
        # and never sent.
        bot_api.press(message, redrawn["Send: approve 1, reject 1"], user_id=APPROVER)
        [edit] = bot_api.wait_for("editMessageText", 1)
        assert bot_api.answers()[1] == (
            f"Approving 1 and rejecting 1 of the 2 orders of {THREAD} as telegram:{APPROVER}…"
        )
        outcome = edit.body["text"].splitlines()[-1]
        assert outcome.startswith(f"Decided by telegram:{APPROVER}: 1 of 2 orders approved")
        assert "1 order sent (1 filled)" in outcome
        done = client.get(f"/api/sessions/{THREAD}", headers=AUTH).json()
        assert done["finished"] is True
    statuses = {r.ticker: r.status for r in db_orders(settings)}
    assert sorted(statuses.values()) == sorted([OrderStatus.FILLED, OrderStatus.REJECTED])
    assert [o[0] for o in broker_orders(settings)] == [first.split()[1]]
    assert approvers_of(settings) == {f"telegram:{APPROVER}"}


def test_a_failing_bot_api_never_fails_the_service(
    tmp_path: Path,
    db_url: str,
    bot_api: FakeBotApi,
    clock: Callable[[], Clock],
    caplog: pytest.LogCaptureFixture,
) -> None:
    bot_api.failing = True
    settings = telegram_settings(tmp_path, db_url, bot_api)
    with TestClient(create_app(settings, clock=clock, demo=True)) as client:
        assert bot_api.wait_for("getUpdates", 1)
        assert wait_until(lambda: "polling failed" in caplog.text)
        assert client.get("/api/health").status_code == 200
        started = client.post("/api/sessions", headers=AUTH)
        assert started.status_code == 200, started.text
        answer = {"approve_all": True, "decided_by": "browser"}
        done = client.post(f"/api/sessions/{THREAD}/approval", headers=AUTH, json=answer)
        assert done.status_code == 200, done.text
        assert done.json()["finished"] is True
    assert "Telegram approvals: polling failed (HTTP 500)" in caplog.text
    assert BOT_TOKEN not in caplog.text


def test_a_real_account_needs_named_approvers(settings: Settings) -> None:
    real = settings.model_copy(
        update={"trading_mode": TradingMode.KIS_REAL, "notify_telegram_approvals": True}
    )
    with pytest.raises(ConfigurationError, match="NOTIFY_TELEGRAM_APPROVERS"):
        guard_telegram_approvals(real)
    guard_telegram_approvals(real.model_copy(update={"notify_telegram_approvers": (APPROVER,)}))
    guard_telegram_approvals(settings.model_copy(update={"notify_telegram_approvals": True}))
