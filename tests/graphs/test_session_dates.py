"""Only today's session trades: another date is analysed, never approved or executed.

"Today" is the KRX date of the injected clock. A past or future `session_date` runs the
analysts and the risk gate, then goes straight to a report marked `analysis_only`: no approval
is asked, no order row is written and nothing reaches the broker. A date outside the KRX
calendar is refused before the session is recorded.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from core.clock import KST
from core.errors import ConfigurationError
from db.models import Order, Run, RunStatus
from tests.graphs.session_harness import OPENED_AT, SESSION_DAY, Harness, open_harness

pytestmark = pytest.mark.anyio


async def _broker_orders(h: Harness) -> list[object]:
    day = h.clock.now().astimezone(KST).date()
    return [*await h.ctx.broker.executions(SESSION_DAY), *await h.ctx.broker.executions(day)]


@pytest.mark.parametrize("offset_days", [-1, 1])
async def test_another_date_is_analysed_but_never_traded(
    db_url: str, tmp_path: Path, offset_days: int
) -> None:
    async with open_harness(db_url, tmp_path / "data") as h:
        other = SESSION_DAY + timedelta(days=offset_days)  # a trading day either way
        out = await h.trigger(session_date=other.isoformat())

        assert "__interrupt__" not in out
        assert out["status"] == "analysis_only"
        assert out["signals"], "the analysts ran"
        assert out["risk_report"]["orders"], "the gate says what it would propose"
        assert "approval_request" not in out and "executions" not in out
        report = out["report"]
        assert report["status"] == "analysis_only"
        assert other.isoformat() in report["note"] and SESSION_DAY.isoformat() in report["note"]
        assert await h.rows(Order) == []
        assert await _broker_orders(h) == []
        (run,) = await h.rows(Run)
        assert run.status is RunStatus.COMPLETED and run.session_date == other


async def test_an_approval_given_on_another_day_trades_nothing(db_url: str, tmp_path: Path) -> None:
    async with open_harness(db_url, tmp_path / "data") as h:
        # Proposed late in the evening on the always-open demo market (no close caps the
        # expiry), answered after midnight, still within the approval's time to live.
        h.clock.set(datetime.combine(SESSION_DAY, OPENED_AT.timetz()).replace(hour=23))
        out = await h.trigger()
        assert out["status"] == "awaiting_approval"
        h.clock.advance(timedelta(minutes=90))

        done = await h.resume({"approve_all": True, "decided_by": "late"})

        assert done.get("executions", []) == []
        assert {line["decision"] for line in done["review"]} == {"expired"}
        assert all("not today" in line["note"] for line in done["review"])
        assert await _broker_orders(h) == []


async def test_a_date_outside_the_calendar_is_refused_before_the_run_is_recorded(
    db_url: str, tmp_path: Path
) -> None:
    async with open_harness(db_url, tmp_path / "data") as h:
        with pytest.raises(ConfigurationError, match="outside the KRX calendar"):
            await h.trigger(session_date="2199-01-02")
        assert await h.rows(Run) == []
