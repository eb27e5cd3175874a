"""The client against the KIS simulator over real HTTP on loopback: every endpoint, recovery.

Needs `tools.kis.simulator` (built on the kis-sim branch); skipped when it is not there.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import time, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from core.clock import SystemClock, kst_today
from core.orders import OrderType, PlacementStatus, Side
from tools.broker import OrderRequest
from tools.kis.broker import KISBroker
from tools.kis.client import KISClient
from tools.kis.config import KISConfig
from tools.kis.endpoints import ORDER_BUY, Mode

simulator = pytest.importorskip("tools.kis.simulator", reason="the KIS simulator is not merged")

pytestmark = pytest.mark.anyio

APP_KEY = "PScontract" + "k" * 26
APP_SECRET = "contract-secret-" + "s" * 164
ACCOUNT = "12345678"
TICKER = "005930"


def stat(stats: Any, name: str) -> Any:
    """Read a simulator counter whether `stats` is an object or a mapping."""
    return stats[name] if isinstance(stats, dict) else getattr(stats, name)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def sim() -> Iterator[Any]:
    cfg = simulator.SimulatorConfig(
        mode="real",
        app_key=APP_KEY,
        app_secret=APP_SECRET,
        account_no=ACCOUNT,
        account_product_code="01",
        starting_cash_krw=100_000_000,
        rate_limit_per_s=1000.0,
        token_min_interval_s=0.0,
        clock=SystemClock(),
        always_open=True,
        seed=7,
    )
    with simulator.SimulatorServer(cfg, port=0) as server:
        yield server


def config_for(sim: Any, tmp_path: Path, **overrides: Any) -> KISConfig:
    values: dict[str, Any] = {
        "mode": Mode.REAL,
        "app_key": SecretStr(APP_KEY),
        "app_secret": SecretStr(APP_SECRET),
        "account_no": SecretStr(ACCOUNT),
        "base_url": sim.base_url,
        "rate_limit_per_s": 1000.0,
        "token_min_interval_s": 0.0,
        "token_cache_dir": tmp_path / "data",
        "retry_wait_s": 0.05,
        "reconcile_delay_s": 0.2,
        "timeout_s": 5.0,
    }
    return KISConfig(**(values | overrides))


@pytest.fixture
async def client(sim: Any, tmp_path: Path) -> AsyncIterator[KISClient]:
    async with KISClient(config_for(sim, tmp_path)) as kis:
        yield kis


async def test_quotations_and_finance(client: KISClient, sim: Any) -> None:
    quote = await client.price(TICKER)
    assert quote.ticker == TICKER and quote.lower_limit <= quote.price <= quote.upper_limit
    today = kst_today(client.clock)
    chart = await client.daily_bars(TICKER, today - timedelta(days=400), today)
    days = [bar.day for bar in chart.bars]
    assert days == sorted(days) and len(days) > 100  # needed more than one page
    minute = await client.minute_bars(TICKER, time(15, 30))
    assert all(bar.low <= bar.close <= bar.high for bar in minute.bars)
    assert isinstance(await client.news_titles(TICKER), list)
    assert (await client.stock_info(TICKER)).ticker == TICKER
    calendar = await client.holidays(today)
    assert calendar and calendar[0].day == today
    for call in (
        client.balance_sheet,
        client.income_statement,
        client.financial_ratio,
        client.profit_ratio,
        client.stability_ratio,
        client.growth_ratio,
    ):
        rows = await call(TICKER)
        assert all(len(row.period) == 6 for row in rows)
    assert stat(sim.stats, "token_requests") == 1


async def test_auth_endpoints(client: KISClient, sim: Any) -> None:
    assert (await client.approval_key()).approval_key.get_secret_value()
    assert await client.hashkey({"PDNO": TICKER, "ORD_QTY": "1"})
    await client.price(TICKER)
    assert (await client.revoke_token()).code == 200
    await client.price(TICKER)
    assert stat(sim.stats, "token_requests") == 2


async def test_trading_round_trip(client: KISClient, sim: Any) -> None:
    cash_before = (await client.balance()).summary.deposit
    power = await client.buying_power(TICKER)
    assert power.cash > 0
    quote = await client.price(TICKER)
    limit = await client.order_cash(
        Side.BUY, TICKER, 1, kind=OrderType.LIMIT, price=quote.lower_limit
    )
    market = await client.order_cash(Side.BUY, TICKER, 2, kind=OrderType.MARKET)
    revised = await client.revise_order(limit.org_no, limit.order_no, 1, quote.lower_limit + 0)
    await client.cancel_order(revised.org_no, revised.order_no)
    orders = await client.todays_orders()
    numbers = {o.order_no for o in orders.orders}
    assert {limit.order_no, market.order_no} <= numbers
    balance = await client.balance()
    held = {h.ticker: h.qty for h in balance.holdings}
    if held.get(TICKER):  # the market order filled
        sell = await client.order_cash(Side.SELL, TICKER, 1, kind=OrderType.MARKET)
        assert sell.order_no
    assert balance.summary.deposit <= cash_before


async def test_timeout_after_acceptance_leaves_exactly_one_order(sim: Any, tmp_path: Path) -> None:
    async with KISClient(config_for(sim, tmp_path, timeout_s=3.0)) as kis:  # loaded CI: not 1 s
        broker = KISBroker(kis)
        quote = await kis.price(TICKER)
        sim.faults.inject("timeout", path=ORDER_BUY.path, count=1, after_processing=True)
        ack = await broker.place(
            OrderRequest(
                client_order_id="contract-1",
                ticker=TICKER,
                side=Side.BUY,
                qty=1,
                order_type=OrderType.LIMIT,
                limit_price=quote.lower_limit,
            )
        )
        assert ack.status is PlacementStatus.ACCEPTED and ack.recovered
        assert len(sim.broker_orders()) == 1
        again = await broker.place(
            OrderRequest(
                client_order_id="contract-1",
                ticker=TICKER,
                side=Side.BUY,
                qty=1,
                order_type=OrderType.LIMIT,
                limit_price=quote.lower_limit,
            )
        )
        assert again.broker_order_id == ack.broker_order_id
        assert len(sim.broker_orders()) == 1
        executions = await broker.executions(kst_today(kis.clock))
        assert [e.client_order_id for e in executions] == ["contract-1"]


async def test_faults_are_survived(client: KISClient, sim: Any) -> None:
    await client.price(TICKER)
    sim.faults.inject("http_500", path="/uapi/domestic-stock/v1/quotations/inquire-price")
    assert (await client.price(TICKER)).ticker == TICKER
    sim.faults.inject("revoke_tokens")
    assert (await client.price(TICKER)).ticker == TICKER
    assert stat(sim.stats, "token_requests") == 2
    sim.faults.inject("rate_limit_burst")
    assert (await client.price(TICKER)).ticker == TICKER


async def test_account_snapshot(client: KISClient) -> None:
    snapshot = await KISBroker(client).account_snapshot()
    assert snapshot.cash.deposit == 100_000_000
    assert snapshot.cash.total_eval >= snapshot.cash.deposit
