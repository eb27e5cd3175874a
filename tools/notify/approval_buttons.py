"""The approve / reject buttons under a pending approval's Telegram message, and their data.

Telegram gives a pressed button's `callback_data` back to the bot (at most 64 bytes). A thread
id can be longer than that, so the data names the session by a short key, a hash of its thread
id (`thread_key`): whoever handles the press finds the thread whose key it is among the recent
sessions. No state is kept between sending the message and the press, so a press reaches the
service even when another process (the CLI, the scheduler) sent the message.
"""

from __future__ import annotations

import hashlib
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict

CALLBACK_DATA_MAX_BYTES = 64
"""Telegram's limit on a button's `callback_data`."""
KEY_LENGTH = 20
"""Hex digits of the thread key (80 bits: no two sessions of one database collide)."""


class ButtonAction(StrEnum):
    """What a button asks for: approve every order, or reject every order."""

    APPROVE = "approve"
    REJECT = "reject"


class ButtonPress(BaseModel):
    """A pressed button's data, read back: the action and the session's key."""

    model_config = ConfigDict(frozen=True)

    action: ButtonAction
    key: str


def thread_key(thread_id: str) -> str:
    """The short key of a thread id carried in the buttons' data."""
    return hashlib.sha256(thread_id.encode("utf-8")).hexdigest()[:KEY_LENGTH]


def callback_data(action: ButtonAction, thread_id: str) -> str:
    """``approve:<key>`` or ``reject:<key>``: well under 64 bytes whatever the thread id."""
    data = f"{action.value}:{thread_key(thread_id)}"
    assert len(data.encode("utf-8")) <= CALLBACK_DATA_MAX_BYTES
    return data


def read_callback_data(data: str | None) -> ButtonPress | None:
    """The press a button's data names, or None when the data is not one of ours."""
    if not data or ":" not in data:
        return None
    action, _, key = data.partition(":")
    try:
        verb = ButtonAction(action)
    except ValueError:
        return None
    if len(key) != KEY_LENGTH or any(c not in "0123456789abcdef" for c in key):
        return None
    return ButtonPress(action=verb, key=key)


def approval_keyboard(thread_id: str) -> dict[str, Any]:
    """The `reply_markup` of a pending approval's message: one row, approve all / reject all."""
    return {
        "inline_keyboard": [
            [
                {
                    "text": "Approve all",
                    "callback_data": callback_data(ButtonAction.APPROVE, thread_id),
                },
                {
                    "text": "Reject all",
                    "callback_data": callback_data(ButtonAction.REJECT, thread_id),
                },
            ]
        ]
    }
