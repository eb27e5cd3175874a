"""Synthetic edge cases: the days a session must survive, built deterministically in code.

Each case is one made-up ticker (codes 9000x0, which KRX does not list) with a seeded price
path ending on `AS_OF`, the book and the recorded economic data of that day, the outcome over
the next `HORIZON` trading days, and what a sound session does with it (`Expect`):

- `gap_down`: an uptrend, then the last day opens 12 % lower on five times the volume; 100
  shares are held at the pre-gap price (a stop-loss must fire); the slide goes on (-6 %).
- `trading_halt`: the last bar is flat with no volume (a halted ticker): no judgement, no order.
- `limit_up`: a downtrend, then a close at the upper daily limit (+30 %): any buy must stay
  within the price limits; it goes on up (+5 %).
- `earnings_surprise`: a flat chart, and an annual report filed the day before showing net
  income tripled (ROE 30 %); the price follows (+7 %).
- `macro_shock`: CPI at 7 % y/y, the base rate raised, KRW/USD spiking, the price down 10 %
  in a week; it falls further (-4 %).
- `missing_data`: the last bar has no close (the feed dropped it): no judgement, no order.
- `short_history`: a listing 30 bars old, too short for the indicators: no judgement.
- `steady_uptrend` / `steady_downtrend`: clean trends that go on (+4 % / -4 %), so direction
  accuracy has cases whose right answer is plain.

Dates are fictitious, so no model can remember what came next; the memorised-history flag
applies to the history dataset only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import numpy as np

from evals.agents_eval.scenarios import Dataset, Expect, Holding, Scenario
from evals.backtest.data import Bars
from evals.backtest.econ_csv import FilingRow
from evals.backtest.fundamentals import RecordedEcon
from tools.econ.snapshot_models import Observed
from tools.krx.rules import Market, price_limits, round_to_tick

VERSION = "edge-1"
AS_OF = date(2024, 3, 15)
HORIZON = 5
BARS = 120


@dataclass(frozen=True)
class _Path:
    """A price path: closes (last = AS_OF), and the last bar's open and volume if special."""

    closes: list[float]
    last_open: float | None = None
    last_volume: int | None = None


def _dates(count: int) -> list[date]:
    end = np.datetime64(AS_OF, "D")
    days = np.busday_offset(end, np.arange(-(count - 1), 1), roll="backward")
    return [d.item() for d in days]


def _trend(seed: int, start: float, drift: float, count: int = BARS) -> list[float]:
    rng = np.random.default_rng(seed)
    steps = drift + rng.normal(0.0, 0.008, count - 1)
    path = [start]
    for step in steps:
        path.append(path[-1] * (1 + step))
    return path


def _bars(ticker: str, path: _Path) -> Bars:
    closes = [float(round_to_tick(max(round(c), 1))) if np.isfinite(c) else c for c in path.closes]
    days = _dates(len(closes))
    opens = [closes[0], *closes[:-1]]
    volumes = [1_000_000] * len(closes)
    if path.last_open is not None:
        opens[-1] = float(round_to_tick(round(path.last_open)))
    if path.last_volume is not None:
        volumes[-1] = path.last_volume
    highs = [max(o, c) * 1.005 if np.isfinite(c) else c for o, c in zip(opens, closes, strict=True)]
    lows = [min(o, c) * 0.995 if np.isfinite(c) else c for o, c in zip(opens, closes, strict=True)]
    return Bars.from_columns(ticker, days, opens, highs, lows, closes, volumes)


def _scenario(
    name: str,
    ticker: str,
    path: _Path,
    outcome: float | None,
    expect: Expect,
    description: str,
    *,
    econ: RecordedEcon | None = None,
    holdings: dict[str, Holding] | None = None,
) -> Scenario:
    bars = _bars(ticker, path)
    return Scenario(
        id=f"edge-{name}",
        kind="edge",
        description=description,
        as_of=AS_OF,
        bars=(bars,),
        returns={ticker: outcome},
        horizon=HORIZON,
        markets={ticker: Market.KOSPI},
        econ=econ,
        holdings=holdings or {},
        expect={ticker: expect},
    )


def _filing(ticker: str, year: int, published: date, net_income: int) -> FilingRow:
    return FilingRow(
        ticker=ticker,
        published_on=published,
        fiscal_year=year,
        revenue=1_000_000_000_000,
        operating_income=net_income * 13 // 10,
        net_income=net_income,
        total_assets=1_500_000_000_000,
        total_liabilities=500_000_000_000,
        total_equity=1_000_000_000_000,
    )


def _observed(name: str, value: str, day: date, *, monthly: bool = False) -> Observed:
    start = day.replace(day=1) if monthly else day
    end = (start + timedelta(days=32)).replace(day=1) - timedelta(days=1) if monthly else day
    return Observed(
        name=name,
        source="synthetic",
        value=Decimal(value),
        unit=None,
        period=f"{start:%Y%m}" if monthly else f"{day:%Y%m%d}",
        period_start=start,
        period_end=end,
        available_on=end + timedelta(days=1),
    )


def _shock_macro() -> list[Observed]:
    cpi_months = [date(2023, m, 1) for m in range(1, 13)] + [date(2024, 1, 1)]
    cpi = [
        _observed("cpi", str(100 + (7 * i) / 12), d, monthly=True) for i, d in enumerate(cpi_months)
    ]
    days = _dates(15)
    fx = [_observed("krw_usd", str(1_320 + 10 * i), d) for i, d in enumerate(days[:-1])]
    rate = [_observed("base_rate", "3.50", d) for d in days[:-1]]
    return cpi + fx + rate


def _gap_down() -> Scenario:
    closes = _trend(10, 60_000, 0.003)
    before = closes[-2]
    closes[-1] = before * 0.86
    cost = round(before) * 100
    return _scenario(
        "gap_down",
        "900010",
        _Path(closes, last_open=before * 0.88, last_volume=5_000_000),
        -0.06,
        Expect.JUDGED,
        "an uptrend, then a 12% gap down on 5x volume; 100 shares held at the pre-gap price",
        holdings={"900010": Holding(qty=100, cost_krw=cost)},
    )


def _halt() -> Scenario:
    closes = _trend(20, 40_000, 0.001)
    closes[-1] = closes[-2]
    return _scenario(
        "trading_halt",
        "900020",
        _Path(closes, last_open=closes[-2], last_volume=0),
        None,
        Expect.NOT_JUDGED,
        "trading halted on the day: a flat bar with no volume",
    )


def _limit_up() -> Scenario:
    closes = _trend(30, 80_000, -0.002)
    prev = round_to_tick(round(closes[-2]))
    closes[-2] = float(prev)
    closes[-1] = float(price_limits(prev)[1])
    return _scenario(
        "limit_up",
        "900030",
        _Path(closes, last_open=prev * 1.05, last_volume=4_000_000),
        0.05,
        Expect.JUDGED,
        "a downtrend, then a close at the upper daily limit (+30%)",
    )


def _earnings() -> Scenario:
    ticker = "900040"
    closes = _trend(40, 30_000, 0.0005)
    econ = RecordedEcon(
        [
            _filing(ticker, 2022, date(2023, 3, 14), 100_000_000_000),
            _filing(ticker, 2023, AS_OF - timedelta(days=1), 300_000_000_000),
        ],
        source="synthetic",
    )
    return _scenario(
        "earnings_surprise",
        ticker,
        _Path(closes),
        0.07,
        Expect.JUDGED,
        "an annual report filed the day before: net income tripled, ROE 30%",
        econ=econ,
    )


def _macro_shock() -> Scenario:
    ticker = "900050"
    closes = _trend(50, 50_000, 0.0)
    for i in range(1, 6):
        closes[-i] = closes[-6] * (1 - 0.02 * (6 - i))
    econ = RecordedEcon(
        [_filing(ticker, 2023, date(2024, 3, 1), 20_000_000_000)],
        _shock_macro(),
        source="synthetic",
    )
    return _scenario(
        "macro_shock",
        ticker,
        _Path(closes, last_volume=3_000_000),
        -0.04,
        Expect.JUDGED,
        "CPI at 7% y/y, base rate 3.5%, KRW/USD spiking; the price down 10% in a week",
        econ=econ,
    )


def _missing() -> Scenario:
    closes = _trend(60, 20_000, 0.001)
    closes[-1] = float("nan")
    return _scenario(
        "missing_data",
        "900060",
        _Path(closes),
        None,
        Expect.NOT_JUDGED,
        "the last bar has no close (the feed dropped it)",
    )


def _short() -> Scenario:
    return _scenario(
        "short_history",
        "900070",
        _Path(_trend(70, 15_000, 0.004, count=30)),
        0.03,
        Expect.NOT_JUDGED,
        "a listing 30 bars old: too little history for the indicators",
    )


def _steady(name: str, ticker: str, seed: int, drift: float, outcome: float) -> Scenario:
    return _scenario(
        name,
        ticker,
        _Path(_trend(seed, 50_000, drift)),
        outcome,
        Expect.JUDGED,
        f"a steady {'up' if drift > 0 else 'down'}trend that goes on",
    )


CASES: tuple[Callable[[], Scenario], ...] = (
    _gap_down,
    _halt,
    _limit_up,
    _earnings,
    _macro_shock,
    _missing,
    _short,
    lambda: _steady("steady_uptrend", "900080", 80, 0.004, 0.04),
    lambda: _steady("steady_downtrend", "900090", 90, -0.004, -0.04),
)


def edge_dataset() -> Dataset:
    """Build the synthetic edge-case dataset."""
    return Dataset(
        name="edge",
        version=VERSION,
        description=f"{len(CASES)} synthetic edge cases on {AS_OF}, outcome over {HORIZON} days",
        scenarios=tuple(case() for case in CASES),
    )
