"""The KRX venue model on its own: checks, the fill rule, the two realism rules, costs by date.

Numbers are worked out by hand in the comments; the brokers' own tests show the same rules
through their books (tests/evals/backtest/test_venue_rules.py, tests/conformance/).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from core.orders import Side
from tools.krx.costs import CostModel
from tools.krx.rules import Market
from tools.krx.venue import (
    FillRules,
    Match,
    NoFill,
    PriceBand,
    RejectCode,
    VenueBar,
    band_of,
    check_order,
    fill_costs,
    match,
    volume_cap,
)

DAY = date(2024, 3, 5)
BAND = band_of(10_000, Market.KOSPI, DAY)  # tick 10; width floor(3,000 / 10) x 10: 7,000-13,000


def test_the_band_from_the_base_price() -> None:
    assert (BAND.lower, BAND.upper) == (7_000, 13_000)
    assert band_of(10_000, Market.KOSPI, DAY) == PriceBand(7_000, 13_000)
    assert 13_000 in BAND and 13_010 not in BAND and 6_990 not in BAND


@pytest.mark.parametrize(
    ("qty", "limit", "code"),
    [
        (0, 10_000, RejectCode.QTY),
        (-5, 10_000, RejectCode.QTY),
        (True, 10_000, RejectCode.QTY),  # a bool is not a share count
        (10, 10_005, RejectCode.TICK),  # 10,000-19,990 moves in 10s since 2023-01-25
        (10, 13_010, RejectCode.BAND),  # one tick above the upper limit
        (10, 6_990, RejectCode.BAND),
    ],
)
def test_what_the_venue_refuses(qty: int, limit: int, code: RejectCode) -> None:
    rejection = check_order(qty, limit, Market.KOSPI, DAY, BAND)
    assert rejection is not None and rejection.code is code
    assert rejection.reason and rejection.detail


def test_what_the_venue_takes() -> None:
    assert check_order(10, 13_000, Market.KOSPI, DAY, BAND) is None
    assert check_order(10, None, Market.KOSPI, DAY, BAND) is None  # a market order
    # The parity mode checks neither grid nor band.
    assert check_order(10, 10_005, Market.KOSPI, DAY, None, ticks=False) is None
    # Before 2023-01-25 a KOSPI price of 10,000-49,950 moved in 50s.
    assert check_order(1, 10_010, Market.KOSPI, date(2022, 3, 4), None) is not None


def test_the_fill_rule_market_and_limits() -> None:
    bar = VenueBar(open=10_100, high=10_300, low=9_900, close=10_000, volume=None)
    rules = FillRules()
    assert match(Side.BUY, None, 5, bar, BAND, rules) == Match(10_100, 5)  # market: the open
    assert match(Side.BUY, 10_000, 5, bar, BAND, rules) == Match(10_000, 5)  # reached intraday
    assert match(Side.BUY, 10_200, 5, bar, BAND, rules) == Match(10_100, 5)  # open is better
    assert match(Side.BUY, 9_800, 5, bar, BAND, rules) is NoFill.NOT_REACHED
    assert match(Side.SELL, 10_200, 5, bar, BAND, rules) == Match(10_200, 5)
    assert match(Side.SELL, 9_000, 5, bar, BAND, rules) == Match(10_100, 5)
    assert match(Side.SELL, 10_400, 5, bar, BAND, rules) is NoFill.NOT_REACHED


def test_a_quote_is_a_bar_at_its_last_price() -> None:
    quote = VenueBar.at_price(53_600)
    rules = FillRules()
    assert match(Side.BUY, 53_600, 1_000_000, quote, None, rules) == Match(53_600, 1_000_000)
    assert match(Side.BUY, 53_500, 1, quote, None, rules) is NoFill.NOT_REACHED
    halted = VenueBar.at_price(53_600, halted=True)
    assert match(Side.BUY, None, 1, halted, None, rules) is NoFill.ZERO_VOLUME


def test_volume_cap_by_hand() -> None:
    # floor(2,345 x 0.1) = 234; a 500-share order fills 234, the other 266 lapse.
    bar = VenueBar(open=10_000, high=10_200, low=9_900, close=10_100, volume=2_345)
    assert volume_cap(2_345, Decimal("0.1")) == 234
    assert match(Side.BUY, None, 500, bar, BAND, FillRules()) == Match(10_000, 234)
    # An order under the cap fills whole.
    assert match(Side.BUY, None, 234, bar, BAND, FillRules()) == Match(10_000, 234)
    # A quarter: floor(2,345 x 0.25) = 586 >= 500, whole.
    quarter = FillRules(max_volume_share=Decimal("0.25"))
    assert match(Side.BUY, None, 500, bar, BAND, quarter) == Match(10_000, 500)
    # A bar of 5 shares still lets one share through: max(1, floor(0.5)) = 1.
    assert volume_cap(5, Decimal("0.1")) == 1
    # No volume, no fill; the parity rules take the whole order.
    assert volume_cap(0, Decimal("0.1")) == 0
    assert match(Side.BUY, None, 500, bar, BAND, FillRules.parity()) == Match(10_000, 500)


@pytest.mark.parametrize("share", [Decimal(0), Decimal("-0.1"), Decimal("1.5")])
def test_the_cap_is_a_share_of_the_volume(share: Decimal) -> None:
    with pytest.raises(ValueError, match="max_volume_share"):
        FillRules(max_volume_share=share)


def test_limit_lock_by_hand() -> None:
    rules = FillRules()
    # Band 7,000-13,000. Opens at the upper limit and stays there: no buy; a sell is fine.
    locked_up = VenueBar(open=13_000, high=13_000, low=13_000, close=13_000, volume=1_000)
    assert match(Side.BUY, None, 10, locked_up, BAND, rules) is NoFill.LOCKED_UP
    assert match(Side.BUY, 13_000, 10, locked_up, BAND, rules) is NoFill.LOCKED_UP
    assert match(Side.SELL, None, 10, locked_up, BAND, rules) == Match(13_000, 10)
    # Opens at the limit but trades away from it (low 12,500 < 13,000): the buy fills at the open.
    away = VenueBar(open=13_000, high=13_000, low=12_500, close=13_000, volume=1_000)
    assert match(Side.BUY, None, 10, away, BAND, rules) == Match(13_000, 10)
    # Symmetric at the lower limit: no sell unless the high is above 7,000.
    locked_down = VenueBar(open=7_000, high=7_000, low=7_000, close=7_000, volume=1_000)
    assert match(Side.SELL, None, 10, locked_down, BAND, rules) is NoFill.LOCKED_DOWN
    assert match(Side.BUY, None, 10, locked_down, BAND, rules) == Match(7_000, 10)
    bounced = VenueBar(open=7_000, high=7_300, low=7_000, close=7_200, volume=1_000)
    assert match(Side.SELL, None, 10, bounced, BAND, rules) == Match(7_000, 10)
    # Off in the parity rules, and without a known band.
    assert match(Side.BUY, None, 10, locked_up, BAND, FillRules.parity()) == Match(13_000, 10)
    assert match(Side.BUY, None, 10, locked_up, None, rules) == Match(13_000, 10)


def test_costs_by_date_by_hand() -> None:
    model = CostModel()
    # Buy 7 x 176,300 = 1,234,100: commission floor(185.115) = 185; the cash pays both.
    bought = fill_costs(Side.BUY, 7, 176_300, market=Market.KOSPI, day=DAY, cost_model=model)
    assert (bought.value, bought.commission, bought.tax) == (1_234_100, 185, 0)
    assert bought.cash_delta == -1_234_285
    # Sold 2024-12-27 settles 2025-01-02 (T+2 across the holidays): 0.15 %, not 2024's 0.18 %.
    # 10 x 50,000 = 500,000: commission 75, tax 750, cash +499,175.
    sold = fill_costs(
        Side.SELL, 10, 50_000, market=Market.KOSPI, day=date(2024, 12, 27), cost_model=model
    )
    assert (sold.commission, sold.tax, sold.cash_delta) == (75, 750, 499_175)
    assert sold.settles_on == date(2025, 1, 2)
    etf = fill_costs(
        Side.SELL, 10, 50_000, market=Market.ETF, day=date(2024, 12, 27), cost_model=model
    )
    assert etf.tax == 0
