"""The Starlette application of the simulator: every documented path behind the gateway."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.routing import Route

from tools.kis.simulator import (
    routes_account,
    routes_finance,
    routes_info,
    routes_multiquote,
    routes_quotes,
    wire,
)
from tools.kis.simulator import routes_trading as trading
from tools.kis.simulator.config import SimulatorConfig
from tools.kis.simulator.gateway import Handler, uapi
from tools.kis.simulator.routes_oauth import oauth_routes
from tools.kis.simulator.state import SimulatorState, build_state

MULTI_PRICE = "/quotations/intstock-multprice"
_GET: dict[str, Handler] = {
    "/quotations/inquire-price": routes_quotes.inquire_price,
    "/quotations/inquire-daily-itemchartprice": routes_quotes.daily_chart,
    "/quotations/inquire-time-itemchartprice": routes_quotes.time_chart,
    "/quotations/intstock-multprice": routes_multiquote.multi_price,
    "/quotations/news-title": routes_info.news_title,
    "/quotations/search-stock-info": routes_info.search_stock_info,
    "/quotations/chk-holiday": routes_info.chk_holiday,
    "/trading/inquire-balance": routes_account.inquire_balance,
    "/trading/inquire-daily-ccld": routes_account.inquire_daily_ccld,
    "/trading/inquire-psbl-order": trading.inquire_psbl_order,
}
_GET |= {path: routes_finance.finance for path in wire.QUOTE_TRS if path.startswith("/finance")}
_POST: dict[str, Handler] = {
    "/trading/order-cash": trading.order_cash,
    "/trading/order-rvsecncl": trading.order_rvsecncl,
}


def app_for_state(state: SimulatorState) -> Starlette:
    """Build the ASGI app around an existing simulator state."""
    routes = oauth_routes(state)
    for path, handler in _GET.items():
        if path == MULTI_PRICE and not state.cfg.multi_quote:
            continue  # a server without the multi-ticker quote: the path is not found (404)
        routes.append(Route(wire.PATH_PREFIX + path, uapi(state, path, handler), methods=["GET"]))
    for path, handler in _POST.items():
        routes.append(Route(wire.PATH_PREFIX + path, uapi(state, path, handler), methods=["POST"]))
    app = Starlette(routes=routes)
    app.state.sim = state
    return app


def create_app(cfg: SimulatorConfig, *, reset: bool = False) -> Starlette:
    """Build a simulator as a Starlette app (usable in-process with httpx.ASGITransport).

    The simulator's parts are at ``app.state.sim`` (faults, stats, broker_orders()).
    """
    return app_for_state(build_state(cfg, reset=reset))
