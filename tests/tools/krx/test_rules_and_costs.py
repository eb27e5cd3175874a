from datetime import date
from decimal import Decimal

import pytest

from tools.krx.calendar import is_trading_day, next_trading_day, settlement_date
from tools.krx.costs import CostModel, transaction_tax_rate
from tools.krx.rules import Market, is_on_tick, price_limits, round_to_tick, tick_size


@pytest.mark.parametrize(
    ("price", "tick"),
    [
        (1_999, 1),
        (2_000, 5),
        (4_995, 5),
        (5_000, 10),
        (19_990, 10),
        (20_000, 50),
        (49_950, 50),
        (50_000, 100),
        (199_900, 100),
        (200_000, 500),
        (499_500, 500),
        (500_000, 1_000),
    ],
)
def test_tick_table_since_2023(price: int, tick: int) -> None:
    assert tick_size(price) == tick


def test_tick_table_before_the_2023_reform_and_etf() -> None:
    old = date(2022, 6, 1)
    assert tick_size(128_500, on=old) == 500
    assert tick_size(60_000, Market.KOSDAQ, on=old) == 100
    assert tick_size(600_000, Market.KOSDAQ, on=old) == 100
    assert tick_size(35_000, Market.ETF) == 5


def test_rounding_to_the_grid() -> None:
    assert round_to_tick(71_350) == 71_300
    assert round_to_tick(71_350, up=True) == 71_400
    assert is_on_tick(71_300) and not is_on_tick(71_350)


def test_price_limits_match_the_kis_sample() -> None:
    # ../shared/reference/kis-api.md section 7: 000660 base 128,500 (2022 tick 500)
    assert price_limits(128_500, on=date(2022, 6, 1)) == (90_000, 167_000)
    lower, upper = price_limits(71_000)
    assert (lower, upper) == (71_000 - 21_300, 71_000 + 21_300)
    assert is_on_tick(lower) and is_on_tick(upper)


@pytest.mark.parametrize(
    ("day", "rate"),
    [
        (date(2019, 4, 30), "0.0030"),
        (date(2019, 6, 3), "0.0025"),
        (date(2021, 3, 2), "0.0023"),
        (date(2023, 7, 3), "0.0020"),
        (date(2024, 5, 2), "0.0018"),
        (date(2025, 5, 2), "0.0015"),
        (date(2026, 1, 2), "0.0020"),
    ],
)
def test_tax_schedule_by_settlement_date(day: date, rate: str) -> None:
    assert transaction_tax_rate(day) == Decimal(rate)


def test_etfs_pay_no_tax_and_costs_floor_to_the_won() -> None:
    costs = CostModel()
    assert costs.commission(10_000_000) == 1_500
    assert costs.commission(71_300 * 7) == 74  # 74.865 floored
    assert costs.tax(10_000_000, date(2023, 7, 3)) == 20_000
    assert costs.tax(10_000_000, date(2023, 7, 3), Market.ETF) == 0
    assert CostModel(charge_tax=False).tax(10_000_000, date(2023, 7, 3)) == 0


def test_settlement_is_two_trading_days_later() -> None:
    # KRX is closed on 2024-12-31, so a sale on Fri 2024-12-27 settles on 2025-01-02.
    assert not is_trading_day(date(2024, 12, 31))
    assert settlement_date(date(2024, 12, 27)) == date(2025, 1, 2)
    assert next_trading_day(date(2024, 12, 27)) == date(2024, 12, 30)
    assert transaction_tax_rate(settlement_date(date(2024, 12, 27))) == Decimal("0.0015")
