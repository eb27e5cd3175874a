"""The client against the fake KIS server: every endpoint, tokens, limits, retries, masking."""

from __future__ import annotations

import asyncio
import logging
import stat
from datetime import date, time, timedelta
from decimal import Decimal

import pytest
from pydantic import SecretStr

from core.clock import FixedClock
from core.orders import OrderType, Side
from tests.tools.kis.conftest import ACCOUNT, SleepRecorder, make_client
from tests.tools.kis.fake_kis import (
    BALANCE_PATH,
    CCLD_PATH,
    CHART_PATH,
    ORDER_PATH,
    PRICE_PATH,
    FakeKIS,
)
from tools.kis.client import KISClient
from tools.kis.config import KISConfig
from tools.kis.endpoints import INQUIRE_PRICE, Mode
from tools.kis.errors import (
    KISConfigurationError,
    KISRequestRejectedError,
    KISServerError,
    KISTimeoutError,
    KISTokenError,
)

pytestmark = [pytest.mark.anyio, pytest.mark.shared]


async def test_quotation_endpoints(client: KISClient) -> None:
    quote = await client.price("005930")
    assert quote.ticker == "005930" and quote.price == 128500
    minute = await client.minute_bars("000660", time(10, 0))
    assert minute.bars[0].minute == time(10, 0)
    news = await client.news_titles("000660", day=date(2026, 11, 26))
    assert news[0].title.startswith("SK하이닉스") and news[0].at == time(9, 30)
    info = await client.stock_info("000660")
    assert info.listed_shares == 728002365 and info.kospi_listed_on == date(1996, 12, 26)
    days = await client.holidays(date(2026, 11, 27))
    assert [d.open_day for d in days] == [True, False, False]


async def test_daily_bars_page_backwards_100_rows_at_a_time(
    client: KISClient, fake: FakeKIS
) -> None:
    chart = await client.daily_bars("000660", date(2025, 11, 26), date(2026, 11, 26))
    days = [bar.day for bar in chart.bars]
    assert days == sorted(days) and len(days) == len(set(days))
    assert days[0] == date(2025, 11, 26) and days[-1] == date(2026, 11, 26)
    assert len(days) == 262  # every weekday of the year
    assert fake.requests[CHART_PATH] == 3


async def test_finance_endpoints(client: KISClient) -> None:
    assert (await client.balance_sheet("000660"))[0].total_assets == Decimal("3000.5")
    assert (await client.income_statement("000660"))[0].operating_profit == Decimal("500.25")
    assert (await client.financial_ratio("000660"))[1].period == "202412"
    assert (await client.profit_ratio("000660"))[0].net_margin == Decimal("10.2")
    assert (await client.stability_ratio("000660"))[0].current_ratio == Decimal("210.4")
    assert (await client.growth_ratio("000660", quarterly=True))[0].operating_profit_growth == (
        Decimal("-20.1")
    )


async def test_account_endpoints_follow_pages(client: KISClient, fake: FakeKIS) -> None:
    balance = await client.balance()
    assert [h.ticker for h in balance.holdings] == ["000660", "114800", "009150", "009150"]
    assert fake.requests[BALANCE_PATH] == 2
    power = await client.buying_power("000660", 70000, kind=OrderType.LIMIT)
    assert power.cash == 741191178
    for qty in (1, 2, 3):
        await client.order_cash(Side.BUY, "000660", qty, kind=OrderType.LIMIT, price=128500)
    orders = await client.todays_orders()
    assert [o.qty for o in orders.orders] == [1, 2, 3]
    assert fake.requests[CCLD_PATH] == 2


async def test_orders_revise_cancel_and_market(client: KISClient, fake: FakeKIS) -> None:
    sell = await client.order_cash(Side.SELL, "000660", 5, kind=OrderType.MARKET, price=99)
    assert fake.orders[-1]["ORD_UNPR"] == "0" and fake.orders[-1]["SLL_TYPE"] == "01"
    assert fake.orders[-1]["TR_ID"] == "TTTC0011U"
    revised = await client.revise_order(sell.org_no, sell.order_no, 5, 129000)
    assert revised.order_no == "0000999999"
    await client.cancel_order(sell.org_no, sell.order_no)
    assert [c["RVSE_CNCL_DVSN_CD"] for c in fake.cancels] == ["01", "02"]
    assert fake.cancels[-1]["QTY_ALL_ORD_YN"] == "Y"


async def test_auth_endpoints(client: KISClient, fake: FakeKIS) -> None:
    assert (await client.approval_key()).approval_key.get_secret_value().startswith("a2585daf")
    assert len(await client.hashkey({"PDNO": "000660"})) == 64
    await client.price("000660")
    revoked = await client.revoke_token()
    assert revoked.code == 200 and not fake.tokens
    await client.price("000660")  # a new token, once the issue interval allows
    assert fake.token_requests == 2


async def test_virtual_only_endpoints_are_refused_before_sending(
    config: KISConfig, fake: FakeKIS, clock: FixedClock, sleeps: SleepRecorder
) -> None:
    virtual = config.model_copy(update={"mode": Mode.VIRTUAL})
    async with make_client(virtual, fake, clock, sleeps) as kis:
        with pytest.raises(KISConfigurationError, match="news-title"):
            await kis.news_titles()
        await kis.order_cash(Side.BUY, "000660", 1, kind=OrderType.LIMIT, price=128500)
    assert fake.orders[-1]["TR_ID"] == "VTTC0012U"
    assert sum(fake.requests.values()) == 2  # the token and the order


async def test_fifty_concurrent_first_calls_make_one_token_request(
    client: KISClient, fake: FakeKIS
) -> None:
    quotes = await asyncio.gather(*(client.price("000660") for _ in range(50)))
    assert len(quotes) == 50
    assert fake.token_requests == 1


async def test_token_cached_in_a_private_file_and_reused(
    config: KISConfig, fake: FakeKIS, clock: FixedClock, sleeps: SleepRecorder
) -> None:
    async with make_client(config, fake, clock, sleeps) as first:
        await first.price("000660")
    path = config.token_cache_path
    assert path is not None and stat.S_IMODE(path.stat().st_mode) == 0o600
    async with make_client(config, fake, clock, sleeps) as second:
        await second.price("000660")
    assert fake.token_requests == 1
    clock.advance(timedelta(hours=23, minutes=55))  # inside the refresh margin
    async with make_client(config, fake, clock, sleeps) as third:
        await third.price("000660")
    assert fake.token_requests == 2


async def test_expired_token_is_renewed_once(client: KISClient, fake: FakeKIS) -> None:
    await client.price("000660")
    fake.fail("expired_token", PRICE_PATH)
    await client.price("000660")
    assert fake.token_requests == 2
    fake.fail("expired_token", PRICE_PATH, count=5)
    with pytest.raises(KISTokenError):
        await client.http.call(INQUIRE_PRICE, params={"FID_INPUT_ISCD": "000660"})
    assert fake.token_requests == 3  # one renewal for the failing call, not five


async def test_revoked_tokens_renew_and_respect_the_issue_interval(
    client: KISClient, fake: FakeKIS, sleeps: SleepRecorder
) -> None:
    await client.price("000660")
    fake.revoke_all()
    await client.price("000660")
    assert fake.token_requests == 2
    assert any(59 <= s <= 60 for s in sleeps.calls)  # waited out the 60 s issue interval


async def test_rate_limit_backs_off_and_retries(
    client: KISClient, fake: FakeKIS, sleeps: SleepRecorder
) -> None:
    fake.fail("rate_limit", PRICE_PATH, count=2)
    quote = await client.price("000660")
    assert quote.price == 128500
    assert fake.requests[PRICE_PATH] == 3
    assert sum(1 for s in sleeps.calls if s >= 0.9) == 2  # the limiter was pushed back twice


async def test_orders_are_resent_after_a_rate_limit_answer(
    client: KISClient, fake: FakeKIS
) -> None:
    fake.fail("rate_limit", ORDER_PATH)
    await client.order_cash(Side.BUY, "000660", 1, kind=OrderType.LIMIT, price=128500)
    assert len(fake.orders) == 1  # EGW00201 means KIS did not take it


async def test_queries_are_retried_on_5xx_and_timeouts(client: KISClient, fake: FakeKIS) -> None:
    fake.fail("http_500", PRICE_PATH)
    fake.fail("timeout", PRICE_PATH)
    assert (await client.price("000660")).price == 128500
    assert fake.requests[PRICE_PATH] == 3
    fake.fail("http_500", PRICE_PATH, count=10)
    with pytest.raises(KISServerError):
        await client.price("000660")


async def test_orders_are_not_retried(client: KISClient, fake: FakeKIS) -> None:
    fake.fail("http_500", ORDER_PATH)
    with pytest.raises(KISServerError):
        await client.order_cash(Side.BUY, "000660", 1, kind=OrderType.LIMIT, price=128500)
    fake.fail("timeout_after", ORDER_PATH)
    with pytest.raises(KISTimeoutError):
        await client.order_cash(Side.BUY, "000660", 1, kind=OrderType.LIMIT, price=128500)
    assert fake.requests[ORDER_PATH] == 2
    assert len(fake.orders) == 1


async def test_bad_app_key_is_a_configuration_error(
    config: KISConfig, fake: FakeKIS, clock: FixedClock, sleeps: SleepRecorder
) -> None:
    wrong = config.model_copy(update={"app_key": SecretStr("PSwrongKey" + "0" * 26)})
    async with make_client(wrong, fake, clock, sleeps) as kis:
        with pytest.raises(KISConfigurationError, match="EGW00103"):
            await kis.price("000660")


async def test_secrets_never_reach_logs_or_errors(
    client: KISClient, fake: FakeKIS, config: KISConfig, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await client.balance()
    fake.fail("echo_secrets", BALANCE_PATH)
    with pytest.raises(KISRequestRejectedError) as info:
        await client.balance()
    fake.fail("timeout", ORDER_PATH)
    with pytest.raises(KISTimeoutError) as timeout:
        await client.order_cash(Side.BUY, "000660", 1, kind=OrderType.LIMIT, price=128500)
    token = client.http.tokens.current
    assert token is not None
    secrets = [fake.app_key, fake.app_secret, ACCOUNT, token]
    texts = [caplog.text, str(info.value), repr(info.value), str(timeout.value), repr(config)]
    assert "CANO=***" in caplog.text  # httpx logged the URL, masked
    assert "appkey=***" in str(info.value)
    for text in texts:
        for secret in secrets:
            assert secret not in text
