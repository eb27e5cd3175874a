"""Finding an order in doubt in the broker's list: a typed answer, never a sentinel string."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from agents.executor.models import NotFound
from agents.executor.reconcile import RECONCILE_WINDOW, find_at_broker
from core.orders import OrderStatus, OrderType, Side
from db.models import Order
from tools.broker import Execution

WRITTEN = datetime(2025, 6, 10, 1, 0, tzinfo=UTC)


def _row() -> Order:
    return Order(
        client_order_id="t:005930:buy:0",
        ticker="005930",
        side=Side.BUY,
        order_type=OrderType.LIMIT,
        qty=10,
        limit_price_krw=70_000,
        status=OrderStatus.SUBMITTING,
        submitted_at=WRITTEN,
        updated_at=WRITTEN,
    )


def _listed(
    order_no: str, *, cid: str | None = None, side: Side = Side.BUY, at: datetime = WRITTEN
) -> Execution:
    return Execution(
        broker_order_id=order_no,
        client_order_id=cid,
        ticker="005930",
        side=side,
        ordered_qty=10,
        limit_price=70_000,
        filled_qty=0,
        avg_fill_price=Decimal(0),
        remaining_qty=10,
        ordered_at=at + timedelta(seconds=1),
    )


def test_an_order_tagged_with_our_client_order_id_is_ours() -> None:
    ours = _listed("7", cid="t:005930:buy:0")
    assert find_at_broker(_row(), [_listed("6"), ours], mapped=set()) is ours


def test_one_untagged_match_is_ours_and_a_mapped_or_other_side_order_is_not() -> None:
    match = _listed("9")
    listed = [_listed("8"), _listed("10", side=Side.SELL), match]
    assert find_at_broker(_row(), listed, mapped={"8"}) is match


def test_several_matches_are_ambiguous_and_none_is_absent() -> None:
    assert find_at_broker(_row(), [_listed("8"), _listed("9")], set()) is NotFound.AMBIGUOUS
    assert find_at_broker(_row(), [], set()) is NotFound.ABSENT


def test_an_order_placed_before_our_row_was_written_is_not_ours() -> None:
    early = _listed("8", at=WRITTEN - RECONCILE_WINDOW - timedelta(seconds=2))
    assert find_at_broker(_row(), [early], set()) is NotFound.ABSENT
