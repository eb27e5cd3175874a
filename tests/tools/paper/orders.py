"""Order builders for the paper broker tests."""

from __future__ import annotations

from core.orders import OrderType, Side
from tools.broker import OrderRequest

SAMSUNG = "005930"


def order(
    cid: str, side: Side, qty: int, limit: int | None = None, ticker: str = SAMSUNG
) -> OrderRequest:
    return OrderRequest(
        client_order_id=cid,
        ticker=ticker,
        side=side,
        qty=qty,
        order_type=OrderType.LIMIT if limit is not None else OrderType.MARKET,
        limit_price=limit,
    )


def buy(cid: str, qty: int, limit: int | None = None, ticker: str = SAMSUNG) -> OrderRequest:
    return order(cid, Side.BUY, qty, limit, ticker)


def sell(cid: str, qty: int, limit: int | None = None, ticker: str = SAMSUNG) -> OrderRequest:
    return order(cid, Side.SELL, qty, limit, ticker)
