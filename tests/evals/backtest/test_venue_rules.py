"""The volume cap and the limit lock in the backtest's book, with cash and costs by hand.

Both rules are the venue model's (`tools.krx.venue.fills`); here they run through the engine,
the broker and the book, in KRX mode (on) and parity mode (off).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from core.orders import Side
from evals.backtest.broker import BrokerConfig
from tests.evals.backtest.test_costs import Row, bars, buy, run, sell

WEEK = [date(2024, 3, d) for d in (4, 5, 6, 7, 8)]  # Mon-Fri, all KRX sessions


def test_volume_cap_fills_a_share_of_the_bar_and_the_rest_lapses() -> None:
    rows: list[Row] = [
        (WEEK[0], 10_000, 10_000, 10_000, 10_000, 1_000),
        (WEEK[1], 10_000, 10_200, 9_900, 10_100, 2_345),
        (WEEK[2], 11_000, 11_200, 10_900, 11_000, 1_500),
        (WEEK[3], 11_000, 11_200, 10_900, 11_000, 1_500),
    ]
    script = {WEEK[0]: [buy("A", 500)], WEEK[1]: [sell("A")]}
    result = run([bars("A", rows)], script)
    bought, sold = result.fills
    # Buy 500 at the 2024-03-05 open, 10,000: cap floor(2,345 x 0.1) = 234, 266 lapse.
    #   value 2,340,000; commission floor(351.0) = 351; cash 10,000,000 - 2,340,351 = 7,659,649
    assert (bought.side, bought.qty, bought.price, bought.lapsed) == (Side.BUY, 234, 10_000, 266)
    assert bought.commission == 351
    # Sell the whole position (234) at the 2024-03-06 open, 11,000: cap floor(1,500 x 0.1) = 150,
    # 84 lapse and stay held. Value 1,650,000; commission floor(247.5) = 247; settles 03-08 at
    # 0.18 %: tax 2,970. Cash 7,659,649 + 1,650,000 - 247 - 2,970 = 9,306,432.
    assert (sold.side, sold.qty, sold.price, sold.lapsed) == (Side.SELL, 150, 11_000, 84)
    assert (sold.commission, sold.tax) == (Decimal(247), Decimal(2_970))
    assert result.final_cash == 9_306_432
    [still_open] = result.open_trades
    assert still_open.qty == 84
    # Marked at the last close, 11,000: 9,306,432 + 84 x 11,000 = 10,230,432.
    assert result.final_equity == 10_230_432
    # Parity mode takes the whole orders: 500 bought, 500 sold.
    parity = run([bars("A", rows)], script, BrokerConfig.parity())
    assert [(f.qty, f.lapsed) for f in parity.fills] == [(500, 0), (500, 0)]


def test_volume_cap_sizes_a_cash_buy_and_is_configurable() -> None:
    rows: list[Row] = [
        (WEEK[0], 10_000, 10_000, 10_000, 10_000, 1_000),
        (WEEK[1], 10_000, 10_000, 10_000, 10_000, 1_000),
        (WEEK[2], 10_000, 10_000, 10_000, 10_000, 1_000),
    ]
    # All the cash buys floor(10,000,000 / (10,000 x 1.00015)) = 999 shares; the cap is 100.
    capped = run([bars("A", rows)], {WEEK[0]: [buy("A")]})
    assert [(f.qty, f.lapsed) for f in capped.fills] == [(100, 899)]
    # Cash: 10,000,000 - 1,000,000 - floor(150.0) = 8,999,850.
    assert capped.final_cash == 8_999_850
    # A quarter of the volume: 250 shares; no cap: all 999.
    quarter = run(
        [bars("A", rows)], {WEEK[0]: [buy("A")]}, BrokerConfig(max_volume_share=Decimal("0.25"))
    )
    assert [f.qty for f in quarter.fills] == [250]
    uncapped = run([bars("A", rows)], {WEEK[0]: [buy("A")]}, BrokerConfig(max_volume_share=None))
    assert [f.qty for f in uncapped.fills] == [999]


def test_limit_lock_blocks_a_locked_open_unless_the_bar_trades_away() -> None:
    rows: list[Row] = [
        (WEEK[0], 10_000, 10_000, 10_000, 10_000, 1_000),
        # base 10,000: band 7,000-13,000; locked at the upper limit all day
        (WEEK[1], 13_000, 13_000, 13_000, 13_000, 1_000),
        # base 13,000: band 9,100-16,900; opens at the upper limit, trades down to 16,000
        (WEEK[2], 16_900, 16_900, 16_000, 16_900, 1_000),
        # base 16,900: width floor(5,070 / 10) x 10 = 5,070, band 11,830-21,970; locked down
        (WEEK[3], 11_830, 11_830, 11_830, 11_830, 1_000),
        # base 11,830: width floor(3,549 / 10) x 10 = 3,540, band 8,290-15,370; opens at the
        # lower limit, trades up to 8,800
        (WEEK[4], 8_290, 8_800, 8_290, 8_500, 1_000),
    ]
    script = {
        WEEK[0]: [buy("A", 10)],
        WEEK[1]: [buy("A", 10)],
        WEEK[2]: [sell("A")],
        WEEK[3]: [sell("A")],
    }
    result = run([bars("A", rows)], script)
    assert [(r.day, r.reason) for r in result.rejections] == [
        (WEEK[1], "locked at the upper limit"),
        (WEEK[3], "locked at the lower limit"),
    ]
    assert [(f.day, f.side, f.qty, f.price) for f in result.fills] == [
        (WEEK[2], Side.BUY, 10, 16_900),
        (WEEK[4], Side.SELL, 10, 8_290),
    ]
    # Buy 10 x 16,900 = 169,000: commission floor(25.35) = 25.
    # Sell 10 x 8,290 = 82,900 on Fri 03-08, settles Tue 03-12 at 0.18 %: commission
    # floor(12.435) = 12, tax floor(149.22) = 149.
    # Cash: 10,000,000 - 169,025 + 82,900 - 12 - 149 = 9,913,714.
    assert [(f.commission, f.tax) for f in result.fills] == [
        (Decimal(25), Decimal(0)),
        (Decimal(12), Decimal(149)),
    ]
    assert result.final_cash == 9_913_714
    # Parity mode has no lock: the first buy fills into the locked bar, the first sell too.
    parity = run([bars("A", rows)], script, BrokerConfig.parity())
    assert [(f.day, f.side, f.price) for f in parity.fills][:2] == [
        (WEEK[1], Side.BUY, 13_000),
        (WEEK[2], Side.BUY, 16_900),
    ]
    assert (WEEK[3], Side.SELL, 11_830) in [(f.day, f.side, f.price) for f in parity.fills]
