"""One known market for every broker of the suite, and a fixture per broker that trades in it.

The market: Samsung Electronics (005930, KOSPI) on Friday 2024-12-27 at 10:00 KST, trading flat
at 54,000 KRW all day on 39,000,000 shares, after a 53,600 close the day before (so the band is
37,600-69,600: width floor(16,080 / 100) x 100 = 16,000). Each account starts with 10,000,000
KRW. A sale that day settles on 2025-01-02 (T+2 over the year-end holiday), at 2025's 0.15 %.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, datetime
from pathlib import Path

import pytest
from pydantic import SecretStr

from core.clock import KST, FixedClock
from evals.backtest.broker import BarToday
from tests.conformance.backtest_broker import BacktestBroker
from tests.tools.paper.fake_market import FakeMarket
from tools.broker import Broker
from tools.kis.broker import KISBroker
from tools.kis.client import KISClient
from tools.kis.config import KISConfig
from tools.kis.endpoints import Mode
from tools.kis.simulator import SimulatorConfig, SimulatorServer
from tools.krx.costs import CostModel
from tools.paper import PaperBroker, PaperStore

TICKER = "005930"
DAY = date(2024, 12, 27)
NOW = datetime(2024, 12, 27, 10, 0, tzinfo=KST)
BASE = 53_600
PRICE = 54_000
VOLUME = 39_000_000
CASH = 10_000_000
BROKERS = ("paper", "kis-simulator", "backtest")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def price() -> int:
    """The day's price (a test may parametrize `price` to trade elsewhere in the band)."""
    return PRICE


def paper_broker(tmp_path: Path, price: int) -> tuple[PaperBroker, PaperStore]:
    """The paper broker over a quote set by hand: last `price`, base 53,600."""
    market = FakeMarket()
    market.set(TICKER, price, prev_close=BASE, name="삼성전자")
    store = PaperStore(tmp_path / "paper.db")
    broker = PaperBroker(
        market,
        store=store,
        clock=FixedClock(NOW),
        cost_model=CostModel(),
        starting_cash_krw=CASH,
    )
    return broker, store


def replay_csv(tmp_path: Path, price: int) -> Path:
    """Two daily bars for the simulator to replay: the base day and the flat trading day."""
    path = tmp_path / f"{TICKER}_conformance.csv"
    path.write_text(
        "date,open,high,low,close,volume\n"
        f"2024-12-26,{BASE},{BASE},{BASE},{BASE},{VOLUME}\n"
        f"2024-12-27,{price},{price},{price},{price},{VOLUME}\n",
        encoding="utf-8",
    )
    return path


def kis_config(sim: SimulatorServer, token_dir: Path) -> KISConfig:
    """The KIS client's settings for a simulator on a loopback port."""
    return KISConfig(
        mode=Mode.REAL,
        app_key=SecretStr(sim.cfg.app_key),
        app_secret=SecretStr(sim.cfg.app_secret),
        account_no=SecretStr(sim.cfg.account_no),
        base_url=sim.base_url,
        rate_limit_per_s=1000.0,
        token_min_interval_s=0.0,
        token_cache_dir=token_dir,
        reconcile_delay_s=0.2,
        timeout_s=30.0,
    )


def backtest_broker(price: int) -> BacktestBroker:
    """The backtest's broker filling on the day's bar, in KRX mode (the default config)."""
    bar = BarToday(price, price, price, price, VOLUME, prev_close=BASE)
    return BacktestBroker(bar, DAY, cash=CASH)


@pytest.fixture(params=BROKERS)
async def broker(
    request: pytest.FixtureRequest, tmp_path: Path, price: int
) -> AsyncIterator[Broker]:
    """Each broker in the known market, with a fresh account."""
    if request.param == "paper":
        paper, store = paper_broker(tmp_path, price)
        try:
            yield paper
        finally:
            store.close()
    elif request.param == "kis-simulator":
        clock = FixedClock(NOW)
        cfg = SimulatorConfig(
            mode="real",
            clock=clock,
            rate_limit_per_s=1000.0,
            token_min_interval_s=0.0,
            replay_csv=(replay_csv(tmp_path, price),),
            starting_cash_krw=CASH,
        )
        with SimulatorServer(cfg, port=0) as sim:
            async with KISClient(kis_config(sim, tmp_path / "tokens"), clock=clock) as kis:
                yield KISBroker(kis)
    else:
        yield backtest_broker(price)
