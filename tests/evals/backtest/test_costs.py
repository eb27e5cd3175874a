"""KRX costs and rules, against numbers computed by hand (no library models the KRX sell tax)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from core.orders import Side
from evals.backtest.broker import BrokerConfig, CostMode
from evals.backtest.data import Bars, CsvBarSource
from evals.backtest.engine import BacktestConfig, BacktestResult, run_backtest
from evals.backtest.orders import OrderIntent
from evals.backtest.slippage import BpsSlippage, TickSlippage
from evals.backtest.strategies import SmaCrossover
from evals.backtest.view import MarketData
from tests.evals.backtest.fakes import ScriptedStrategy
from tools.krx.rules import Market

Row = tuple[date, float, float, float, float, int]


def bars(ticker: str, rows: Sequence[Row]) -> Bars:
    return Bars.from_columns(
        ticker,
        [r[0] for r in rows],
        [r[1] for r in rows],
        [r[2] for r in rows],
        [r[3] for r in rows],
        [r[4] for r in rows],
        [r[5] for r in rows],
    )


def flat(ticker: str, days: Sequence[date], price: float, volume: int = 1_000) -> Bars:
    return bars(ticker, [(d, price, price, price, price, volume) for d in days])


def run(
    data: Sequence[Bars],
    script: dict[date, list[OrderIntent]],
    broker: BrokerConfig | None = None,
    cash: int = 10_000_000,
) -> BacktestResult:
    config = BacktestConfig(cash=cash, broker=broker or BrokerConfig())
    return run_backtest(MarketData(list(data)), ScriptedStrategy(script), config)


def buy(ticker: str, qty: int | None = None, limit: int | None = None) -> OrderIntent:
    return OrderIntent(ticker, Side.BUY, qty=qty, limit_price=limit)


def sell(ticker: str, qty: int | None = None, limit: int | None = None) -> OrderIntent:
    return OrderIntent(ticker, Side.SELL, qty=qty, limit_price=limit)


# --- the Samsung SMA run in KRX mode ------------------------------------------------------------


@pytest.fixture(scope="module")
def samsung(shared_dir: Path) -> Bars:
    source = CsvBarSource(shared_dir / "market-data")
    return source.daily_bars("005930", date(2019, 1, 1), date(2023, 12, 31))


def _sma(samsung: Bars, broker: BrokerConfig) -> BacktestResult:
    config = BacktestConfig(cash=10_000_000, broker=broker)
    return run_backtest(MarketData([samsung]), SmaCrossover(10, 30), config)


def test_krx_mode_first_two_trades_by_hand(samsung: Bars) -> None:
    krx = _sma(samsung, BrokerConfig())
    first, second = krx.trades[:2]
    # Trade 1: buy 2019-04-03 @ 46,750. floor(10,000,000 / (46,750 x 1.00015)) = 213 shares.
    #   entry fee floor(9,957,750 x 0.00015 = 1,493.6625) = 1,493
    #   sell 2019-04-30 @ 46,000 settles 2019-05-03 (May 1 is a KRX holiday): tax 0.30 %
    #   exit fee floor(9,798,000 x 0.00015 = 1,469.7) = 1,469; tax 9,798,000 x 0.003 = 29,394
    assert (first.qty, first.entry_price, first.exit_price) == (213, 46_750, 46_000)
    assert first.commission == 1_493 + 1_469
    assert first.tax == 29_394
    assert first.pnl == 213 * (46_000 - 46_750) - 1_493 - 1_469 - 29_394 == -192_106
    # Cash after trade 1: 10,000,000 - 9,957,750 - 1,493 + 9,798,000 - 1,469 - 29,394 = 9,807,894
    # Trade 2: buy 2019-06-13 @ 44,200: floor(9,807,894 / (44,200 x 1.00015)) = 221 (parity: 222)
    #   entry fee floor(9,768,200 x 0.00015 = 1,465.23) = 1,465
    #   sell 2019-08-06 @ 42,500 settles 2019-08-08: tax 0.25 % (since 2019-06-03)
    #   exit fee floor(9,392,500 x 0.00015 = 1,408.875) = 1,408; tax floor(23,481.25) = 23,481
    assert (second.qty, second.entry_price, second.exit_price) == (221, 44_200, 42_500)
    assert second.commission == 1_465 + 1_408
    assert second.tax == 23_481
    assert second.pnl == 221 * (42_500 - 44_200) - 1_465 - 1_408 - 23_481 == -402_054
    assert all(t.commission == t.commission.to_integral_value() for t in krx.trades)
    assert krx.final_cash == krx.final_cash.to_integral_value()


def test_krx_mode_deviates_from_parity_by_the_tax(samsung: Bars) -> None:
    parity = _sma(samsung, BrokerConfig.parity())
    # Parity arithmetic plus the tax: the first trade differs by exactly its tax.
    taxed = _sma(samsung, replace(BrokerConfig.parity(), charge_tax=True))
    assert taxed.trades[0].qty == parity.trades[0].qty == 213
    assert parity.trades[0].pnl is not None and taxed.trades[0].pnl is not None
    assert parity.trades[0].pnl - taxed.trades[0].pnl == Decimal(29_394)
    # Full KRX mode: the tax plus the won-flooring of both fees (0.6625 + 0.7).
    krx = _sma(samsung, BrokerConfig())
    assert krx.trades[0].pnl is not None
    assert parity.trades[0].pnl - krx.trades[0].pnl == Decimal(29_394) - Decimal("1.3625")
    # KRX mode with the tax off: the same first trade, less exactly the tax.
    untaxed = _sma(samsung, BrokerConfig(charge_tax=False))
    assert untaxed.trades[0].pnl is not None
    assert untaxed.trades[0].pnl - krx.trades[0].pnl == 29_394
    assert krx.tax_paid == sum(t.tax for t in krx.trades)
    assert untaxed.tax_paid == 0


# --- hand-built scenarios -------------------------------------------------------------------------

DEC_2024 = [date(2024, 12, d) for d in (23, 24, 26, 27, 30)]


@pytest.mark.parametrize(
    ("market", "tax_dec26", "tax_dec27"),
    [(Market.KOSPI, 900, 750), (Market.KOSDAQ, 900, 750), (Market.ETF, 0, 0)],
)
def test_tax_follows_the_settlement_date_across_the_year_end(
    market: Market, tax_dec26: int, tax_dec27: int
) -> None:
    # Sold 2024-12-26, settles 2024-12-30: 0.18 %. Sold 2024-12-27, settles 2025-01-02: 0.15 %.
    data = [flat("A", DEC_2024, 50_000)]
    script = {DEC_2024[0]: [buy("A", 20)], DEC_2024[1]: [sell("A", 10)], DEC_2024[2]: [sell("A")]}
    result = run(data, script, BrokerConfig(markets={"A": market}))
    assert [(f.day, f.tax) for f in result.fills if f.side is Side.SELL] == [
        (date(2024, 12, 26), tax_dec26),
        (date(2024, 12, 27), tax_dec27),
    ]
    fee = 500_000 * 15 // 100_000  # 75 on each 10-share leg; 150 on the 20-share buy
    assert (
        result.final_cash
        == 10_000_000 - 1_000_000 - 150 + 2 * (500_000 - fee) - tax_dec26 - tax_dec27
    )


def test_commission_is_floored_in_krx_mode_and_exact_in_parity_mode() -> None:
    days = DEC_2024[:3]
    data = [flat("A", days, 176_300)]
    script = {days[0]: [buy("A", 7)]}
    krx = run(data, script)
    parity = run(data, script, BrokerConfig.parity())
    # 7 x 176,300 = 1,234,100; x 0.00015 = 185.115
    assert krx.fills[0].commission == 185
    assert parity.fills[0].commission == Decimal("185.115")
    assert krx.final_cash == 10_000_000 - 1_234_100 - 185


def test_fifo_lots_split_a_partial_sell_with_pro_rata_costs() -> None:
    days = DEC_2024[:4]
    # 1,000 shares a day: the 10 % volume cap (100 shares) does not bind the 15-share sell.
    rows: list[Row] = [
        (d, p, p, p, p, 1_000) for d, p in zip(days, [10_000, 10_000, 12_000, 15_000], strict=True)
    ]
    script = {days[0]: [buy("A", 10)], days[1]: [buy("A", 10)], days[2]: [sell("A", 15)]}
    result = run([bars("A", rows)], script, BrokerConfig(charge_tax=False))
    first, second = result.trades
    assert (first.qty, first.entry_price, first.exit_price) == (10, 10_000, 15_000)
    assert (second.qty, second.entry_price, second.exit_price) == (5, 12_000, 15_000)
    # buy fees: 100,000 -> 15; 120,000 -> 18; sell fee on 225,000 -> 33 (33.75 floored)
    assert first.commission == 15 + Decimal(33) * 10 / 15
    assert second.commission == Decimal(18) * 5 / 10 + Decimal(33) * 5 / 15
    [still_open] = result.open_trades
    assert (still_open.qty, still_open.entry_price, still_open.commission) == (5, 12_000, 9)


def test_limit_orders_ticks_and_slippage() -> None:
    day = [date(2024, 3, d) for d in (4, 5, 6, 7, 8)]
    rows: list[Row] = [
        (day[0], 50_000, 50_000, 50_000, 50_000, 10),
        (day[1], 50_500, 51_000, 49_800, 50_000, 10),  # off-grid limit 50,050 rejected
        (day[2], 50_500, 51_000, 49_800, 50_000, 10),  # limit 49,900 reached intraday
        (day[3], 49_500, 51_000, 49_000, 50_000, 10),  # limit 50,000, opens below: fills at open
        (day[4], 51_000, 51_000, 50_900, 51_000, 10),  # limit 50,000 never reached
    ]
    script = {
        day[0]: [buy("A", 1, limit=50_050)],
        day[1]: [buy("A", 1, limit=49_900)],
        day[2]: [buy("A", 1, limit=50_000)],
        day[3]: [buy("A", 1, limit=50_000)],
    }
    result = run([bars("A", rows)], script)
    assert [(f.day, f.price) for f in result.fills] == [(day[2], 49_900), (day[3], 49_500)]
    assert [(r.day, r.reason) for r in result.rejections] == [
        (day[1], "limit price off the tick grid"),
        (day[4], "limit not reached"),
    ]


@pytest.mark.parametrize(
    ("slippage", "on", "open_", "buy_price", "sell_price"),
    [
        # 10 bps of 46,750 = 46.75: buy 46,796.75 -> up to the tick: 46,800; sell -> 46,700
        (BpsSlippage(Decimal(10)), date(2019, 4, 3), 46_750, 46_800, 46_700),
        # one tick: 199,900 has a 100 tick since 2023 -> 200,000 / 199,800
        (TickSlippage(1), date(2024, 3, 4), 199_900, 200_000, 199_800),
        # before 2023-01-25 (KOSPI) 99,900 has a 100 tick; 1,000 above 100,000 -> 500 tick
        (TickSlippage(1), date(2022, 3, 4), 99_900, 100_000, 99_800),
    ],
)
def test_slippage_moves_against_the_trader_and_lands_on_the_tick_grid(
    slippage: BpsSlippage | TickSlippage, on: date, open_: int, buy_price: int, sell_price: int
) -> None:
    days = [on.replace(day=on.day - 1), on, on.replace(day=on.day + 1)]
    wide: list[Row] = [(d, open_, open_ * 1.1, open_ * 0.9, open_, 10) for d in days]
    broker = BrokerConfig(slippage=slippage, charge_tax=False)
    result = run([bars("A", wide)], {days[0]: [buy("A", 1)], days[1]: [sell("A")]}, broker)
    assert [f.price for f in result.fills] == [buy_price, sell_price]


def test_price_band_locked_limit_and_zero_volume() -> None:
    day = [date(2024, 3, d) for d in (4, 5, 6, 7, 8)]
    rows: list[Row] = [
        (day[0], 10_000, 10_000, 10_000, 10_000, 10),
        (day[1], 13_000, 13_000, 13_000, 13_000, 10),  # locked at the upper limit (10,000 +30 %)
        (day[2], 13_000, 13_000, 13_000, 13_000, 0),  # halted: zero volume
        (day[3], 12_000, 12_500, 11_800, 12_000, 10),
        (day[4], 12_000, 12_500, 11_800, 12_000, 10),
    ]
    script = {
        day[0]: [buy("A", 1)],
        day[1]: [buy("A", 1)],
        day[2]: [buy("A", 1), buy("A", 1, limit=16_910)],  # band on day 3: 9,100..16,900
        day[3]: [sell("A", 5)],
    }
    result = run([bars("A", rows)], script)
    assert [(r.day, r.reason) for r in result.rejections] == [
        (day[1], "locked at the upper limit"),
        (day[2], "no trading (zero-volume bar)"),
        (day[3], "limit price outside the daily band"),
        (day[4], "sell 5 exceeds holding 1"),
    ]
    assert [(f.day, f.price) for f in result.fills] == [(day[3], 12_000)]
    parity = run([bars("A", rows)], {day[0]: [buy("A", 1)]}, BrokerConfig.parity())
    assert [(f.day, f.price) for f in parity.fills] == [(day[1], 13_000)]


def test_whole_shares_cash_checks_and_missing_bars() -> None:
    days = DEC_2024[:4]
    data = [flat("A", days, 333_000), flat("B", days[:1] + days[2:], 1_000)]
    script = {
        days[0]: [buy("A"), buy("B", 1)],  # A: floor(1,000,000 / (333,000 x 1.00015)) = 3
        days[1]: [buy("A", 1)],
        days[2]: [sell("B"), sell("A", 4)],
    }
    result = run(data, script, cash=1_000_000)
    assert [(f.ticker, f.qty) for f in result.fills] == [("A", 3)]
    assert [(r.ticker, r.reason) for r in result.rejections] == [
        ("B", "no bar on the fill day"),
        ("A", "insufficient cash"),
        ("B", "no position to sell"),
        ("A", "sell 4 exceeds holding 3"),
    ]
    assert result.final_cash == 1_000_000 - 999_000 - 149
    assert CostMode.KRX is BrokerConfig().cost_mode
