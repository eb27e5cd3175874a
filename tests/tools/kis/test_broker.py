"""KISBroker over the fake KIS server: the protocol, idempotent place, lost-answer recovery."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from core.orders import OrderType, PlacementStatus, Side
from tests.tools.kis.fake_kis import ORDER_PATH, FakeKIS
from tools.broker import Broker, OrderRequest, UnknownOrderError
from tools.kis.broker import KISBroker
from tools.kis.client import KISClient
from tools.kis.orders import SubmissionStatus

pytestmark = [pytest.mark.anyio, pytest.mark.shared]

TODAY = date(2026, 11, 26)


def buy(cid: str, qty: int = 10, price: int | None = 128500) -> OrderRequest:
    kind = OrderType.LIMIT if price else OrderType.MARKET
    return OrderRequest(
        client_order_id=cid,
        ticker="000660",
        side=Side.BUY,
        qty=qty,
        order_type=kind,
        limit_price=price,
    )


@pytest.fixture
def broker(client: KISClient) -> KISBroker:
    return KISBroker(client)


async def test_kis_broker_satisfies_the_protocol(broker: KISBroker) -> None:
    assert isinstance(broker, Broker)


def test_order_request_checks_price_against_type() -> None:
    with pytest.raises(ValueError, match="limit_price"):
        OrderRequest(client_order_id="a", ticker="000660", side=Side.BUY, qty=1)
    with pytest.raises(ValueError, match="market"):
        OrderRequest(
            client_order_id="a",
            ticker="000660",
            side=Side.BUY,
            qty=1,
            order_type=OrderType.MARKET,
            limit_price=1000,
        )


async def test_account_snapshot_merges_rows_per_ticker(broker: KISBroker) -> None:
    snapshot = await broker.account_snapshot()
    assert snapshot.cash.deposit == 9644485
    by_ticker = {p.ticker: p for p in snapshot.positions}
    assert by_ticker["009150"].qty == 1657 + 3
    assert by_ticker["009150"].avg_price == (Decimal(224424497 + 369000) / 1660).quantize(
        Decimal("0.0001")
    )
    assert by_ticker["114800"].unrealized_pnl == -6725


async def test_place_is_idempotent_per_client_order_id(broker: KISBroker, fake: FakeKIS) -> None:
    first = await broker.place(buy("s1-000660-buy"))
    again = await broker.place(buy("s1-000660-buy"))
    assert first.status is PlacementStatus.ACCEPTED and not first.recovered
    assert again.broker_order_id == first.broker_order_id
    assert len(fake.orders) == 1
    market = await broker.place(buy("s1-000660-mkt", price=None))
    assert market.status is PlacementStatus.ACCEPTED
    assert fake.orders[-1]["ORD_DVSN"] == "01"


async def test_timeout_after_acceptance_is_recovered_without_resending(
    broker: KISBroker, fake: FakeKIS
) -> None:
    fake.fail("timeout_after", ORDER_PATH)
    ack = await broker.place(buy("s1-a"))
    assert ack.status is PlacementStatus.ACCEPTED and ack.recovered
    assert ack.broker_order_id == fake.orders[0]["ODNO"]
    assert len(fake.orders) == 1 and fake.requests[ORDER_PATH] == 1
    executions = await broker.executions(TODAY)
    assert [(e.client_order_id, e.ordered_qty) for e in executions] == [("s1-a", 10)]


async def test_recovery_does_not_claim_an_identical_earlier_order(
    broker: KISBroker, fake: FakeKIS
) -> None:
    first = await broker.place(buy("s1-a"))
    fake.fail("timeout_after", ORDER_PATH)
    second = await broker.place(buy("s1-b"))
    assert second.recovered and second.broker_order_id != first.broker_order_id
    assert len(fake.orders) == 2


async def test_an_order_in_doubt_is_looked_for_again_never_sent_again(
    broker: KISBroker, fake: FakeKIS
) -> None:
    fake.fail("timeout", ORDER_PATH)
    ack = await broker.place(buy("s1-a"))
    assert ack.status is PlacementStatus.UNCONFIRMED and ack.reason_code == "absent"
    assert fake.orders == []
    # The list may lag the order: asking again only looks again, whatever it finds.
    retry = await broker.place(buy("s1-a"))
    assert retry.status is PlacementStatus.UNCONFIRMED and retry.reason_code == "absent"
    assert fake.orders == [] and fake.requests[ORDER_PATH] == 1


async def test_5xx_on_an_order_asks_the_broker_first(client: KISClient, fake: FakeKIS) -> None:
    fake.fail("http_500", ORDER_PATH)
    outcome = await client.submit_order(Side.BUY, "000660", 3, kind=OrderType.LIMIT, price=128500)
    assert outcome.status is SubmissionStatus.ABSENT and not outcome.placed
    assert outcome.cause is not None and "KISServerError" in outcome.cause
    assert fake.requests[ORDER_PATH] == 1


async def test_broker_unreachable_after_a_timeout_is_unknown(
    client: KISClient, fake: FakeKIS
) -> None:
    fake.fail("timeout", ORDER_PATH)
    fake.fail("http_500", "/uapi/domestic-stock/v1/trading/inquire-daily-ccld", count=100)
    outcome = await client.submit_order(Side.BUY, "000660", 3, kind=OrderType.LIMIT, price=128500)
    assert outcome.status is SubmissionStatus.UNKNOWN
    assert fake.orders == []


async def test_rejection_is_reported_with_codes(broker: KISBroker, fake: FakeKIS) -> None:
    fake.fail("reject_cash", ORDER_PATH)
    ack = await broker.place(buy("s1-a"))
    assert ack.status is PlacementStatus.REJECTED
    assert (ack.reason_code, ack.reason) == ("APBK0952", "주문가능금액을 초과 했습니다")


async def test_cancel(broker: KISBroker, fake: FakeKIS) -> None:
    placed = await broker.place(buy("s1-a"))
    ack = await broker.cancel("s1-a")
    assert ack.status is PlacementStatus.ACCEPTED
    assert fake.cancels[0]["ORGN_ODNO"] == placed.broker_order_id
    assert fake.cancels[0]["KRX_FWDG_ORD_ORGNO"] == "91252"
    with pytest.raises(UnknownOrderError):
        await broker.cancel("never-placed")


async def test_remembered_mapping_survives_a_restart(client: KISClient, fake: FakeKIS) -> None:
    first = KISBroker(client)
    ack = await first.place(buy("s1-a"))
    assert ack.broker_order_id is not None
    restarted = KISBroker(client)
    restarted.remember("s1-a", ack.broker_order_id, "91252")
    again = await restarted.place(buy("s1-a"))
    assert again.broker_order_id == ack.broker_order_id and len(fake.orders) == 1
