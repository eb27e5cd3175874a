"""The executor against a misbehaving broker: nothing sent twice, none lost, fills booked once."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from agents.executor import Executor
from agents.risk.models import ProposedOrder, make_client_order_id
from core.orders import OrderStatus, OrderType, Side
from db.models import Fill
from tests.agents.executor_rig import THREAD, Rig, as_request, make_rig, order
from tests.agents.fake_broker import BRANCH
from tools.krx.rules import Market

pytestmark = pytest.mark.anyio


SAMSUNG = order("005930", 10, 53_600)
HYNIX = order("000660", 3, 181_000)


@pytest.mark.parametrize("engine", ["sqlite", "postgres"])
async def test_orders_are_sent_once_recorded_and_filled(
    engine: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    url = str(request.getfixturevalue(f"{engine}_url" if engine == "sqlite" else "pg_url"))
    for rig in make_rig(url, tmp_path, tags=True):
        orders = rig.approve(SAMSUNG, HYNIX)
        outcomes = await rig.execute(orders)
        assert rig.broker.place_calls == [SAMSUNG.client_order_id, HYNIX.client_order_id]
        for o in orders:
            assert outcomes[o.client_order_id].status is OrderStatus.FILLED
            row = rig.row(o)
            assert row.status is OrderStatus.FILLED
            assert row.broker_order_no == rig.broker.sent(o.client_order_id)[0].broker_order_id
            assert row.broker_branch_no == BRANCH
            assert row.filled_value_krw == o.qty * (o.limit_price_krw or 0)
            assert rig.fills(o) == [(f"{o.client_order_id}:{o.qty}", o.qty)]
        assert rig.sleep.waits == []


@pytest.mark.parametrize("tags", [True, False], ids=["paper-like", "kis-like"])
async def test_running_again_sends_nothing_and_books_no_fill_twice(
    tags: bool, sqlite_url: str, tmp_path: Path
) -> None:
    for rig in make_rig(sqlite_url, tmp_path, tags=tags):
        orders = rig.approve(SAMSUNG, HYNIX)
        rig.broker.fills[SAMSUNG.client_order_id] = [4]  # partly filled, then cancelled
        await rig.execute(orders)
        fills = rig.fills(SAMSUNG) + rig.fills(HYNIX)
        rig.broker.restart()  # LangGraph re-runs the node in a fresh process
        again = await rig.execute(orders)
        assert rig.broker.place_calls == [SAMSUNG.client_order_id, HYNIX.client_order_id]
        assert len(rig.broker.book) == 2
        assert rig.fills(SAMSUNG) + rig.fills(HYNIX) == fills
        assert again[SAMSUNG.client_order_id].status is OrderStatus.CANCELLED
        assert again[SAMSUNG.client_order_id].filled_qty == 4
        assert again[HYNIX.client_order_id].status is OrderStatus.FILLED
        if not tags:
            assert {(c, b) for c, _, b in rig.broker.remembered} == {
                (SAMSUNG.client_order_id, BRANCH),
                (HYNIX.client_order_id, BRANCH),
            }


async def test_a_rejected_order_is_recorded_and_not_followed(rig: Rig) -> None:
    orders = rig.approve(SAMSUNG, HYNIX)
    rig.broker.reject.add(SAMSUNG.client_order_id)
    outcomes = await rig.execute(orders)
    row = rig.row(SAMSUNG)
    assert row.status is OrderStatus.REJECTED
    assert (row.error_code, row.reason) == ("APBK0919", "insufficient cash")
    assert row.broker_order_no is None
    assert rig.fills(SAMSUNG) == []
    assert outcomes[HYNIX.client_order_id].status is OrderStatus.FILLED
    assert rig.broker.cancel_calls == []


@pytest.mark.parametrize("loss", ["raise", "unconfirmed"])
@pytest.mark.parametrize("tags", [True, False], ids=["paper-like", "kis-like"])
async def test_a_lost_answer_is_settled_by_looking_in_the_list_not_by_sending_again(
    loss: str, tags: bool, sqlite_url: str, tmp_path: Path
) -> None:
    for rig in make_rig(sqlite_url, tmp_path, tags=tags):
        orders = rig.approve(SAMSUNG, HYNIX)
        rig.broker.lose_answer[SAMSUNG.client_order_id] = loss
        outcomes = await rig.execute(orders)
        assert len(rig.broker.sent(SAMSUNG.client_order_id)) == 1
        assert len(rig.broker.book) == 2
        outcome = outcomes[SAMSUNG.client_order_id]
        assert outcome.status is OrderStatus.FILLED
        assert outcome.note == "answer lost; found in the broker's list"
        row = rig.row(SAMSUNG)
        assert row.broker_order_no == rig.broker.sent(SAMSUNG.client_order_id)[0].broker_order_id
        assert rig.fills(SAMSUNG) == [(f"{SAMSUNG.client_order_id}:10", 10)]
        # Never asked again: found at the first look at the list.
        assert rig.broker.place_calls.count(SAMSUNG.client_order_id) == 1
        assert rig.sleep.waits == []


async def test_partial_fills_are_booked_as_increments_once_across_polls(rig: Rig) -> None:
    orders = rig.approve(SAMSUNG)
    rig.broker.fills[SAMSUNG.client_order_id] = [3, 3, 7, 7, 10]
    outcomes = await rig.execute(orders)
    cid = SAMSUNG.client_order_id
    assert rig.fills(SAMSUNG) == [(f"{cid}:3", 3), (f"{cid}:7", 4), (f"{cid}:10", 3)]
    assert outcomes[cid].status is OrderStatus.FILLED
    assert outcomes[cid].filled_qty == 10
    assert rig.row(SAMSUNG).filled_value_krw == 10 * 53_600
    assert rig.sleep.waits == [2.0] * 4
    assert rig.broker.cancel_calls == []


async def test_an_order_that_never_fills_is_cancelled_at_the_fill_timeout(rig: Rig) -> None:
    orders = rig.approve(SAMSUNG, HYNIX)
    rig.broker.never_fill.add(SAMSUNG.client_order_id)
    outcomes = await rig.execute(orders)
    assert rig.broker.cancel_calls == [SAMSUNG.client_order_id]
    assert sum(rig.sleep.waits) == 10.0  # fill_timeout, on the fake clock
    outcome = outcomes[SAMSUNG.client_order_id]
    assert outcome.status is OrderStatus.CANCELLED
    assert outcome.filled_qty == 0
    assert outcome.note.startswith("unfilled after 0:00:10; cancel accepted")
    assert rig.fills(SAMSUNG) == []
    assert outcomes[HYNIX.client_order_id].status is OrderStatus.FILLED


async def test_a_partly_filled_order_keeps_its_fills_when_the_rest_is_cancelled(rig: Rig) -> None:
    orders = rig.approve(SAMSUNG)
    rig.broker.fills[SAMSUNG.client_order_id] = [4]
    outcomes = await rig.execute(orders)
    outcome = outcomes[SAMSUNG.client_order_id]
    assert outcome.status is OrderStatus.CANCELLED
    assert outcome.filled_qty == 4
    assert rig.fills(SAMSUNG) == [(f"{SAMSUNG.client_order_id}:4", 4)]


async def test_a_failed_cancel_does_not_pretend_the_order_is_cancelled(rig: Rig) -> None:
    orders = rig.approve(SAMSUNG)
    rig.broker.fills[SAMSUNG.client_order_id] = [4]
    rig.broker.cancel_fails = True
    outcomes = await rig.execute(orders)
    outcome = outcomes[SAMSUNG.client_order_id]
    # Its rest may still work at the broker and nobody follows it: a person settles it.
    assert outcome.status is OrderStatus.NEEDS_REVIEW
    assert outcome.filled_qty == 4
    assert "cancel failed" in outcome.note
    assert "may still be working at the broker" in outcome.note
    row = rig.row(SAMSUNG)
    assert (row.status, row.filled_qty) == (OrderStatus.NEEDS_REVIEW, 4)
    assert "check it and cancel it there" in (row.reason or "")


async def test_after_a_restart_an_order_found_at_the_broker_is_not_sent_again(
    kis_rig: Rig,
) -> None:
    rig = kis_rig
    orders = rig.approve(SAMSUNG, HYNIX)
    rig.mark_submitting(SAMSUNG)
    await rig.broker.place(as_request(SAMSUNG))  # reached the broker; the process then died
    rig.broker.restart()
    rig.broker.place_calls.clear()
    outcomes = await rig.execute(orders)
    assert rig.broker.place_calls == [HYNIX.client_order_id]
    assert len(rig.broker.sent(SAMSUNG.client_order_id)) == 1
    row = rig.row(SAMSUNG)
    assert row.status is OrderStatus.FILLED
    assert (row.broker_order_no, row.broker_branch_no) == ("0000000001", BRANCH)
    assert (SAMSUNG.client_order_id, "0000000001", BRANCH) in rig.broker.remembered
    assert outcomes[SAMSUNG.client_order_id].note == "recovered after a restart"
    assert rig.sleep.waits == []


async def test_two_identical_unmapped_orders_hand_ours_to_a_person_and_send_nothing(
    kis_rig: Rig,
) -> None:
    rig = kis_rig
    orders = rig.approve(SAMSUNG, HYNIX)
    rig.mark_submitting(SAMSUNG)
    rig.broker.add_foreign("005930", Side.BUY, 10, 53_600)
    rig.broker.add_foreign("005930", Side.BUY, 10, 53_600)
    outcomes = await rig.execute(orders)
    assert SAMSUNG.client_order_id not in rig.broker.place_calls
    assert outcomes[SAMSUNG.client_order_id].status is OrderStatus.NEEDS_REVIEW
    assert "several broker orders match" in outcomes[SAMSUNG.client_order_id].note
    assert rig.row(SAMSUNG).broker_order_no is None
    assert outcomes[HYNIX.client_order_id].status is OrderStatus.FILLED
    assert rig.broker.cancel_calls == []


async def test_an_identical_order_already_mapped_to_a_sibling_is_not_taken_for_ours(
    kis_rig: Rig,
) -> None:
    rig = kis_rig
    first, second = order("005930", 10, 53_600, seq=0), order("005930", 10, 53_600, seq=1)
    orders = rig.approve(first, second)
    await rig.execute([first])  # the first is sent, recorded and filled
    rig.mark_submitting(second)
    await rig.broker.place(as_request(second))  # the second reached the broker, then a crash
    rig.broker.restart()
    rig.broker.place_calls.clear()
    outcomes = await rig.execute(orders)
    assert rig.broker.place_calls == []
    assert len(rig.broker.book) == 2
    assert outcomes[second.client_order_id].note == "recovered after a restart"
    assert rig.row(second).broker_order_no == "0000000002"
    assert rig.row(first).broker_order_no == "0000000001"


async def test_an_identical_order_placed_before_ours_was_written_is_not_ours(
    kis_rig: Rig,
) -> None:
    rig = kis_rig
    orders = rig.approve(SAMSUNG)
    rig.broker.add_foreign("005930", Side.BUY, 10, 53_600)  # by hand, a minute earlier
    rig.clock.advance(timedelta(minutes=1))
    rig.mark_submitting(SAMSUNG)
    await rig.broker.place(as_request(SAMSUNG))  # ours reached the broker; then a crash
    rig.broker.restart()
    rig.broker.place_calls.clear()
    outcomes = await rig.execute(orders)
    assert rig.broker.place_calls == []
    assert outcomes[SAMSUNG.client_order_id].status is OrderStatus.FILLED
    assert rig.row(SAMSUNG).broker_order_no == "0000000002"


async def test_a_failed_poll_is_skipped_and_fills_are_read_at_the_next(rig: Rig) -> None:
    orders = rig.approve(SAMSUNG)
    rig.broker.executions_fail = 1
    outcomes = await rig.execute(orders)
    assert outcomes[SAMSUNG.client_order_id].status is OrderStatus.FILLED
    assert rig.fills(SAMSUNG) == [(f"{SAMSUNG.client_order_id}:10", 10)]
    assert rig.sleep.waits == [2.0]


async def test_a_cancel_whose_outcome_cannot_be_read_hands_the_order_to_a_person(
    rig: Rig,
) -> None:
    orders = rig.approve(SAMSUNG)
    rig.broker.never_fill.add(SAMSUNG.client_order_id)
    polls = 10 // 2 + 1  # fill_timeout / poll interval, plus the first look
    rig.broker.blind_after_cancel = True
    outcomes = await rig.execute(orders)
    assert rig.broker.cancel_calls == [SAMSUNG.client_order_id]
    assert rig.sleep.waits == [2.0] * (polls - 1)
    outcome = outcomes[SAMSUNG.client_order_id]
    assert outcome.status is OrderStatus.NEEDS_REVIEW
    assert "may still be working at the broker" in outcome.note


async def test_sell_tax_follows_the_market_etfs_pay_none(rig: Rig) -> None:
    # 2025-06-10 settles 2025-06-12 at the 2025 rate, 0.15 %; commission 0.015 %, floored.
    def sell(ticker: str, qty: int, price: int) -> ProposedOrder:
        return ProposedOrder(
            client_order_id=make_client_order_id(THREAD, ticker, Side.SELL),
            ticker=ticker,
            side=Side.SELL,
            order_type=OrderType.LIMIT,
            qty=qty,
            limit_price_krw=price,
            reason="test",
        )

    stock, etf = sell("005930", 10, 53_600), sell("069500", 20, 35_000)
    orders = rig.approve(stock, etf)
    markets = {"005930": Market.KOSPI, "069500": Market.ETF}
    await Executor(rig.ctx, rig.mandate(), markets).run(orders)
    with rig.ctx.sessions() as session:
        booked = {
            t: (c, x)
            for t, c, x in session.execute(
                sa.select(Fill.ticker, Fill.commission_krw, Fill.tax_krw)
            )
        }
    assert booked["005930"] == (80, 804)  # 536,000 x 0.00015 = 80.4; x 0.0015 = 804
    assert booked["069500"] == (105, 0)  # 700,000 x 0.00015 = 105; ETFs pay no sell tax
