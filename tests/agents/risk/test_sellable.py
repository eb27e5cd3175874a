"""Sells and exits are sized on the shares the broker lets us sell, not the shares held.

Shares offered by an open sell order at the broker (a cancel that failed, an order placed by
hand) are held but locked: KIS `ord_psbl_qty` leaves them out and an order for more is refused.
A stop-loss asking for the whole holding would be refused, and the stop never executed.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from agents.risk import OrderOrigin, RiskCode, RiskLimits, propose_orders, recheck_edit
from agents.risk.account import portfolio_from_account
from agents.risk.models import DecisionKind, PortfolioSnapshot, RiskDecision, RiskReport
from core.clock import KST, FixedClock
from core.orders import OrderType, PlacementStatus, Side
from db.models import Stance
from tests.agents.risk.builders import HYNIX, SAMSUNG, THREAD, book_of, ok_signal, snap
from tests.tools.paper.fake_market import FakeMarket
from tests.tools.paper.orders import buy, sell
from tools.broker import AccountSnapshot, CashBalance, OrderRequest, Position
from tools.krx.costs import CostModel
from tools.paper import PaperBroker, PaperStore

LIMITS = RiskLimits()
AT = datetime(2025, 3, 12, 10, tzinfo=KST)


def _account(qty: int, sellable: int, last: int, avg: int = 70_000) -> PortfolioSnapshot:
    held = Position(
        ticker=SAMSUNG, name="", qty=qty, sellable_qty=sellable, avg_price=Decimal(avg),
        last_price=last, market_value=qty * last, unrealized_pnl=qty * (last - avg),
    )  # fmt: skip
    cash = CashBalance(
        deposit=50_000_000, settled_d2=50_000_000, total_eval=50_000_000 + qty * last
    )
    snapshot = AccountSnapshot(as_of=AT, cash=cash, positions=[held])
    return portfolio_from_account(snapshot, {SAMSUNG: last}, peak_equity=0)


def _sellable_lines(report: RiskReport) -> list[RiskDecision]:
    return [d for d in report.decisions if d.code is RiskCode.SELLABLE_QTY]


def test_a_stop_loss_sells_the_sellable_shares_and_says_so() -> None:
    # 100 held at 70,000, 30 locked by an open sell order; 65,000 is beyond the 7 % stop.
    portfolio = _account(100, 70, 65_000)
    report = propose_orders([], portfolio, book_of(snap(SAMSUNG, 65_000)), LIMITS, thread_id=THREAD)
    (order,) = report.orders
    assert (order.origin, order.side, order.order_type, order.qty) == (
        OrderOrigin.STOP_LOSS,
        Side.SELL,
        OrderType.MARKET,
        70,
    )
    (line,) = _sellable_lines(report)
    assert (line.kind, line.ticker, line.field, line.before, line.after) == (
        DecisionKind.CLAMP,
        SAMSUNG,
        "qty",
        100,
        70,
    )
    assert "30" in line.reason and "open sell" in line.reason


def test_a_stop_loss_with_nothing_sellable_is_denied_and_the_ticker_is_not_bought() -> None:
    portfolio = _account(100, 0, 65_000)
    market = book_of(snap(SAMSUNG, 65_000))
    report = propose_orders(
        [ok_signal(SAMSUNG, Stance.BUY, "1")], portfolio, market, LIMITS, thread_id=THREAD
    )
    assert report.orders == ()
    (line,) = _sellable_lines(report)
    assert (line.kind, line.before, line.after) == (DecisionKind.DENY, 100, 0)
    assert [d.code for d in report.decisions if d.ticker == SAMSUNG] == [
        RiskCode.STOP_LOSS,
        RiskCode.SELLABLE_QTY,
        RiskCode.EXIT_PENDING,
    ]


def test_a_take_profit_is_cut_to_the_sellable_shares() -> None:
    portfolio = _account(100, 60, 84_000)
    report = propose_orders([], portfolio, book_of(snap(SAMSUNG, 84_000)), LIMITS, thread_id=THREAD)
    assert [(o.origin, o.qty) for o in report.orders] == [(OrderOrigin.TAKE_PROFIT, 60)]
    assert [(d.kind, d.before, d.after) for d in _sellable_lines(report)] == [
        (DecisionKind.CLAMP, 100, 60)
    ]


def test_a_sell_signal_is_cut_to_the_sellable_shares() -> None:
    portfolio = _account(60, 45, 70_000)
    market = book_of(snap(SAMSUNG, 70_000))
    report = propose_orders(
        [ok_signal(SAMSUNG, Stance.SELL, "1")], portfolio, market, LIMITS, thread_id=THREAD
    )
    assert [(o.origin, o.qty) for o in report.orders] == [(OrderOrigin.SIGNAL, 45)]
    assert [(d.kind, d.before, d.after) for d in _sellable_lines(report)] == [
        (DecisionKind.CLAMP, 60, 45)
    ]
    none_free = _account(60, 0, 70_000)
    report = propose_orders(
        [ok_signal(SAMSUNG, Stance.SELL, "1")], none_free, market, LIMITS, thread_id=THREAD
    )
    assert report.orders == ()
    assert [d.kind for d in _sellable_lines(report)] == [DecisionKind.DENY]


def test_an_edited_sell_is_cut_to_the_sellable_shares() -> None:
    portfolio = _account(60, 45, 70_000)
    market = book_of(snap(SAMSUNG, 70_000), snap(HYNIX, 100_000))
    report = propose_orders(
        [ok_signal(SAMSUNG, Stance.SELL, "0.5")], portfolio, market, LIMITS, thread_id=THREAD
    )
    (order,) = report.orders
    assert order.qty == 30
    edited = recheck_edit(order, 60, None, portfolio=portfolio, market=market, limits=LIMITS)
    assert edited.order is not None and edited.order.qty == 45
    assert [d.code for d in edited.decisions] == [RiskCode.SELLABLE_QTY]


@pytest.mark.anyio
async def test_the_paper_broker_takes_the_stop_loss_sized_on_its_sellable_shares(
    tmp_path: Path,
) -> None:
    clock = FixedClock(AT)
    market = FakeMarket()
    market.set(SAMSUNG, 70_000)
    store = PaperStore(tmp_path / "paper.db")
    try:
        broker = PaperBroker(
            market, store=store, clock=clock, cost_model=CostModel(), starting_cash_krw=20_000_000
        )
        assert (await broker.place(buy("b1", 100, limit=70_000))).status is PlacementStatus.ACCEPTED
        # An open sell of 30 far above the market (its cancel failed, say): 70 are sellable.
        assert (await broker.place(sell("s1", 30, limit=90_000))).status is PlacementStatus.ACCEPTED
        market.set(SAMSUNG, 64_000, prev_close=70_000)
        account = await broker.account_snapshot()
        assert [(p.qty, p.sellable_qty) for p in account.positions] == [(100, 70)]
        portfolio = portfolio_from_account(account, {SAMSUNG: 70_000}, peak_equity=0)
        report = propose_orders(
            [], portfolio, book_of(snap(SAMSUNG, 64_000, 70_000)), LIMITS, thread_id=THREAD
        )
        (stop,) = report.orders
        assert (stop.origin, stop.qty) == (OrderOrigin.STOP_LOSS, 70)
        ack = await broker.place(
            OrderRequest(
                client_order_id=stop.client_order_id,
                ticker=SAMSUNG,
                side=stop.side.value,
                qty=stop.qty,
                order_type=stop.order_type.value,
            )
        )
        assert ack.status is PlacementStatus.ACCEPTED, ack.reason
        after = await broker.account_snapshot()
    finally:
        store.close()
    assert [(p.qty, p.sellable_qty) for p in after.positions] == [(30, 0)]
