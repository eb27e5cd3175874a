"""An approver's edit goes back through the same rules (numbers worked out by hand)."""

from __future__ import annotations

from agents.risk import (
    EditResult,
    OrderOrigin,
    ProposedOrder,
    RiskCode,
    RiskLimits,
    make_client_order_id,
    recheck_edit,
)
from agents.risk.models import DecisionKind, PortfolioSnapshot
from core.orders import OrderType, Side
from tests.agents.risk.builders import HYNIX, SAMSUNG, THREAD, account, book_of, snap

LIMITS = RiskLimits()
MARKET = book_of(snap(SAMSUNG, 70_000), snap(HYNIX, 79_000))  # SAMSUNG band 49,000-91,000


def order(
    side: Side = Side.BUY,
    qty: int = 35,
    price: int | None = 70_000,
    ticker: str = SAMSUNG,
    origin: OrderOrigin = OrderOrigin.SIGNAL,
) -> ProposedOrder:
    return ProposedOrder(
        client_order_id=make_client_order_id(THREAD, ticker, side),
        ticker=ticker,
        side=side,
        order_type=OrderType.LIMIT if price is not None else OrderType.MARKET,
        qty=qty,
        limit_price_krw=price,
        origin=origin,
        reason="proposed",
    )


def edit(
    original: ProposedOrder,
    qty: int | None,
    price: int | None,
    *,
    portfolio: PortfolioSnapshot | None = None,
    others: tuple[ProposedOrder, ...] = (),
    to_type: OrderType | None = None,
) -> EditResult:
    return recheck_edit(
        original,
        qty,
        price,
        portfolio=portfolio or account(),
        market=MARKET,
        limits=LIMITS,
        other_orders=(original, *others),
        new_order_type=to_type,
    )


def test_a_modest_edit_passes_unchanged_and_keeps_its_id() -> None:
    original = order()
    result = edit(original, 40, 69_900)
    assert result.decisions == ()
    assert result.order is not None
    assert (result.order.qty, result.order.limit_price_krw) == (40, 69_900)
    assert result.order.client_order_id == original.client_order_id
    assert "edited by the approver to 40 at 69,900 KRW" in result.order.reason


def test_a_larger_quantity_is_cut_to_the_order_cap() -> None:
    result = edit(order(), 200, None)
    assert result.order is not None and result.order.qty == 71  # 5,000,000 // 70,000
    (clamp,) = result.decisions
    assert (clamp.code, clamp.before, clamp.after) == (RiskCode.MAX_ORDER_VALUE, 200, 71)


def test_an_edit_on_a_held_ticker_is_cut_to_the_per_ticker_cap() -> None:
    # held 100 x 70,000 = 7,000,000 of the 10,000,000 cap -> 3,000,000 // 70,000 = 42
    held = account(positions={SAMSUNG: (100, 7_000_000)})
    result = edit(order(), 60, None, portfolio=held)
    assert result.order is not None and result.order.qty == 42
    (clamp,) = result.decisions
    assert (clamp.code, clamp.before, clamp.after) == (RiskCode.TICKER_EXPOSURE, 60, 42)


def test_price_edits_are_put_on_the_grid_and_inside_the_band() -> None:
    off_grid = edit(order(), None, 70_050)
    assert off_grid.order is not None and off_grid.order.limit_price_krw == 70_000
    assert [d.code for d in off_grid.decisions] == [RiskCode.TICK]
    too_high = edit(order(), None, 95_000)
    assert too_high.order is not None and too_high.order.limit_price_krw == 91_000
    assert [d.code for d in too_high.decisions] == [RiskCode.PRICE_LIMIT]
    sell = edit(order(Side.SELL, qty=10), None, 70_050, portfolio=held(100))
    assert sell.order is not None and sell.order.limit_price_krw == 70_100


def test_a_market_buy_is_checked_at_the_upper_limit() -> None:
    # 5,000,000 // 91,000 = 54
    result = edit(order(), 71, None, to_type=OrderType.MARKET)
    assert result.order is not None
    assert (result.order.order_type, result.order.limit_price_krw, result.order.qty) == (
        OrderType.MARKET,
        None,
        54,
    )
    assert [d.code for d in result.decisions] == [RiskCode.MAX_ORDER_VALUE]


def test_nonsense_edits_are_denied() -> None:
    for qty, price, to_type in (
        (0, None, None),
        (-5, None, None),
        (10, 0, None),
        (10, -70_000, None),
        (10, 70_000, OrderType.MARKET),
    ):
        result = edit(order(), qty, price, to_type=to_type)
        assert result.order is None
        assert [d.code for d in result.decisions] == [RiskCode.INVALID_EDIT]


def test_buy_edits_are_denied_under_a_halt() -> None:
    result = edit(order(), 10, None, portfolio=account(equity=96_000_000, start_of_day=100_000_000))
    assert result.order is None
    assert [(d.kind, d.code) for d in result.decisions] == [
        (DecisionKind.HALT, RiskCode.DAILY_LOSS_HALT),
        (DecisionKind.DENY, RiskCode.DAILY_LOSS_HALT),
    ]


def test_the_other_orders_use_up_cash() -> None:
    # spendable 5,000,000; HYNIX 30 x 79,000 + 355 fee leaves 2,629,645 -> 37 at 70,000
    hynix = order(ticker=HYNIX, qty=30, price=79_000)
    result = edit(order(), 71, None, portfolio=account(cash=6_000_000), others=(hynix,))
    assert result.order is not None and result.order.qty == 37
    assert [(d.code, d.before, d.after) for d in result.decisions] == [(RiskCode.CASH, 71, 37)]


def held(qty: int) -> PortfolioSnapshot:
    return account(positions={SAMSUNG: (qty, qty * 70_000)})


def test_sell_edits_never_exceed_the_position() -> None:
    result = edit(order(Side.SELL, qty=50), 150, None, portfolio=held(100))
    assert result.order is not None and result.order.qty == 71
    assert [(d.code, d.after) for d in result.decisions] == [
        (RiskCode.HELD_QTY, 100),
        (RiskCode.MAX_ORDER_VALUE, 71),
    ]


def test_exit_edits_are_cut_to_the_position_only() -> None:
    stop = order(Side.SELL, qty=100, price=None, origin=OrderOrigin.STOP_LOSS)
    result = edit(stop, 200, None, portfolio=held(100))
    assert result.order is not None and result.order.qty == 100
    assert result.order.origin is OrderOrigin.STOP_LOSS
    assert [d.code for d in result.decisions] == [RiskCode.HELD_QTY]


def test_an_edit_on_a_ticker_without_market_data_is_denied() -> None:
    result = edit(order(ticker="999999"), 10, None)
    assert result.order is None
    assert [d.code for d in result.decisions] == [RiskCode.UNKNOWN_TICKER]
