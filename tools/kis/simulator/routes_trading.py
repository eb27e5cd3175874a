"""Trading: order-cash, order-rvsecncl and inquire-psbl-order."""

from __future__ import annotations

from starlette.responses import Response

from tools.kis.simulator import wire
from tools.kis.simulator.gateway import Call
from tools.kis.simulator.state import SimulatorState


def order_cash(state: SimulatorState, call: Call) -> Response:
    """TTTC0012U/0011U (and old 0802U/0801U): a cash buy or sell."""
    answer = state.desk.place(call.body, wire.is_buy_tr(call.tr_id), call.now)
    if answer.order is None:
        return wire.error_response(answer.msg, tr_id=call.tr_id)
    state.stats.count_order()
    state.faults.order_accepted(wire.PATH_PREFIX + call.path, answer.order.odno, call.now)
    output = {
        "KRX_FWDG_ORD_ORGNO": state.desk.orgno,
        "ODNO": answer.order.odno,
        "ORD_TMD": answer.order.ord_tmd,
    }
    return wire.json_response(wire.envelope(answer.msg, output=output), tr_id=call.tr_id)


def order_rvsecncl(state: SimulatorState, call: Call) -> Response:
    """TTTC0013U (old 0803U): revise or cancel the unfilled quantity of an order."""
    answer = state.desk.revise_or_cancel(call.body, call.now)
    if answer.order is None:
        return wire.error_response(answer.msg, tr_id=call.tr_id)
    output = {
        "krx_fwdg_ord_orgno": state.desk.orgno,
        "odno": answer.order.odno,
        "ord_tmd": answer.order.ord_tmd,
    }
    return wire.json_response(wire.envelope(answer.msg, output=output), tr_id=call.tr_id)


def inquire_psbl_order(state: SimulatorState, call: Call) -> Response:
    """TTTC8908R: cash and quantity available for a buy at a price (market: the upper limit)."""
    cano, prdt = call.param("CANO"), call.param("ACNT_PRDT_CD")
    error = state.desk.account_error(cano, prdt)
    pdno = call.param("PDNO")
    if error is None and state.market.instrument(pdno) is None:
        error = wire.NO_SUCH_STOCK
    if error is not None:
        return wire.error_response(error, tr_id=call.tr_id)
    quote = state.market.quote(pdno, call.now)
    price_s = call.param("ORD_UNPR")
    price = int(price_s) if price_s.isdigit() and int(price_s) > 0 else 0
    if call.param("ORD_DVSN") == "01" or price == 0:
        price = quote.upper if call.param("ORD_DVSN") == "01" else quote.price
    cash = state.matcher.available_cash(cano, prdt)
    qty = cash // price if price else 0
    while qty and state.matcher.buy_cost(qty, price) > cash:
        qty -= 1
    amount = qty * price
    output = {
        "ord_psbl_cash": str(cash),
        "ord_psbl_sbst": "0",
        "ruse_psbl_amt": "0",
        "fund_rpch_chgs": "0",
        "psbl_qty_calc_unpr": str(price),
        "nrcvb_buy_amt": str(amount),
        "nrcvb_buy_qty": str(qty),
        "max_buy_amt": str(amount),
        "max_buy_qty": str(qty),
        "cma_evlu_amt": "0",
        "ovrs_re_use_amt_wcrc": "0",
        "ord_psbl_frcr_amt_wcrc": "0",
    }
    body = wire.envelope(wire.inquiry_ok(state.cfg.mode), pad=True, output=output)
    return wire.json_response(body, tr_id=call.tr_id)
