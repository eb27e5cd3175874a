"""The approve / reject buttons under a pending approval's Telegram message, and their data.

Telegram gives a pressed button's `callback_data` back to the bot (at most 64 bytes). A thread
id can be longer than that, so the data names the session by a short key, a hash of its thread
id (`thread_key`): whoever handles the press finds the thread whose key it is among the recent
sessions. No state is kept between sending the message and the press, so a press reaches the
service even when another process (the CLI, the scheduler) sent the message.

With two orders or more the message also decides them one by one: a button per order flips it
between approve (✓) and reject (✗), and "Send" applies the marks. The marks live in the buttons
themselves (a bit mask of the rejected orders in each button's data; a flip redraws the
keyboard with the new mask), so they too need no state and survive a restart. Editing a
quantity or a price stays on the page.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict

CALLBACK_DATA_MAX_BYTES = 64
"""Telegram's limit on a button's `callback_data`."""
KEY_LENGTH = 20
"""Hex digits of the thread key (80 bits: no two sessions of one database collide)."""


MAX_ORDER_BUTTONS = 20
"""Orders decided one by one at most; a longer proposal gets the approve / reject all row only
(and the page)."""


class ButtonAction(StrEnum):
    """What a button asks for."""

    APPROVE = "approve"
    """Approve every order."""
    REJECT = "reject"
    """Reject every order."""
    FLIP = "flip"
    """Flip one order's mark between approve and reject (nothing is applied yet)."""
    SEND = "send"
    """Apply the marks: approve the unmarked orders, reject the marked ones."""


class ButtonPress(BaseModel):
    """A pressed button's data, read back: the action, the session's key and the marks."""

    model_config = ConfigDict(frozen=True)

    action: ButtonAction
    key: str
    rejected: frozenset[int] = frozenset()
    """Orders (0-based, in the request's order) marked ✗ when the button was drawn."""
    index: int | None = None
    """The order a `FLIP` flips."""


def thread_key(thread_id: str) -> str:
    """The short key of a thread id carried in the buttons' data."""
    return hashlib.sha256(thread_id.encode("utf-8")).hexdigest()[:KEY_LENGTH]


def _mask(rejected: frozenset[int]) -> str:
    return format(sum(1 << i for i in rejected), "x")


def callback_data(
    action: ButtonAction,
    thread_id: str,
    *,
    rejected: frozenset[int] = frozenset(),
    index: int | None = None,
) -> str:
    """The data of a button, well under 64 bytes whatever the thread id.

    ``approve:<key>``, ``reject:<key>``, ``send:<key>:<mask>`` and
    ``flip:<key>:<mask>:<index>``, `mask` the rejected orders as hex bits.

    Raises:
        ValueError: a flip without its order, or an order beyond `MAX_ORDER_BUTTONS`.
    """
    if (action is ButtonAction.FLIP) != (index is not None):
        raise ValueError("a flip names its order; no other button does")
    if any(not 0 <= i < MAX_ORDER_BUTTONS for i in {*rejected, index or 0}):
        raise ValueError(f"orders are numbered 0..{MAX_ORDER_BUTTONS - 1} on the buttons")
    data = f"{action.value}:{thread_key(thread_id)}"
    if action in (ButtonAction.SEND, ButtonAction.FLIP):
        data += f":{_mask(rejected)}"
    if action is ButtonAction.FLIP:
        data += f":{index}"
    assert len(data.encode("utf-8")) <= CALLBACK_DATA_MAX_BYTES
    return data


def _order_numbers(mask: str) -> frozenset[int] | None:
    if not 1 <= len(mask) <= 5 or any(c not in "0123456789abcdef" for c in mask):
        return None
    bits = int(mask, 16)
    if bits >> MAX_ORDER_BUTTONS:
        return None
    return frozenset(i for i in range(MAX_ORDER_BUTTONS) if bits >> i & 1)


def read_callback_data(data: str | None) -> ButtonPress | None:
    """The press a button's data names, or None when the data is not one of ours."""
    if not data or ":" not in data:
        return None
    action, key, *rest = data.split(":")
    try:
        verb = ButtonAction(action)
    except ValueError:
        return None
    if len(key) != KEY_LENGTH or any(c not in "0123456789abcdef" for c in key):
        return None
    if verb in (ButtonAction.APPROVE, ButtonAction.REJECT):
        return ButtonPress(action=verb, key=key) if not rest else None
    if len(rest) != (2 if verb is ButtonAction.FLIP else 1):
        return None
    rejected = _order_numbers(rest[0])
    if rejected is None:
        return None
    if verb is ButtonAction.SEND:
        return ButtonPress(action=verb, key=key, rejected=rejected)
    if not rest[1].isdigit() or int(rest[1]) >= MAX_ORDER_BUTTONS:
        return None
    return ButtonPress(action=verb, key=key, rejected=rejected, index=int(rest[1]))


def approval_keyboard(
    thread_id: str, orders: Sequence[str] = (), rejected: frozenset[int] = frozenset()
) -> dict[str, Any]:
    """The `reply_markup` of a pending approval's message.

    With two to `MAX_ORDER_BUTTONS` orders (`orders`: each one's line), a row per order that
    flips its mark, then "Send"; always a last row, approve all / reject all.
    """
    rows: list[list[dict[str, str]]] = []
    if 2 <= len(orders) <= MAX_ORDER_BUTTONS:
        for i, line in enumerate(orders):
            mark = "✗" if i in rejected else "✓"
            data = callback_data(ButtonAction.FLIP, thread_id, rejected=rejected, index=i)
            rows.append([{"text": f"{mark} {i + 1}. {line}", "callback_data": data}])
        refused = len([i for i in rejected if i < len(orders)])
        send = f"Send: approve {len(orders) - refused}, reject {refused}"
        rows.append(
            [
                {
                    "text": send,
                    "callback_data": callback_data(ButtonAction.SEND, thread_id, rejected=rejected),
                }
            ]
        )
    rows.append(
        [
            {
                "text": "Approve all",
                "callback_data": callback_data(ButtonAction.APPROVE, thread_id),
            },
            {"text": "Reject all", "callback_data": callback_data(ButtonAction.REJECT, thread_id)},
        ]
    )
    return {"inline_keyboard": rows}
