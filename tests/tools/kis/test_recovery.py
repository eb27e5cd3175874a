"""The client recovers from KIS answers that void its work: SYDB0050 and revoked tokens.

Against the simulator over loopback HTTP, with faults injected at the wire.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from core.clock import SystemClock, kst_today
from core.orders import OrderType, Side
from tools.kis.client import KISClient
from tools.kis.config import KISConfig
from tools.kis.endpoints import Mode
from tools.kis.errors import KISQueryAgainError
from tools.kis.simulator import SimulatorConfig, SimulatorServer

pytestmark = pytest.mark.anyio

APP_KEY = "PSrecovery" + "k" * 26
APP_SECRET = "recovery-secret-" + "s" * 164
ACCOUNT = "12345678"
CCLD = "/uapi/domestic-stock/v1/trading/inquire-daily-ccld"
TOKEN_INTERVAL_S = 1.5


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def sim() -> Iterator[SimulatorServer]:
    cfg = SimulatorConfig(
        app_key=APP_KEY,
        app_secret=APP_SECRET,
        account_no=ACCOUNT,
        rate_limit_per_s=1000.0,
        token_min_interval_s=TOKEN_INTERVAL_S,
        clock=SystemClock(),
        always_open=True,
        page_size=2,
    )
    with SimulatorServer(cfg, port=0) as server:
        yield server


def _client(sim: SimulatorServer, tmp_path: Path, **overrides: Any) -> KISClient:
    values: dict[str, Any] = {
        "mode": Mode.REAL,
        "app_key": SecretStr(APP_KEY),
        "app_secret": SecretStr(APP_SECRET),
        "account_no": SecretStr(ACCOUNT),
        "base_url": sim.base_url,
        "rate_limit_per_s": 1000.0,
        "token_min_interval_s": TOKEN_INTERVAL_S,
        "token_cache_dir": tmp_path / "data",
        "retry_wait_s": 0.01,
    }
    return KISClient(KISConfig(**(values | overrides)))


async def _five_orders(kis: KISClient) -> None:
    for ticker in ("005930", "000660", "035720", "105560", "069500"):
        await kis.order_cash(Side.BUY, ticker, 1, kind=OrderType.MARKET)


async def test_query_again_restarts_the_paged_query_from_the_first_page(
    sim: SimulatorServer, tmp_path: Path
) -> None:
    async with _client(sim, tmp_path) as kis:
        await _five_orders(kis)
        today = kst_today(kis.clock)
        before = sim.stats.requests_by_path[CCLD]
        # The third page (second continuation) finds the books changed: start over.
        sim.faults.inject("query_again", path="/trading/inquire-daily-ccld", count=1)
        orders = await kis.daily_orders(today, today)
        assert len(orders.orders) == 5
        assert len({o.order_no for o in orders.orders}) == 5  # no page counted twice
        # Page 1, page 2 refused (SYDB0050), then pages 1, 2, 3 again.
        assert sim.stats.requests_by_path[CCLD] - before == 5
        assert sim.faults.fired["query_again"] == 1


async def test_query_again_gives_up_after_bounded_restarts(
    sim: SimulatorServer, tmp_path: Path
) -> None:
    async with _client(sim, tmp_path) as kis:
        await _five_orders(kis)
        today = kst_today(kis.clock)
        sim.faults.inject("query_again", path="/trading/inquire-daily-ccld", count=100)
        with pytest.raises(KISQueryAgainError):
            await kis.daily_orders(today, today)
        assert sim.faults.fired["query_again"] == 4  # the first try and three restarts
        sim.faults.clear()
        assert len((await kis.daily_orders(today, today)).orders) == 5


async def test_token_revoked_mid_session_is_reissued_within_the_issuance_limit(
    sim: SimulatorServer, tmp_path: Path
) -> None:
    async with _client(sim, tmp_path) as kis:
        await kis.price("005930")  # issues the first token
        # KIS's maintenance revokes every token moments after ours was issued: the next call
        # gets EGW00121, and a new token is refused until the issuance interval has passed.
        sim.faults.inject("invalidate_tokens")
        assert (await kis.price("005930")).ticker == "005930"
        # One re-issue, sent only once the interval had passed (never refused with EGW00133).
        assert sim.stats.token_requests == 2
        assert sim.faults.fired["invalidate_tokens"] == 1
        # An order after the revocation goes through on the new token, sent once.
        await kis.order_cash(Side.BUY, "005930", 1, kind=OrderType.MARKET)
        assert len(sim.broker_orders()) == 1
