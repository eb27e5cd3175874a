"""Account inquiries with tr_cont paging: inquire-balance and inquire-daily-ccld.

Paging: a page that has more rows after it answers response header ``tr_cont`` "F" (first page)
or "M" (a later page); the last page answers "D" (it was also the first) or "E". The next page is
asked with request header ``tr_cont: N`` and the previous ``ctx_area_fk100``/``ctx_area_nk100``
exactly as received, padding included (`paging.ctx_error`); nk100 is the last key the page
showed: a ticker for the balance, an order number for the executions.

Cash settles T+2 trading days after the trade, as on KRX. The books hold the cash with every
fill in it, which is the D+2 cash (prvs_rcdl_excc_amt); the deposit (dnca_tot_amt) leaves out
what settles after today, the D+1 cash (nxdy_excc_amt) what settles after the next trading day.
The totals (tot_evlu_amt, nass_amt, bfdy_tot_asst_evlu_amt) count the D+2 cash, per the KIS
field description of tot_evlu_amt ("유가증권 평가금액 합계금액 + D+2 예수금"); the samples cannot
tell the bases apart (their three cash fields are equal).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from typing import TypeVar

from starlette.responses import Response

from core.clock import KST
from tools.kis.simulator import wire
from tools.kis.simulator.fields import rate, ratio
from tools.kis.simulator.gateway import Call
from tools.kis.simulator.market import previous_trading_day
from tools.kis.simulator.paging import cont_flag, ctx_error
from tools.kis.simulator.state import SimulatorState
from tools.kis.simulator.store import Execution, Order
from tools.krx.calendar import next_trading_day, settlement_date

T = TypeVar("T")
ORD_DVSN_NAMES = {
    "00": "지정가",
    "01": "시장가",
    "02": "조건부지정가",
    "03": "최유리지정가",
    "04": "최우선지정가",
}


def page(
    call: Call, rows: Sequence[T], size: int, key: Callable[[T], str]
) -> tuple[list[T], str, str]:
    """Cut one page after the ctx_area_nk100 key; return (rows, nk100 value, tr_cont)."""
    after = call.raw_param("CTX_AREA_NK100").rstrip() if call.tr_cont == "N" else ""
    start = 0
    if after:
        keys = [key(r) for r in rows]
        start = keys.index(after) + 1 if after in keys else len(rows)
    chunk = list(rows[start : start + size])
    more = start + size < len(rows)
    return chunk, key(chunk[-1]) if more and chunk else "", cont_flag(start == 0, more)


def _query_again(state: SimulatorState, call: Call) -> bool:
    """Whether a continuation request meets an armed query_again fault (SYDB0050)."""
    return call.tr_cont == "N" and state.faults.take_query_again(wire.PATH_PREFIX + call.path)


def _flows(execs: list[Execution]) -> dict[str, int]:
    out = {
        "buy_qty": 0,
        "sell_qty": 0,
        "buy_amt": 0,
        "sell_amt": 0,
        "fees": 0,
        "buy_out": 0,
        "sell_in": 0,
    }
    for e in execs:
        value = e.qty * e.price
        out["fees"] += e.commission + e.tax
        if e.side == "buy":
            out["buy_qty"] += e.qty
            out["buy_amt"] += value
            out["buy_out"] += value + e.commission
        else:
            out["sell_qty"] += e.qty
            out["sell_amt"] += value
            out["sell_in"] += value - e.commission - e.tax
    return out


UNSETTLED_WINDOW = timedelta(days=14)
"""Trades older than this have settled (T+2 trading days, even across the longest holidays)."""


def _cash_flow(e: Execution) -> int:
    value = e.qty * e.price
    return value - e.commission - e.tax if e.side == "sell" else -(value + e.commission)


def unsettled_after(execs: list[Execution], days: Sequence[date]) -> list[int]:
    """Return, for each day, the net cash of the fills that settle after it."""
    settles: dict[str, date] = {}
    out = [0] * len(days)
    for e in execs:
        if e.exec_dt not in settles:
            settles[e.exec_dt] = settlement_date(datetime.strptime(e.exec_dt, "%Y%m%d").date())
        for i, day in enumerate(days):
            if settles[e.exec_dt] > day:
                out[i] += _cash_flow(e)
    return out


def _balance_fk(call: Call, cano: str, prdt: str) -> str:
    keys = ("AFHR_FLPR_YN", "FNCG_AMT_AUTO_RDPT_YN", "INQR_DVSN", "UNPR_DVSN", "FUND_STTL_ICLD_YN")
    return "^".join([cano, prdt] + [call.param(k) for k in keys]) + "^"


def inquire_balance(state: SimulatorState, call: Call) -> Response:
    """TTTC8434R: holdings (output1, paged) and the account summary (output2)."""
    cano, prdt = call.param("CANO"), call.param("ACNT_PRDT_CD")
    fk = _balance_fk(call, cano, prdt)
    error = state.desk.account_error(cano, prdt) or ctx_error(call, fk)
    if error is None and _query_again(state, call):
        error = wire.QUERY_AGAIN
    if error is not None:
        return wire.error_response(error, tr_id=call.tr_id)
    today = call.now.astimezone(KST).date()
    day_s, prev_s = f"{today:%Y%m%d}", f"{previous_trading_day(today):%Y%m%d}"
    store = state.store
    cash = store.cash(cano, prdt) or 0
    rows, sums = [], {"pchs": 0, "evlu": 0, "prev_value": 0}
    for pos in store.positions(cano, prdt):
        today_x = _flows(store.executions(cano, prdt, "pdno=? AND exec_dt=?", (pos.pdno, day_s)))
        prev_x = _flows(store.executions(cano, prdt, "pdno=? AND exec_dt=?", (pos.pdno, prev_s)))
        if pos.qty == 0 and not (today_x["buy_qty"] or today_x["sell_qty"]):
            continue
        q = state.market.quote(pos.pdno, call.now)
        evlu = pos.qty * q.price
        sums["pchs"] += pos.cost
        sums["evlu"] += evlu
        sums["prev_value"] += (pos.qty - today_x["buy_qty"] + today_x["sell_qty"]) * q.prev_close
        rows.append(
            {
                "pdno": pos.pdno,
                "prdt_name": q.instrument.name,
                "trad_dvsn_name": "현금",
                "bfdy_buy_qty": str(prev_x["buy_qty"]),
                "bfdy_sll_qty": str(prev_x["sell_qty"]),
                "thdt_buyqty": str(today_x["buy_qty"]),
                "thdt_sll_qty": str(today_x["sell_qty"]),
                "hldg_qty": str(pos.qty),
                "ord_psbl_qty": str(state.matcher.orderable_qty(cano, prdt, pos.pdno)),
                "pchs_avg_pric": ratio(pos.cost, pos.qty, 4),
                "pchs_amt": str(pos.cost),
                "prpr": str(q.price),
                "evlu_amt": str(evlu),
                "evlu_pfls_amt": str(evlu - pos.cost),
                "evlu_pfls_rt": rate(evlu - pos.cost, pos.cost),
                "evlu_erng_rt": rate(evlu - pos.cost, pos.cost, 8),
                "loan_dt": "",
                "loan_amt": "0",
                "stln_slng_chgs": "0",
                "expd_dt": "",
                "fltt_rt": rate(q.price - q.prev_close, q.prev_close, 8),
                "bfdy_cprs_icdc": str(q.price - q.prev_close),
                "item_mgna_rt_name": "20%",
                "grta_rt_name": "",
                "sbst_pric": "0",
                "stck_loan_unpr": "0.0000",
            }
        )
    size = state.cfg.page_size or (20 if state.cfg.is_virtual else 50)
    chunk, nk, cont = page(call, rows, size, lambda r: r["pdno"])
    all_today = _flows(store.executions(cano, prdt, "exec_dt=?", (day_s,)))
    all_prev = _flows(store.executions(cano, prdt, "exec_dt=?", (prev_s,)))
    recent = store.executions(cano, prdt, "exec_dt>=?", (f"{today - UNSETTLED_WINDOW:%Y%m%d}",))
    after_today, after_next = unsettled_after(recent, (today, next_trading_day(today)))
    total = cash + sums["evlu"]
    before = cash + all_today["buy_out"] - all_today["sell_in"] + sums["prev_value"]
    summary = {
        "dnca_tot_amt": str(cash - after_today),
        "nxdy_excc_amt": str(cash - after_next),
        "prvs_rcdl_excc_amt": str(cash),
        "cma_evlu_amt": "0",
        "bfdy_buy_amt": str(all_prev["buy_amt"]),
        "thdt_buy_amt": str(all_today["buy_amt"]),
        "nxdy_auto_rdpt_amt": "0",
        "bfdy_sll_amt": str(all_prev["sell_amt"]),
        "thdt_sll_amt": str(all_today["sell_amt"]),
        "d2_auto_rdpt_amt": "0",
        "bfdy_tlex_amt": str(all_prev["fees"]),
        "thdt_tlex_amt": str(all_today["fees"]),
        "tot_loan_amt": "0",
        "scts_evlu_amt": str(sums["evlu"]),
        "tot_evlu_amt": str(total),
        "nass_amt": str(total),
        "fncg_gld_auto_rdpt_yn": "",
        "pchs_amt_smtl_amt": str(sums["pchs"]),
        "evlu_amt_smtl_amt": str(sums["evlu"]),
        "evlu_pfls_smtl_amt": str(sums["evlu"] - sums["pchs"]),
        "tot_stln_slng_chgs": "0",
        "bfdy_tot_asst_evlu_amt": str(before),
        "asst_icdc_amt": str(total - before),
        "asst_icdc_erng_rt": rate(total - before, before, 8),
    }
    body = wire.envelope(
        wire.inquiry_ok(state.cfg.mode),
        pad=True,
        ctx_area_fk100=wire.pad_ctx(fk),
        ctx_area_nk100=wire.pad_ctx(nk),
        output1=chunk,
        output2=[summary],
    )
    return wire.json_response(body, tr_id=call.tr_id, tr_cont=cont)


def _day(text: str, default: date) -> str:
    try:
        return datetime.strptime(text, "%Y%m%d").strftime("%Y%m%d")
    except ValueError:
        return f"{default:%Y%m%d}"


def _side_name(o: Order) -> str:
    word = "매수" if o.side == "buy" else "매도"
    return {"cancel": f"{word}취소", "revise": f"{word}정정"}.get(o.kind, f"현금{word}")


def inquire_daily_ccld(state: SimulatorState, call: Call) -> Response:
    """TTTC0081R: orders and their fills over a date range (output1 paged, output2 totals)."""
    cano, prdt = call.param("CANO"), call.param("ACNT_PRDT_CD")
    error = state.desk.account_error(cano, prdt)
    if error is None and _query_again(state, call):
        error = wire.QUERY_AGAIN
    if error is not None:
        return wire.error_response(error, tr_id=call.tr_id)
    today = call.now.astimezone(KST).date()
    start, end = _day(call.param("INQR_STRT_DT"), today), _day(call.param("INQR_END_DT"), today)
    fk = (
        f"{cano}^{prdt}^{start}^{end}^{call.param('SLL_BUY_DVSN_CD') or ' '}^"
        f"{call.param('INQR_DVSN') or '00'}^{call.param('CCLD_DVSN') or '00'}^"
    )
    error = ctx_error(call, fk)
    if error is not None:
        return wire.error_response(error, tr_id=call.tr_id)
    orders = state.store.orders(
        "cano=? AND prdt=? AND ord_dt BETWEEN ? AND ?", (cano, prdt, start, end)
    )
    side = {"01": "sell", "02": "buy"}.get(call.param("SLL_BUY_DVSN_CD"))
    pdno, odno, ccld = call.param("PDNO"), call.param("ODNO"), call.param("CCLD_DVSN")
    orders = [
        o
        for o in orders
        if (side is None or o.side == side)
        and (not pdno or o.pdno == pdno)
        and (not odno or o.odno == odno.zfill(10))
        and (ccld != "01" or o.filled_qty > 0)
        and (ccld != "02" or o.remaining > 0)
    ]
    shown = state.faults.visible([o.odno for o in orders], call.now)
    orders = [o for o in orders if o.odno in shown]
    if call.param("INQR_DVSN", "00") != "01":
        orders.reverse()
    fees = {
        o.odno: sum(
            e.commission + e.tax for e in state.store.executions(cano, prdt, "odno=?", (o.odno,))
        )
        for o in orders
    }
    size = state.cfg.page_size or (15 if state.cfg.is_virtual else 100)
    chunk, nk, cont = page(call, orders, size, lambda o: o.odno)
    rows = [
        {
            "ord_dt": o.ord_dt,
            "ord_gno_brno": state.desk.orgno,
            "odno": o.odno,
            "orgn_odno": o.orgn_odno,
            "ord_dvsn_name": ORD_DVSN_NAMES.get(o.ord_dvsn, o.ord_dvsn),
            "sll_buy_dvsn_cd": "02" if o.side == "buy" else "01",
            "sll_buy_dvsn_cd_name": _side_name(o),
            "pdno": o.pdno,
            "prdt_name": state.market.instruments[o.pdno].name,
            "ord_qty": str(o.qty),
            "ord_unpr": str(o.price),
            "ord_tmd": o.ord_tmd,
            "tot_ccld_qty": str(o.filled_qty),
            "avg_prvs": str(o.filled_amt // o.filled_qty if o.filled_qty else 0),
            "cncl_yn": "Y" if o.kind == "cancel" else "",
            "tot_ccld_amt": str(o.filled_amt),
            "loan_dt": "",
            "ordr_empno": "OpnAPI",
            "ord_dvsn_cd": o.ord_dvsn,
            "cnc_cfrm_qty": str(o.cancelled_qty if o.kind == "cancel" else 0),
            "rmn_qty": str(o.remaining),
            "rjct_qty": "0",
            "ccld_cndt_name": "없음",
            "inqr_ip_addr": "",
            "cpbc_ordp_ord_rcit_dvsn_cd": "",
            "cpbc_ordp_infm_mthd_dvsn_cd": "",
            "infm_tmd": "",
            "ctac_tlno": "",
            "prdt_type_cd": "300",
            "excg_dvsn_cd": "02",
            "cpbc_ordp_mtrl_dvsn_cd": "",
            "ord_orgno": state.desk.orgno,
            "rsvn_ord_end_dt": "",
            "excg_id_dvsn_cd": "KRX",
        }
        for o in chunk
    ]
    filled = [o for o in orders if o.kind != "cancel"]
    tot_qty = sum(o.filled_qty for o in filled)
    tot_amt = sum(o.filled_amt for o in filled)
    summary = {
        "tot_ord_qty": str(sum(o.qty for o in filled)),
        "tot_ccld_qty": str(tot_qty),
        "tot_ccld_amt": str(tot_amt),
        "prsm_tlex_smtl": str(sum(fees.values())),
        "pchs_avg_pric": ratio(tot_amt, tot_qty, 4),
    }
    body = wire.envelope(
        wire.inquiry_ok(state.cfg.mode),
        pad=True,
        ctx_area_fk100=wire.pad_ctx(fk),
        ctx_area_nk100=wire.pad_ctx(nk),
        output1=rows,
        output2=summary,
    )
    return wire.json_response(body, tr_id=call.tr_id, tr_cont=cont)
