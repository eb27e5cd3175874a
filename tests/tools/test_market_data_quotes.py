"""`KISMarketData.quotes` over the KIS simulator on a loopback port (real HTTP).

The watchlist is quoted 30 tickers a call with the multi-ticker quote; an unknown code gets its
own error without failing its chunk; a server that refuses the multi-ticker quote (no such path,
or the virtual server's EGW02006) is answered one inquire-price per ticker, and not asked again.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, ExitStack
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple

import httpx
import pytest
from pydantic import SecretStr

from core.clock import KST, FixedClock
from core.errors import TraderError
from tools.kis.client import KISClient
from tools.kis.config import KISConfig
from tools.kis.endpoints import Mode
from tools.kis.ratelimit import RateLimiter
from tools.kis.simulator import SimulatorConfig, SimulatorServer
from tools.kis.simulator.faults import SimulatorStats
from tools.market_data import KISMarketData, MarketQuote

pytestmark = pytest.mark.anyio

PREFIX = "/uapi/domestic-stock/v1/quotations/"
MULTI = PREFIX + "intstock-multprice"
SINGLE = PREFIX + "inquire-price"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class CountingTransport(httpx.AsyncHTTPTransport):
    """The real HTTP transport, counting the paths it sent (a 404 never reaches the stats)."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: Counter[str] = Counter()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.sent[request.url.path] += 1
        return await super().handle_async_request(request)


class Venue(NamedTuple):
    market: KISMarketData
    sim: SimulatorServer
    sent: Counter[str]


@pytest.fixture
async def open_venue(tmp_path: Path) -> AsyncIterator[Callable[..., Any]]:
    """Start a simulator on a port and a `KISMarketData` whose client talks to it over HTTP."""
    clock = FixedClock(datetime(2026, 3, 10, 10, 30, tzinfo=KST))
    async with AsyncExitStack() as stack:
        with ExitStack() as servers:

            async def open_(**overrides: Any) -> Venue:
                values: dict[str, Any] = {"clock": clock, "rate_limit_per_s": 1e6}
                cfg = SimulatorConfig(**(values | overrides))
                sim = servers.enter_context(SimulatorServer(cfg, port=0))
                config = KISConfig(
                    mode=Mode.REAL,
                    app_key=SecretStr(cfg.app_key),
                    app_secret=SecretStr(cfg.app_secret),
                    account_no=SecretStr(cfg.account_no),
                    base_url=sim.base_url,
                    token_cache_dir=tmp_path / f"tokens-{id(cfg)}",
                )
                transport = CountingTransport()
                client = KISClient(
                    config, transport=transport, clock=clock, limiter=RateLimiter(1e6)
                )
                await stack.enter_async_context(client)
                return Venue(KISMarketData(client), sim, transport.sent)

            yield open_


def _calls(stats: SimulatorStats, path: str) -> int:
    return stats.requests_by_path[path]


async def test_sixty_five_tickers_cost_three_multi_quote_calls(open_venue) -> None:
    market, sim, _ = await open_venue(synthetic_instruments=60)
    tickers = sorted(sim.state.market.instruments)[:65]
    assert len(tickers) == 65
    answers = await market.quotes(tickers)
    assert list(answers) == tickers
    assert all(isinstance(a, MarketQuote) for a in answers.values())
    assert _calls(sim.stats, MULTI) == 3
    assert _calls(sim.stats, SINGLE) == 0


async def test_an_unknown_code_gets_its_own_error_and_its_chunk_still_answers(open_venue) -> None:
    market, sim, _ = await open_venue()
    answers = await market.quotes(["005930", "00593O", "000660"])
    assert isinstance(answers["00593O"], TraderError)
    assert "00593O" in str(answers["00593O"])
    good = [answers["005930"], answers["000660"]]
    assert all(isinstance(a, MarketQuote) and a.last_price_krw > 0 for a in good)
    assert _calls(sim.stats, MULTI) == 1


async def test_the_day_limits_come_from_kis(open_venue) -> None:
    market, sim, _ = await open_venue()
    batch = (await market.quotes(["000660"]))["000660"]
    single = await market.quote("000660")
    assert isinstance(batch, MarketQuote)
    wire = sim.state.market.quote("000660", sim.cfg.clock.now())
    for q in (batch, single):
        assert (q.lower_limit_krw, q.upper_limit_krw) == (wire.lower, wire.upper)
        assert q.prev_close_krw == wire.prev_close
        assert q.last_price_krw == wire.price
    assert batch.per is None  # the multi-ticker quote carries no PER; inquire-price does
    assert single.per is not None


@pytest.mark.parametrize(
    "overrides",
    [{"multi_quote": False}, {"mode": "virtual"}],
    ids=["no-such-path", "virtual-server-egw02006"],
)
async def test_a_refusing_server_is_quoted_one_by_one_and_not_asked_again(
    open_venue, overrides: dict[str, Any]
) -> None:
    market, sim, sent = await open_venue(**overrides)
    first = await market.quotes(["005930", "000660", "999999"])
    assert isinstance(first["005930"], MarketQuote) and isinstance(first["000660"], MarketQuote)
    assert first["005930"].upper_limit_krw is not None
    assert isinstance(first["999999"], TraderError)
    assert market.multi_quote_refused is not None
    assert (sent[MULTI], sent[SINGLE]) == (1, 3)
    assert _calls(sim.stats, SINGLE) == 3
    await market.quotes(["005930", "000660"])
    assert (sent[MULTI], sent[SINGLE]) == (1, 5)  # remembered: not asked again


async def test_a_virtual_account_never_sends_the_multi_quote(tmp_path: Path) -> None:
    clock = FixedClock(datetime(2026, 3, 10, 10, 30, tzinfo=KST))
    cfg = SimulatorConfig(clock=clock, rate_limit_per_s=1e6, mode="virtual")
    with SimulatorServer(cfg, port=0) as sim:
        config = KISConfig(
            mode=Mode.VIRTUAL,
            app_key=SecretStr(cfg.app_key),
            app_secret=SecretStr(cfg.app_secret),
            account_no=SecretStr(cfg.account_no),
            base_url=sim.base_url,
            token_cache_dir=tmp_path / "tokens",
        )
        async with KISClient(config, clock=clock, limiter=RateLimiter(1e6)) as client:
            market = KISMarketData(client, news=False)
            answers = await market.quotes(["005930"])
        assert isinstance(answers["005930"], MarketQuote)
        assert _calls(sim.stats, MULTI) == 0
        assert market.multi_quote_refused is not None
