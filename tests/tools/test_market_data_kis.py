"""`KISMarketData` over the in-process KIS simulator: call counts, and the synthetic universe.

The session bench relies on these: one inquire-price per quote (carrying PER/PBR for the
fundamental analyst), one daily-chart page for the market analyst's 100 bars, and made-up
`SY....` tickers answering every endpoint like listed ones.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, datetime
from pathlib import Path

import httpx
import pytest

from core.clock import KST, FixedClock
from tools.kis.client import DAILY_CHART_PAGE_ROWS, KISClient
from tools.kis.errors import KISError
from tools.kis.simulator import SimulatorConfig, create_app
from tools.kis.simulator.faults import SimulatorStats
from tools.kis.simulator.instruments import SYNTHETIC_PREFIX, synthetic_universe
from tools.krx.calendar import is_trading_day
from tools.market_data import KISMarketData, history_start
from trader.settings import Settings
from trader.wiring.context import demo_kis_config

pytestmark = pytest.mark.anyio

SESSION = date(2026, 3, 10)
"""A Tuesday KRX trading day."""
CHART = "/uapi/domestic-stock/v1/quotations/inquire-daily-itemchartprice"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def venue(tmp_path: Path) -> AsyncIterator[tuple[KISMarketData, SimulatorStats]]:
    clock = FixedClock(datetime(2026, 3, 10, 10, 30, tzinfo=KST))
    sim = SimulatorConfig(clock=clock, rate_limit_per_s=1e6, synthetic_instruments=3)
    app = create_app(sim)
    config = demo_kis_config(Settings(data_dir=tmp_path / "data"), sim)
    async with KISClient(config, transport=httpx.ASGITransport(app=app), clock=clock) as client:
        yield KISMarketData(client), app.state.sim.stats


async def test_a_quote_carries_per_and_pbr(venue: tuple[KISMarketData, SimulatorStats]) -> None:
    market, stats = venue
    quote = await market.quote("005930")
    assert quote.per is not None and quote.per > 0
    assert quote.pbr is not None and quote.pbr > 0
    assert stats.requests_by_path["/uapi/domestic-stock/v1/quotations/inquire-price"] == 1


async def test_a_hundred_bars_cost_one_page(venue: tuple[KISMarketData, SimulatorStats]) -> None:
    market, stats = venue
    bars = await market.daily_bars("000660", SESSION, DAILY_CHART_PAGE_ROWS)
    assert len(bars) == DAILY_CHART_PAGE_ROWS
    assert bars[-1].day == SESSION
    assert bars[0].day == history_start(SESSION, DAILY_CHART_PAGE_ROWS)
    assert stats.requests_by_path[CHART] == 1
    # More than a page still pages back.
    longer = await market.daily_bars("000660", SESSION, 150)
    assert len(longer) == 150
    assert stats.requests_by_path[CHART] == 3


def test_history_start_counts_krx_sessions() -> None:
    assert history_start(SESSION, 1) == SESSION
    start = history_start(SESSION, 5)
    assert is_trading_day(start)
    # 5 sessions ending Tuesday 10 March 2026: Wednesday 4 March to Tuesday 10 March.
    assert start == date(2026, 3, 4)
    # A Sunday ends on the Friday before it.
    assert history_start(date(2026, 3, 8), 1) == date(2026, 3, 6)


async def test_synthetic_tickers_answer_like_listed_ones(
    venue: tuple[KISMarketData, SimulatorStats],
) -> None:
    market, _ = venue
    quote = await market.quote(f"{SYNTHETIC_PREFIX}0003")
    assert quote.last_price_krw > 0 and quote.per is not None
    bars = await market.daily_bars(f"{SYNTHETIC_PREFIX}0001", SESSION, 60)
    assert len(bars) == 60
    with pytest.raises(KISError):
        await market.quote(f"{SYNTHETIC_PREFIX}0004")  # only three were listed


def test_synthetic_universe_is_seeded_and_marked() -> None:
    universe = synthetic_universe(50, seed=7)
    assert universe == synthetic_universe(50, seed=7)
    assert universe != synthetic_universe(50, seed=8)
    assert [i.ticker for i in universe[:2]] == ["SY0001", "SY0002"]
    assert all(i.name_en.startswith("Synthetic") for i in universe)
    assert len({i.ticker for i in universe}) == 50
    with pytest.raises(ValueError):
        SimulatorConfig(synthetic_instruments=-1)
