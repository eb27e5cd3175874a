"""The client against the strict simulator, in process, where the official samples set the rule.

Continuation keys go back exactly as received, news titles and statements follow tr_cont, the
cancelled quantity parses under both spellings, a cancel without a known branch number looks it
up, and the one-token-per-minute rule holds across retries and across clients sharing a cache.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from core.clock import KST, FixedClock, SystemClock
from core.orders import OrderType, PlacementStatus, Side
from tools.kis.broker import KISBroker
from tools.kis.client import KISClient
from tools.kis.config import KISConfig
from tools.kis.endpoints import Mode
from tools.kis.errors import KISTokenIssueLimitError
from tools.kis.fields import parse_model
from tools.kis.models import DailyOrder
from tools.kis.ratelimit import RateLimiter
from tools.kis.simulator import SimulatorConfig, create_app

pytestmark = pytest.mark.anyio

TICKERS = ("005930", "000660", "035720", "105560", "069500")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2026, 3, 10, 10, 30, tzinfo=KST))


class ClockSleep:
    """An async sleep that moves the shared clock instead of waiting, and records each wait."""

    def __init__(self, clock: FixedClock) -> None:
        self.clock = clock
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)
        self.clock.advance(timedelta(seconds=seconds))
        await asyncio.sleep(0)


def sim_config(clock: FixedClock, **overrides: Any) -> SimulatorConfig:
    values: dict[str, Any] = {"clock": clock, "rate_limit_per_s": 1e6}
    return SimulatorConfig(**(values | overrides))


def client_for(
    app: Any, sim: SimulatorConfig, cache: Path, clock: FixedClock, sleep: ClockSleep
) -> KISClient:
    config = KISConfig(
        mode=Mode.REAL,
        app_key=SecretStr(sim.app_key),
        app_secret=SecretStr(sim.app_secret),
        account_no=SecretStr(sim.account_no),
        base_url="http://sim",
        token_cache_dir=cache,
        retry_wait_s=0.01,
        reconcile_delay_s=0.0,
    )
    return KISClient(
        config,
        transport=httpx.ASGITransport(app=app),
        clock=clock,
        limiter=RateLimiter(10_000, sleep=sleep),
        sleep=sleep,
    )


@pytest.fixture
def paged(clock: FixedClock, tmp_path: Path) -> Callable[..., tuple[Any, Callable[[], KISClient]]]:
    def build(**overrides: Any) -> tuple[Any, Callable[[], KISClient]]:
        sim = sim_config(clock, **overrides)
        app = create_app(sim)
        sleep = ClockSleep(clock)
        return app.state.sim, lambda: client_for(app, sim, tmp_path / "data", clock, sleep)

    return build


async def test_continuation_keys_go_back_exactly_as_received(paged) -> None:
    _, make = paged(page_size=2)
    async with make() as client:
        for ticker in TICKERS:
            await client.order_cash(Side.BUY, ticker, 1, kind=OrderType.MARKET)
        balance = await client.balance()
        assert sorted(h.ticker for h in balance.holdings) == sorted(TICKERS)
        orders = await client.todays_orders()
        assert len({o.order_no for o in orders.orders}) == len(TICKERS)


async def test_news_titles_and_statements_follow_tr_cont(paged) -> None:
    _state, make = paged(page_size=3)
    async with make() as client:
        titles = await client.news_titles()
        assert len(titles) > 3 and len({(t.day, t.at, t.title) for t in titles}) == len(titles)
        rows = await client.income_statement("005930", quarterly=True)
        assert len(rows) == 8 and len({r.period for r in rows}) == 8
        assert len(await client.balance_sheet("005930")) == 5


def test_cancelled_quantity_parses_under_both_spellings() -> None:
    row = {
        "ord_dt": "20260310",
        "odno": "0000000001",
        "sll_buy_dvsn_cd": "02",
        "pdno": "005930",
        "ord_qty": "5",
        "ord_unpr": "70000",
        "ord_tmd": "103000",
        "tot_ccld_qty": "0",
        "avg_prvs": "0",
    }
    for name in ("cnc_cfrm_qty", "cncl_cfrm_qty"):
        order = parse_model(DailyOrder, row | {name: "3"}, tr_id="TTTC0081R", where="output1")
        assert order.cancel_confirmed_qty == 3


async def test_cancel_without_a_known_branch_looks_it_up(paged) -> None:
    state, make = paged()
    async with make() as client:
        quote = await client.price("005930")
        placed = await client.order_cash(
            Side.BUY, "005930", 2, kind=OrderType.LIMIT, price=quote.lower_limit
        )
        broker = KISBroker(client)
        broker.remember("restart-1", placed.order_no)  # a restart that lost the branch number
        ack = await broker.cancel("restart-1")
        assert ack.status is PlacementStatus.ACCEPTED, ack
        assert [o.remaining for o in state.broker_orders() if o.odno == placed.order_no] == [0]


# --- one token per minute ---------------------------------------------------------------------


def tokenp_calls(state: Any) -> int:
    return int(state.stats.token_requests)


async def test_clients_sharing_a_cache_use_one_token(paged) -> None:
    state, make = paged(token_min_interval_s=60.0)
    async with make() as first, make() as second:
        await first.price("005930")
        await second.price("005930")
        assert tokenp_calls(state) == 1


async def test_refused_token_request_is_not_repeated_within_the_minute(
    paged, clock: FixedClock
) -> None:
    state, make = paged(token_min_interval_s=60.0)
    # someone else (another program with the same app key) took this minute's token
    other = await state_issue(state)
    assert other
    asked_at: list[datetime] = []
    original = state.auth.issue

    def spy(*args: Any) -> dict[str, object]:
        asked_at.append(clock.now())
        return original(*args)

    state.auth.issue = spy
    async with make() as client:
        quote = await client.price("005930")
        assert quote.ticker == "005930"
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(asked_at)]
    assert len(asked_at) == 2 and all(gap >= 60 for gap in gaps), (asked_at, gaps)


async def state_issue(state: Any) -> str:
    cfg = state.cfg
    token = await asyncio.to_thread(
        state.auth.issue, "client_credentials", cfg.app_key, cfg.app_secret
    )
    return str(token["access_token"])


async def test_a_refusal_seen_by_one_client_holds_for_the_other(paged, clock: FixedClock) -> None:
    state, make = paged(token_min_interval_s=60.0)
    await state_issue(state)
    async with make() as first, make() as second:
        with pytest.raises(KISTokenIssueLimitError):
            await first.http.tokens.token()
        clock.advance(timedelta(seconds=10))
        before = tokenp_calls(state)
        await second.ensure_token()  # must wait out the minute the first one started
        assert tokenp_calls(state) == before + 1
        assert clock.now() - datetime(2026, 3, 10, 10, 30, tzinfo=KST) >= timedelta(seconds=60)
        await first.price("005930")  # finds the fresh token in the shared cache
        assert tokenp_calls(state) == before + 1


# --- the first second -------------------------------------------------------------------------


async def test_a_burst_at_start_is_paced_within_the_limit(tmp_path: Path) -> None:
    """Many tickers asked at once, before any token: no EGW00201 from the session's own traffic."""
    sim = SimulatorConfig(clock=SystemClock(), always_open=True)  # 18/s, the real account's limit
    app = create_app(sim)
    config = KISConfig(
        mode=Mode.REAL,
        app_key=SecretStr(sim.app_key),
        app_secret=SecretStr(sim.app_secret),
        account_no=SecretStr(sim.account_no),
        base_url="http://sim",
        token_cache_dir=tmp_path / "data",
    )
    limiter = RateLimiter(config.paced_rate)
    transport = httpx.ASGITransport(app=app)
    async with KISClient(config, transport=transport, limiter=limiter) as client:
        calls = [
            call
            for ticker in ("005930", "000660", "035720", "105560", "069500", "051910")
            for call in (client.stock_info(ticker), client.price(ticker), client.stock_info(ticker))
        ]
        await asyncio.gather(*calls)
    assert app.state.sim.stats.rate_limited == 0
