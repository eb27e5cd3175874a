"""Each rule of the gate on numbers worked out by hand (default limits unless stated).

Defaults: equity 100,000,000 KRW -> per-ticker cap 10,000,000, gross cap 80,000,000; max
order 5,000,000; cash buffer 1,000,000; volatility target 2 %; commission 0.015 %.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from agents.risk import RiskCode, RiskLimits, propose_orders
from agents.risk.models import DecisionKind, MarketSnapshot, PortfolioSnapshot, RiskReport
from agents.risk.pricing import check_price
from agents.schemas import Signal
from core.orders import OrderType, Side
from db.models import SignalStatus, Stance
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
from trader.settings import load_settings

LIMITS = RiskLimits()


def run(
    signals: list[Signal],
    *,
    portfolio: PortfolioSnapshot | None = None,
    market: dict[str, MarketSnapshot] | None = None,
    limits: RiskLimits = LIMITS,
) -> RiskReport:
    return propose_orders(
        signals,
        portfolio or account(),
        market if market is not None else book_of(snap(SAMSUNG, 70_000)),
        limits,
        thread_id=THREAD,
    )


def codes(report: RiskReport, kind: DecisionKind) -> list[RiskCode]:
    return [d.code for d in report.decisions if d.kind is kind]


def test_buy_is_conviction_times_volatility_scaled_budget() -> None:
    # budget = 100M x 10 % x 0.5 x (2 / 4) = 2,500,000 -> floor(2,500,000 / 70,000) = 35
    report = run(
        [ok_signal(SAMSUNG, Stance.BUY, "0.5")], market=book_of(snap(SAMSUNG, 70_000, vol="4"))
    )
    (order,) = report.orders
    assert (order.side, order.order_type, order.qty, order.limit_price_krw) == (
        Side.BUY,
        OrderType.LIMIT,
        35,
        70_000,
    )
    assert report.decisions == ()


def test_calm_ticker_is_not_scaled_up() -> None:
    # vol 1 % < target 2 %: scale stays 1 -> 100M x 10 % x 0.5 = 5,000,000 -> 71 shares
    report = run(
        [ok_signal(SAMSUNG, Stance.BUY, "0.5")], market=book_of(snap(SAMSUNG, 70_000, vol="1"))
    )
    assert report.orders[0].qty == 71


def test_per_order_value_cap_clamps() -> None:
    # budget 10,000,000 -> 142 shares; 5,000,000 // 70,000 = 71
    report = run([ok_signal(SAMSUNG, Stance.BUY, "1")])
    assert report.orders[0].qty == 71
    (clamp,) = report.decisions
    assert (clamp.kind, clamp.code, clamp.before, clamp.after) == (
        DecisionKind.CLAMP,
        RiskCode.MAX_ORDER_VALUE,
        142,
        71,
    )
    assert "5,000,000" in clamp.reason


def test_a_buy_tops_the_held_position_up_to_its_target() -> None:
    # target 100M x 10 % x 1.0 = 10,000,000; held 100 x 70,000 = 7,000,000 -> 3,000,000 // 70,000
    portfolio = account(positions={SAMSUNG: (100, 7_000_000)})
    report = run([ok_signal(SAMSUNG, Stance.BUY, "1")], portfolio=portfolio)
    assert report.orders[0].qty == 42
    assert report.decisions == ()
    assert "less 7,000,000 KRW held: budget 3,000,000 KRW" in report.orders[0].reason


def test_a_position_at_its_target_buys_nothing() -> None:
    # conviction 0.5 asks for 5,000,000; 7,000,000 is held already
    portfolio = account(positions={SAMSUNG: (100, 7_000_000)})
    report = run([ok_signal(SAMSUNG, Stance.BUY, "0.5")], portfolio=portfolio)
    assert report.orders == ()
    (denial,) = report.decisions
    assert (denial.kind, denial.code) == (DecisionKind.DENY, RiskCode.AT_TARGET)
    assert "target 5,000,000 KRW" in denial.reason


def test_a_position_short_of_its_target_by_less_than_the_top_up_band_buys_nothing() -> None:
    # target 10,000,000, held 8,500,000: 1,500,000 short is 15 % of the target, under 20 %
    portfolio = account(positions={SAMSUNG: (100, 8_500_000)})
    signals = [ok_signal(SAMSUNG, Stance.BUY, "1")]
    market = book_of(snap(SAMSUNG, 85_000))
    report = run(signals, portfolio=portfolio, market=market)
    assert report.orders == ()
    assert codes(report, DecisionKind.DENY) == [RiskCode.AT_TARGET]
    eager = run(
        signals,
        portfolio=portfolio,
        market=market,
        limits=RiskLimits(min_top_up_pct=Decimal(0)),
    )
    assert eager.orders[0].qty == 17  # 1,500,000 // 85,000


def test_a_shortfall_of_exactly_the_band_is_topped_up() -> None:
    # target 10,000,000, held 8,000,000: 2,000,000 short is exactly 20 % -> 2,000,000 // 80,000
    portfolio = account(positions={SAMSUNG: (100, 8_000_000)})
    report = run(
        [ok_signal(SAMSUNG, Stance.BUY, "1")],
        portfolio=portfolio,
        market=book_of(snap(SAMSUNG, 80_000)),
    )
    assert report.orders[0].qty == 25


def test_a_shortfall_worth_less_than_a_share_is_sized_to_zero_not_at_target() -> None:
    # target 10,000,000, held 1 x 6,000,000: 4,000,000 (40 %) short, but a share costs 6,000,000
    portfolio = account(positions={SAMSUNG: (1, 6_000_000)})
    market = book_of(snap(SAMSUNG, 6_000_000))
    report = run([ok_signal(SAMSUNG, Stance.BUY, "1")], portfolio=portfolio, market=market)
    assert report.orders == ()
    (denial,) = report.decisions
    assert denial.code is RiskCode.SIZED_TO_ZERO
    assert "budget 4,000,000 KRW buys no share at 6,000,000 KRW" in denial.reason


def test_a_full_ticker_is_at_its_target_even_with_full_conviction() -> None:
    portfolio = account(positions={SAMSUNG: (143, 10_010_000)})  # 10,010,000 > the 10 % cap
    report = run([ok_signal(SAMSUNG, Stance.BUY, "1")], portfolio=portfolio)
    assert report.orders == ()
    assert codes(report, DecisionKind.DENY) == [RiskCode.AT_TARGET]


def test_gross_exposure_clamps() -> None:
    # 1,000 HYNIX at 79,000 = 79,000,000 of an 80,000,000 gross cap -> 1,000,000 // 70,000 = 14
    portfolio = account(cash=21_000_000, positions={HYNIX: (1_000, 79_000_000)})
    market = book_of(snap(SAMSUNG, 70_000), snap(HYNIX, 79_000))
    report = run([ok_signal(SAMSUNG, Stance.BUY, "0.5")], portfolio=portfolio, market=market)
    assert report.orders[0].qty == 14
    assert codes(report, DecisionKind.CLAMP) == [RiskCode.GROSS_EXPOSURE]


def test_cash_check_includes_commission_and_buffer() -> None:
    # spendable = 1,980,146 - 1,000,000 = 980,146; 14 shares cost 980,000 + 147 commission
    report = run([ok_signal(SAMSUNG, Stance.BUY, "0.5")], portfolio=account(cash=1_980_146))
    assert report.orders[0].qty == 13
    (clamp,) = report.decisions
    assert (clamp.code, clamp.before, clamp.after) == (RiskCode.CASH, 71, 13)
    # one won more and the 14th share fits
    report = run([ok_signal(SAMSUNG, Stance.BUY, "0.5")], portfolio=account(cash=1_980_147))
    assert report.orders[0].qty == 14


def test_cash_below_buffer_denies() -> None:
    report = run([ok_signal(SAMSUNG, Stance.BUY, "0.5")], portfolio=account(cash=900_000))
    assert report.orders == ()
    assert codes(report, DecisionKind.DENY) == [RiskCode.CASH]


def test_caps_hold_across_orders_of_one_session() -> None:
    # spendable 4,000,000: the first buy (higher conviction) takes 4,000,000 // 70,000 ~ 57
    # shares (3,990,000 + 598 fee), the second finds 9,402 KRW: not one 50,000 share.
    market = book_of(snap(SAMSUNG, 70_000), snap(NAVER, 50_000))
    signals = [ok_signal(NAVER, Stance.BUY, "0.6"), ok_signal(SAMSUNG, Stance.BUY, "0.9")]
    report = run(signals, portfolio=account(cash=5_000_000), market=market)
    assert [(o.ticker, o.qty) for o in report.orders] == [(SAMSUNG, 57)]
    assert report.decisions[-1].code is RiskCode.CASH
    assert report.decisions[-1].kind is DecisionKind.DENY


def test_daily_loss_halt_blocks_buys_not_sells() -> None:
    # start 100,000,000 -> equity 97,000,000 is exactly -3 %
    portfolio = account(
        equity=97_000_000, start_of_day=100_000_000, positions={HYNIX: (100, 7_900_000)}
    )
    market = book_of(snap(SAMSUNG, 70_000), snap(HYNIX, 79_000))
    signals = [ok_signal(SAMSUNG, Stance.BUY, "1"), ok_signal(HYNIX, Stance.SELL, "1")]
    report = run(signals, portfolio=portfolio, market=market)
    assert report.buys_halted
    assert [(o.ticker, o.side, o.qty) for o in report.orders] == [(HYNIX, Side.SELL, 63)]
    assert codes(report, DecisionKind.HALT) == [RiskCode.DAILY_LOSS_HALT]
    assert codes(report, DecisionKind.DENY) == [RiskCode.DAILY_LOSS_HALT]


def test_daily_loss_just_short_of_the_limit_does_not_halt() -> None:
    portfolio = account(equity=97_000_001, start_of_day=100_000_000)
    report = run([ok_signal(SAMSUNG, Stance.BUY, "0.5")], portfolio=portfolio)
    assert not report.buys_halted
    assert len(report.orders) == 1


def test_drawdown_halt_from_peak() -> None:
    # peak 120,000,000 -> equity 102,000,000 is -15 %
    portfolio = account(equity=102_000_000, peak=120_000_000)
    report = run([ok_signal(SAMSUNG, Stance.BUY, "0.5")], portfolio=portfolio)
    assert report.orders == ()
    assert codes(report, DecisionKind.HALT) == [RiskCode.DRAWDOWN_HALT]
    assert codes(report, DecisionKind.DENY) == [RiskCode.DRAWDOWN_HALT]


def test_unknown_ticker_and_missing_volatility_are_denied() -> None:
    market = book_of(snap(SAMSUNG, 70_000, vol=None))
    signals = [ok_signal(SAMSUNG, Stance.BUY, "0.5"), ok_signal("999999", Stance.BUY, "0.9")]
    report = run(signals, market=market)
    assert report.orders == ()
    assert {(d.ticker, d.code) for d in report.decisions} == {
        ("999999", RiskCode.UNKNOWN_TICKER),
        (SAMSUNG, RiskCode.NO_VOLATILITY),
    }


def test_failed_duplicate_and_hold_signals() -> None:
    failed = Signal(ticker=NAVER, status=SignalStatus.LLM_UNPARSEABLE, reason="bad json")
    signals = [
        ok_signal(SAMSUNG, Stance.HOLD, "0.05"),
        failed,
        ok_signal(HYNIX, Stance.BUY, "0.5"),
        ok_signal(HYNIX, Stance.BUY, "1"),
    ]
    market = book_of(snap(SAMSUNG, 70_000), snap(HYNIX, 79_000), snap(NAVER, 200_000))
    report = run(signals, market=market)
    assert [(o.ticker, o.qty) for o in report.orders] == [(HYNIX, 63)]  # 5,000,000 // 79,000
    denials = [(d.ticker, d.code) for d in report.decisions if d.kind is DecisionKind.DENY]
    assert denials == [(NAVER, RiskCode.SIGNAL_FAILED), (HYNIX, RiskCode.DUPLICATE_SIGNAL)]
    assert "llm_unparseable" in report.decisions[0].reason


def test_sell_is_a_share_of_the_position_rounded_down() -> None:
    portfolio = account(positions={SAMSUNG: (100, 7_000_000)})
    report = run([ok_signal(SAMSUNG, Stance.SELL, "0.55")], portfolio=portfolio)
    (order,) = report.orders
    assert (order.side, order.qty, order.limit_price_krw) == (Side.SELL, 55, 70_000)


def test_sell_without_position_or_below_one_share_is_denied() -> None:
    portfolio = account(positions={HYNIX: (1, 79_000)})
    market = book_of(snap(SAMSUNG, 70_000), snap(HYNIX, 79_000))
    signals = [ok_signal(SAMSUNG, Stance.SELL, "1"), ok_signal(HYNIX, Stance.SELL, "0.9")]
    report = run(signals, portfolio=portfolio, market=market)
    assert report.orders == ()
    assert {(d.ticker, d.code) for d in report.decisions} == {
        (SAMSUNG, RiskCode.NO_POSITION),
        (HYNIX, RiskCode.SIZED_TO_ZERO),
    }


def test_sell_is_capped_by_order_value() -> None:
    portfolio = account(positions={SAMSUNG: (1_000, 70_000_000)})
    report = run([ok_signal(SAMSUNG, Stance.SELL, "1")], portfolio=portfolio)
    assert report.orders[0].qty == 71
    assert codes(report, DecisionKind.CLAMP) == [RiskCode.MAX_ORDER_VALUE]


def test_off_grid_last_price_rounds_down_for_buys_and_up_for_sells() -> None:
    market = book_of(snap(SAMSUNG, 70_050, prev_close=70_000))
    portfolio = account(positions={HYNIX: (10, 700_000)})
    buy = run([ok_signal(SAMSUNG, Stance.BUY, "0.5")], market=market, portfolio=portfolio)
    assert buy.orders[0].limit_price_krw == 70_000
    assert codes(buy, DecisionKind.CLAMP) == [RiskCode.TICK]
    portfolio = account(positions={SAMSUNG: (10, 700_000)})
    sell = run([ok_signal(SAMSUNG, Stance.SELL, "1")], market=market, portfolio=portfolio)
    assert sell.orders[0].limit_price_krw == 70_100


def test_price_is_kept_inside_the_daily_limits() -> None:
    # prev close 70,000 -> limits 49,000 .. 91,000
    market = book_of(snap(SAMSUNG, 100_000, prev_close=70_000))
    report = run([ok_signal(SAMSUNG, Stance.BUY, "0.5")], market=market)
    assert report.orders[0].limit_price_krw == 91_000
    (clamp,) = [d for d in report.decisions if d.code is RiskCode.PRICE_LIMIT]
    assert (clamp.before, clamp.after) == (100_000, 91_000)


def test_upper_limit_off_the_grid_is_rounded_into_the_band() -> None:
    # prev close 19,990: width floor(5,997 / 10) * 10 = 5,990 -> upper 25,980, whose tick is 50
    market = book_of(snap(SAMSUNG, 30_000, prev_close=19_990))
    report = run([ok_signal(SAMSUNG, Stance.BUY, "0.5")], market=market)
    assert report.orders[0].limit_price_krw == 25_950


def test_order_count_cap_keeps_the_strongest_signals() -> None:
    market = book_of(snap(SAMSUNG, 70_000), snap(HYNIX, 79_000), snap(NAVER, 200_000))
    signals = [
        ok_signal(SAMSUNG, Stance.BUY, "0.3"),
        ok_signal(HYNIX, Stance.BUY, "0.9"),
        ok_signal(NAVER, Stance.BUY, "0.6"),
    ]
    limits = RiskLimits(max_orders_per_session=2)
    report = run(signals, market=market, limits=limits)
    assert [o.ticker for o in report.orders] == [HYNIX, NAVER]
    assert codes(report, DecisionKind.DENY) == [RiskCode.MAX_ORDERS]


def test_sized_to_zero_is_a_denial() -> None:
    # 1,000,000 x 10 % x 0.1 = 10,000 KRW budget < one 70,000 share
    portfolio = account(cash=1_000_000, equity=1_000_000)
    report = run([ok_signal(SAMSUNG, Stance.BUY, "0.1")], portfolio=portfolio)
    assert report.orders == ()
    assert codes(report, DecisionKind.DENY) == [RiskCode.SIZED_TO_ZERO]


def test_report_is_deterministic_and_ids_are_stable() -> None:
    market = book_of(snap(SAMSUNG, 70_000), snap(HYNIX, 79_000))
    signals = [ok_signal(SAMSUNG, Stance.BUY, "0.5"), ok_signal(HYNIX, Stance.BUY, "0.5")]
    first = run(signals, market=market)
    again = run(list(reversed(signals)), market=market)
    assert first == again
    assert len({o.client_order_id for o in first.orders}) == 2
    assert all(o.client_order_id.startswith("mat-") for o in first.orders)


def test_limits_come_from_settings() -> None:
    assert load_settings().risk_limits == RiskLimits()
    tight = load_settings(
        risk_max_order_krw=1_000_000, risk_stop_loss_pct=Decimal("3.5")
    ).risk_limits
    assert (tight.max_order_krw, tight.stop_loss_pct) == (1_000_000, Decimal("3.5"))
    assert tight.max_gross_exposure_pct == RiskLimits().max_gross_exposure_pct


def test_every_limit_has_its_setting() -> None:
    # Settings' RISK_* fields mirror RiskLimits one for one, with its defaults.
    settings = load_settings()
    for name, field in RiskLimits.model_fields.items():
        assert getattr(settings, f"risk_{name}") == field.default


def test_decisions_read_as_lines_and_the_report_survives_json() -> None:
    report = run([ok_signal(SAMSUNG, Stance.BUY, "1")])
    assert report.lines() == [
        "CLAMP 005930 buy qty 142->71 [max_order_value]: order value capped at 5,000,000 KRW: "
        "quantity cut from 142 to 71 at 70,000 KRW"
    ]
    assert RiskReport.model_validate_json(report.model_dump_json()) == report


def test_the_session_date_picks_the_tick_table() -> None:
    # 150,100 is on the 100-won grid since 2023-01-25; before, 100,000-500,000 ticked by 500
    market = book_of(snap(SAMSUNG, 150_100, prev_close=150_000))
    signals = [ok_signal(SAMSUNG, Stance.BUY, "0.5")]
    now = propose_orders(signals, account(), market, LIMITS, thread_id=THREAD)
    before = propose_orders(
        signals, account(), market, LIMITS, thread_id=THREAD, session_date=date(2022, 6, 2)
    )
    assert now.orders[0].limit_price_krw == 150_100
    assert before.orders[0].limit_price_krw == 150_000


def with_limits(snapshot: MarketSnapshot, lower: int | None, upper: int) -> MarketSnapshot:
    """The snapshot with the day's limits as a KIS quote gives them."""
    fields = snapshot.model_dump() | {"lower_limit_krw": lower, "upper_limit_krw": upper}
    return MarketSnapshot.model_validate(fields)


def test_the_limits_kis_announced_win_over_our_computation() -> None:
    # Computed from the previous close 70,000 the upper limit would be 91,000; KIS says the
    # day's base (and so its limits) differ, e.g. after a corporate action reset the base.
    kis = with_limits(snap(SAMSUNG, 100_000, prev_close=70_000), 45_500, 84_500)
    report = run([ok_signal(SAMSUNG, Stance.BUY, "0.5")], market=book_of(kis))
    assert report.orders[0].limit_price_krw == 84_500
    (clamp,) = [d for d in report.decisions if d.code is RiskCode.PRICE_LIMIT]
    assert (clamp.before, clamp.after) == (100_000, 84_500)
    # A sell far below is pulled up to KIS's lower limit, not to the computed 49,000.
    low = with_limits(snap(SAMSUNG, 40_000, prev_close=70_000), 45_500, 84_500)
    portfolio = account(positions={SAMSUNG: (10, 400_000)})  # bought at 40,000: no stop-loss
    sell = run([ok_signal(SAMSUNG, Stance.SELL, "1")], market=book_of(low), portfolio=portfolio)
    assert sell.orders[0].limit_price_krw == 45_500


def test_a_market_order_is_valued_at_the_upper_limit_kis_announced() -> None:
    kis = with_limits(snap(SAMSUNG, 70_000), None, 80_000)
    assert check_price(OrderType.MARKET, None, kis) == 80_000
    assert check_price(OrderType.MARKET, None, snap(SAMSUNG, 70_000)) == 91_000
