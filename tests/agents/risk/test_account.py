"""The account as the gate reads it: start-of-day and current equity on one footing.

After yesterday's sale the proceeds are in the D+2 cash (and in the broker's total) but not yet
in the deposit; a start of day built from the deposit misses them, so a real loss read as a
gain and the daily-loss halt never fired.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from agents.risk import RiskCode, RiskLimits, propose_orders
from agents.risk.account import portfolio_from_account
from agents.risk.models import DecisionKind, MarketSnapshot
from core.clock import KST, FixedClock
from core.orders import PlacementStatus
from db.models import Stance
from tests.agents.risk.builders import SAMSUNG, THREAD, ok_signal
from tests.tools.paper.fake_market import FakeMarket
from tests.tools.paper.orders import buy, sell
from tools.broker import AccountSnapshot, CashBalance, Position
from tools.krx.costs import CostModel
from tools.paper import PaperBroker, PaperStore

HYNIX = "000660"


def _halts(snapshot: AccountSnapshot, prev_closes: dict[str, int], last: dict[str, int]) -> list:
    portfolio = portfolio_from_account(snapshot, prev_closes, peak_equity=0)
    market = {
        t: MarketSnapshot(
            ticker=t,
            last_price_krw=last[t],
            prev_close_krw=prev_closes[t],
            daily_volatility_pct=Decimal(2),
        )
        for t in prev_closes
    }
    report = propose_orders(
        [ok_signal(HYNIX, Stance.BUY, "1")], portfolio, market, RiskLimits(), thread_id=THREAD
    )
    return [d for d in report.decisions if d.kind is DecisionKind.HALT]


def test_unsettled_sale_proceeds_do_not_hide_a_daily_loss() -> None:
    # Yesterday 60 of 160 shares were sold at 100,000: 6,000,000 settles tomorrow (D+2). The
    # deposit is 1,000,000, the D+2 cash 7,000,000. Today the price falls 5 % to 95,000.
    held = Position(
        ticker=SAMSUNG, name="", qty=100, sellable_qty=100, avg_price=Decimal(100_000),
        last_price=95_000, market_value=9_500_000, unrealized_pnl=-500_000,
    )  # fmt: skip
    snapshot = AccountSnapshot(
        as_of=datetime(2025, 3, 12, 10, tzinfo=KST),
        cash=CashBalance(deposit=1_000_000, settled_d2=7_000_000, total_eval=16_500_000),
        positions=[held],
    )
    # Start of day 7,000,000 + 100 x 100,000 = 17,000,000; now 16,500,000: -2.94 %, no halt.
    assert (
        _halts(snapshot, {SAMSUNG: 100_000, HYNIX: 200_000}, {SAMSUNG: 95_000, HYNIX: 200_000})
        == []
    )
    # At 94,900 the loss is 510,000 of 17,000,000 = 3 %: the halt fires.
    lower = held.model_copy(update={"last_price": 94_900, "market_value": 9_490_000})
    snapshot = snapshot.model_copy(
        update={
            "positions": [lower],
            "cash": snapshot.cash.model_copy(update={"total_eval": 16_490_000}),
        }
    )
    (halt,) = _halts(
        snapshot, {SAMSUNG: 100_000, HYNIX: 200_000}, {SAMSUNG: 94_900, HYNIX: 200_000}
    )
    assert halt.code is RiskCode.DAILY_LOSS_HALT
    assert (halt.before, halt.after) == (17_000_000, 16_490_000)


@pytest.mark.anyio
async def test_the_paper_broker_after_yesterdays_sale_halts_on_a_five_percent_fall(
    tmp_path: Path,
) -> None:
    clock = FixedClock(datetime(2025, 3, 10, 10, tzinfo=KST))  # Monday
    market = FakeMarket()
    market.set(SAMSUNG, 50_000)
    market.set(HYNIX, 200_000)
    store = PaperStore(tmp_path / "paper.db")
    try:
        broker = PaperBroker(
            market, store=store, clock=clock, cost_model=CostModel(), starting_cash_krw=10_000_000
        )
        assert (await broker.place(buy("b1", 190, limit=50_000))).status is PlacementStatus.ACCEPTED
        clock.set(datetime(2025, 3, 11, 10, tzinfo=KST))  # Tuesday: sell 40, settles Thursday
        assert (await broker.place(sell("s1", 40, limit=50_000))).status is PlacementStatus.ACCEPTED
        clock.set(datetime(2025, 3, 12, 10, tzinfo=KST))  # Wednesday: -5 %
        market.set(SAMSUNG, 47_500, prev_close=50_000)
        snapshot = await broker.account_snapshot()
    finally:
        store.close()
    assert snapshot.cash.deposit < snapshot.cash.settled_d2  # the proceeds are not settled yet
    halts = _halts(snapshot, {SAMSUNG: 50_000, HYNIX: 200_000}, {SAMSUNG: 47_500, HYNIX: 200_000})
    # 150 shares lose 375,000 of about 9,997,000: 3.75 %.
    assert [h.code for h in halts] == [RiskCode.DAILY_LOSS_HALT]
