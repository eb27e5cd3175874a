"""A split re-adjusts the past the daily chart serves, once the clock passes its effective day."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from core.clock import FixedClock
from tests.tools.kis.simulator.conftest import TRADING_DAY_1030
from tools.kis.simulator.corporate import CorporateAction

SPLIT = CorporateAction("005930", TRADING_DAY_1030.date() + timedelta(days=1), Decimal(2))


def closes(caller: Any, ticker: str, *, raw: bool = False) -> dict[str, int]:
    params = {
        "FID_COND_MRKT_DIV_CODE": "J",
        "FID_INPUT_ISCD": ticker,
        "FID_INPUT_DATE_1": "20260202",
        "FID_INPUT_DATE_2": "20260306",
        "FID_PERIOD_DIV_CODE": "D",
        "FID_ORG_ADJ_PRC": "1" if raw else "0",
    }
    body = caller.get("/quotations/inquire-daily-itemchartprice", "FHKST03010100", params).json()
    assert body["rt_cd"] == "0"
    return {row["stck_bsop_date"]: int(row["stck_clpr"]) for row in body["output2"]}


def test_the_adjusted_past_changes_when_a_split_takes_effect(
    start_sim: Any, clock: FixedClock
) -> None:
    _, caller = start_sim(corporate_actions=(SPLIT,))
    before = closes(caller, "005930")
    other_before = closes(caller, "000660")
    assert before and closes(caller, "005930", raw=True) == before  # nothing to adjust yet

    clock.advance(timedelta(hours=23))  # the split's day (the token still lives)
    after = closes(caller, "005930")
    assert after.keys() == before.keys()
    assert all(abs(2 * after[d] - before[d]) <= 2 for d in before)  # the old basis halved
    assert closes(caller, "005930", raw=True) == before  # as traded, the past is unchanged
    assert closes(caller, "000660") == other_before  # another ticker is untouched


def test_a_split_announced_to_a_running_simulator(start_sim: Any, clock: FixedClock) -> None:
    """The hook a test uses: the generated path is the final adjusted one, so until the split
    takes effect the days before it read on the old basis, and from its day on as before."""
    sim, caller = start_sim()
    adjusted = closes(caller, "005930")
    sim.state.market.add_corporate_action(SPLIT)
    old_basis = closes(caller, "005930")
    assert all(abs(old_basis[d] - 2 * adjusted[d]) <= 2 for d in adjusted)
    clock.advance(timedelta(hours=23))
    assert closes(caller, "005930") == adjusted
