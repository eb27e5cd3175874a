"""How `trader approve` reads its arguments: order names, edits, and the resume value."""

from __future__ import annotations

import pytest

from agents.risk.models import ProposedOrder, make_client_order_id
from core.errors import ConfigurationError
from core.orders import OrderType, Side
from graphs.nodes.approval import Action
from trader.cli.approval_answer import (
    build_response,
    describe_response,
    parse_edit_value,
    resolve_order,
)

THREAD = "default:2026-11-26:regular"


def _order(ticker: str, qty: int, price: int) -> ProposedOrder:
    return ProposedOrder(
        client_order_id=make_client_order_id(THREAD, ticker, Side.BUY),
        ticker=ticker,
        side=Side.BUY,
        order_type=OrderType.LIMIT,
        qty=qty,
        limit_price_krw=price,
        reason="buy signal",
    )


ORDERS = [_order("005930", 10, 71_000), _order("000660", 5, 195_000), _order("035420", 3, 210_000)]


def test_orders_are_named_by_row_number_or_id_prefix_with_or_without_mat() -> None:
    second = ORDERS[1].client_order_id
    assert resolve_order("2", ORDERS) is ORDERS[1]
    assert resolve_order(second[:10], ORDERS) is ORDERS[1]
    assert resolve_order(second.removeprefix("mat-")[:6], ORDERS) is ORDERS[1]
    with pytest.raises(ConfigurationError, match=r"row number 1\.\.3"):
        resolve_order("zzzz", ORDERS)


FOUR = [*ORDERS, _order("051910", 2, 330_000)]


@pytest.mark.parametrize("token", ["9", "0", "5", "10", "999"])
def test_a_row_number_out_of_range_is_an_error_never_an_id_prefix(token: str) -> None:
    # Client ids are hex: give the session an order whose id starts with the token.
    clash = next(
        o
        for o in (_order(f"{n:06d}", 1, 1_000) for n in range(100_000))
        if o.client_order_id.removeprefix("mat-").startswith(token)
    )
    four = [*ORDERS, clash]
    with pytest.raises(ConfigurationError, match=r"no row " + token + r": rows are 1\.\.4"):
        resolve_order(token, four)


@pytest.mark.parametrize("token", ["mat-", "mat-3", "ab", "abc", "mat-abc"])
def test_an_id_prefix_needs_at_least_four_characters(token: str) -> None:
    with pytest.raises(ConfigurationError, match="at least 4 characters"):
        resolve_order(token, FOUR)


def test_an_ambiguous_prefix_is_an_error_naming_the_orders() -> None:
    clashing = [_order(f"{n:06d}", 1, 1_000) for n in range(400)]
    ids = [o.client_order_id.removeprefix("mat-") for o in clashing]
    shared = next(i[:4] for i in ids if sum(j.startswith(i[:4]) for j in ids) > 1)
    with pytest.raises(ConfigurationError, match="matches several orders"):
        resolve_order(shared, clashing)


def test_edit_values() -> None:
    assert parse_edit_value("5@71,000", "x").qty == 5
    assert parse_edit_value("5@71,000", "x").limit_price_krw == 71_000
    assert parse_edit_value("7", "x").limit_price_krw is None
    assert parse_edit_value("@70500", "x").qty is None
    for bad in ("", "@", "0@100", "5@-1", "five"):
        with pytest.raises(ConfigurationError):
            parse_edit_value(bad, bad)


def test_orders_not_named_are_approved_only_with_all() -> None:
    with_all = build_response(ORDERS, approve_all=True, reject=["1"], edit=["3=2@209500"])
    assert with_all.approve_all
    assert [(d.action, d.qty, d.limit_price_krw) for d in with_all.decisions] == [
        (Action.REJECT, None, None),
        (Action.EDIT, 2, 209_500),
    ]
    assert describe_response(ORDERS, with_all) == "1 approved, 1 edited, 1 rejected"

    only_edit = build_response(ORDERS, approve_all=False, edit=["2=1"], decided_by="kim")
    assert not only_edit.approve_all and only_edit.decided_by == "kim"
    assert describe_response(ORDERS, only_edit) == "0 approved, 1 edited, 2 rejected"

    picked = build_response(ORDERS, approve_all=False, approve=["1,3"])
    assert describe_response(ORDERS, picked) == "2 approved, 0 edited, 1 rejected"


def test_nothing_decided_or_an_order_named_twice_is_an_error() -> None:
    with pytest.raises(ConfigurationError, match="say what to do"):
        build_response(ORDERS, approve_all=False)
    with pytest.raises(ConfigurationError, match="more than once"):
        build_response(ORDERS, approve_all=True, reject=["1"], edit=["1=3"])
    with pytest.raises(ConfigurationError, match="ID=QTY@PRICE"):
        build_response(ORDERS, approve_all=True, edit=["1"])
