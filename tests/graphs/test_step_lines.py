"""The executor's progress line tells orders sent (and how the broker took them) from orders the
executor held back because KIS was not taking orders, or that expired unsent."""

from __future__ import annotations

from typing import Any

from agents.executor.models import OUTSIDE_ORDER_HOURS
from graphs.step_lines import describe_update

HELD = f"{OUTSIDE_ORDER_HOURS} (08:30–15:30 KST): the venue took no orders at 2025-06-10 15:40 KST"


def outcome(status: str, note: str = "") -> dict[str, Any]:
    return {"client_order_id": f"mat-{status}-{len(note)}", "status": status, "note": note}


def line(*outcomes: dict[str, Any]) -> str:
    return describe_update("executor", {"executions": list(outcomes)})


def test_sent_orders_count_the_broker_s_answers() -> None:
    filled, refused = outcome("filled"), outcome("rejected", "40580000 모의투자 장종료")
    assert line(filled, refused) == "2 orders sent (1 filled, 1 rejected)"
    assert line() == "no orders sent"
    assert line(filled) == "1 order sent (1 filled)"


def test_orders_held_back_outside_order_hours_are_not_called_sent_or_rejected() -> None:
    assert line(outcome("rejected", HELD)) == "no orders sent; 1 held back outside order hours"
    mixed = line(
        outcome("filled"),
        outcome("rejected", "40580000 모의투자 장종료"),
        outcome("rejected", HELD),
        outcome("expired", "not sent: the approval expired at 2025-06-10T15:30:00+09:00"),
    )
    assert mixed == (
        "2 orders sent (1 filled, 1 rejected); 1 held back outside order hours; "
        "1 not sent (expired)"
    )
