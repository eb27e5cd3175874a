"""Stop-loss and take-profit exits: thresholds worked out by hand (stop 7 %, take 20 %)."""

from __future__ import annotations

from agents.risk import OrderOrigin, RiskCode, RiskLimits, exit_orders, propose_orders
from agents.risk.models import DecisionKind
from core.orders import OrderType, Side
from db.models import Stance
from tests.agents.risk.builders import (
    HYNIX,
    NAVER,
    SAMSUNG,
    THREAD,
    account,
    book_of,
    ok_signal,
    snap,
)

LIMITS = RiskLimits()
HELD = account(positions={SAMSUNG: (100, 7_000_000)})  # average cost 70,000


def test_stop_loss_at_exactly_seven_percent_sells_all_at_market() -> None:
    # 70,000 x 0.93 = 65,100
    orders, notes = exit_orders(HELD, book_of(snap(SAMSUNG, 65_100)), LIMITS, thread_id=THREAD)
    (order,) = orders
    assert (order.side, order.order_type, order.qty, order.origin) == (
        Side.SELL,
        OrderType.MARKET,
        100,
        OrderOrigin.STOP_LOSS,
    )
    assert order.limit_price_krw is None
    assert [n.code for n in notes] == [RiskCode.STOP_LOSS]


def test_no_exit_inside_the_thresholds() -> None:
    for last in (65_200, 70_000, 83_900):
        orders, notes = exit_orders(HELD, book_of(snap(SAMSUNG, last)), LIMITS, thread_id=THREAD)
        assert (orders, notes) == ([], [])


def test_take_profit_at_twenty_percent_sells_all_at_a_limit() -> None:
    # 70,000 x 1.2 = 84,000; 100 x 84,000 = 8,400,000 exceeds the 5,000,000 order cap: exits
    # are exempt, a partial exit would leave the rest exposed.
    orders, _ = exit_orders(HELD, book_of(snap(SAMSUNG, 84_000)), LIMITS, thread_id=THREAD)
    (order,) = orders
    assert (order.order_type, order.qty, order.limit_price_krw, order.origin) == (
        OrderType.LIMIT,
        100,
        84_000,
        OrderOrigin.TAKE_PROFIT,
    )


def test_take_profit_price_is_rounded_up_and_kept_in_the_band() -> None:
    # last 84,050 (off grid, tick 100) -> 84,100; prev close 60,000 -> upper 78,000
    orders, _ = exit_orders(
        HELD, book_of(snap(SAMSUNG, 84_050, prev_close=60_000)), LIMITS, thread_id=THREAD
    )
    assert orders[0].limit_price_krw == 78_000


def test_positions_that_cannot_be_judged_are_noted() -> None:
    portfolio = account(positions={SAMSUNG: (10, 0), HYNIX: (10, 790_000)})
    orders, notes = exit_orders(portfolio, book_of(snap(SAMSUNG, 1_000)), LIMITS, thread_id=THREAD)
    assert orders == []
    assert [(n.ticker, n.kind, n.code) for n in notes] == [
        (HYNIX, DecisionKind.NOTE, RiskCode.UNKNOWN_TICKER),
        (SAMSUNG, DecisionKind.NOTE, RiskCode.NO_COST_BASIS),
    ]


def test_exits_go_through_halts_and_the_order_cap_and_supersede_signals() -> None:
    portfolio = account(
        equity=80_000_000,
        peak=100_000_000,
        positions={SAMSUNG: (100, 7_000_000), HYNIX: (10, 790_000)},
    )
    market = book_of(snap(SAMSUNG, 60_000), snap(HYNIX, 100_000), snap(NAVER, 200_000))
    signals = [
        ok_signal(SAMSUNG, Stance.BUY, "1"),
        ok_signal(HYNIX, Stance.SELL, "1"),
        ok_signal(NAVER, Stance.SELL, "1"),
    ]
    limits = RiskLimits(max_orders_per_session=1)
    report = propose_orders(signals, portfolio, market, limits, thread_id=THREAD)
    assert report.buys_halted
    assert [(o.ticker, o.origin) for o in report.orders] == [
        (HYNIX, OrderOrigin.TAKE_PROFIT),
        (SAMSUNG, OrderOrigin.STOP_LOSS),
    ]
    denials = {(d.ticker, d.code) for d in report.decisions if d.kind is DecisionKind.DENY}
    assert denials == {
        (HYNIX, RiskCode.MAX_ORDERS),
        (NAVER, RiskCode.MAX_ORDERS),
        (SAMSUNG, RiskCode.MAX_ORDERS),
    }
    assert [d.code for d in report.decisions if d.kind is DecisionKind.HALT] == [
        RiskCode.DRAWDOWN_HALT
    ]


def test_signals_on_an_exiting_ticker_are_denied() -> None:
    market = book_of(snap(SAMSUNG, 65_000))
    for stance in (Stance.BUY, Stance.SELL):
        report = propose_orders(
            [ok_signal(SAMSUNG, stance, "1")], HELD, market, LIMITS, thread_id=THREAD
        )
        assert [o.origin for o in report.orders] == [OrderOrigin.STOP_LOSS]
        assert [d.code for d in report.decisions if d.kind is DecisionKind.DENY] == [
            RiskCode.EXIT_PENDING
        ]
