"""Quotations: current price, daily/weekly/monthly/yearly chart and today's minute bars."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from starlette.responses import Response

from tools.kis.simulator import wire
from tools.kis.simulator.fields import dec, rate, ratio, sign
from tools.kis.simulator.gateway import Call
from tools.kis.simulator.market import Quote, session_point
from tools.kis.simulator.replay import DailyBar
from tools.kis.simulator.state import SimulatorState

DAILY_ROWS = 100
MINUTE_ROWS = 30


def ok(call: Call, *, tr_cont: str = "", **payload: Any) -> Response:
    """Answer a quotation with MCA00000 (and the response tr_cont of a paged one)."""
    body = wire.envelope(wire.QUOTE_OK, **payload)
    return wire.json_response(body, tr_id=call.tr_id, tr_cont=tr_cont)


def quote_or_error(state: SimulatorState, call: Call) -> Quote | Response:
    """Return the quote of FID_INPUT_ISCD, or the 'no such stock' answer."""
    ticker = call.param("FID_INPUT_ISCD")
    if state.market.instrument(ticker) is None:
        return wire.error_response(wire.NO_SUCH_STOCK, tr_id=call.tr_id)
    return state.market.quote(ticker, call.now)


def bars_so_far(state: SimulatorState, q: Quote) -> list[DailyBar]:
    """Return the daily bars known at the quote's instant, today's partial bar included."""
    bars = list(state.market.history(q.instrument.ticker, q.day, before=True))
    if q.phase != "pre" and q.volume > 0:
        bars.append(DailyBar(q.day, q.open, q.high, q.low, q.price, q.volume))
    return bars


def _amount(bar: DailyBar) -> int:
    return bar.volume * (bar.open + bar.high + bar.low + bar.close) // 4


def inquire_price(state: SimulatorState, call: Call) -> Response:
    """FHKST01010100: the current price and the stock's facts."""
    q = quote_or_error(state, call)
    if isinstance(q, Response):
        return q
    inst = q.instrument
    bars = bars_so_far(state, q)
    year = [b for b in bars if b.day.year == q.day.year] or bars[-1:]
    d250 = bars[-250:]
    hi = max(d250, key=lambda b: b.high)
    lo = min(d250, key=lambda b: b.low)
    yhi = max(year, key=lambda b: b.high)
    ylo = min(year, key=lambda b: b.low)
    prev_volume = bars[-2].volume if len(bars) > 1 else 0
    cap_100m = q.price * inst.listed_shares // 100_000_000
    pivot = (q.high + q.low + q.price) // 3
    output = {
        "iscd_stat_cls_code": "55",
        "marg_rate": "20.00",
        "rprs_mrkt_kor_name": "KOSPI200" if not inst.is_etf else "",
        "bstp_kor_isnm": inst.sector,
        "temp_stop_yn": "Y" if q.halted else "N",
        "oprc_rang_cont_yn": "N",
        "clpr_rang_cont_yn": "N",
        "crdt_able_yn": "Y",
        "grmn_rate_cls_code": "40",
        "elw_pblc_yn": "Y",
        "stck_prpr": str(q.price),
        "prdy_vrss": str(q.price - q.prev_close),
        "prdy_vrss_sign": sign(q.price, q.prev_close, q.upper, q.lower),
        "prdy_ctrt": rate(q.price - q.prev_close, q.prev_close),
        "acml_tr_pbmn": str(q.amount),
        "acml_vol": str(q.volume),
        "prdy_vrss_vol_rate": rate(q.volume, prev_volume),
        "stck_oprc": str(q.open),
        "stck_hgpr": str(q.high),
        "stck_lwpr": str(q.low),
        "stck_mxpr": str(q.upper),
        "stck_llam": str(q.lower),
        "stck_sdpr": str(q.prev_close),
        "wghn_avrg_stck_prc": ratio(q.amount, q.volume) if q.volume else dec(q.price),
        "hts_frgn_ehrt": "49.48",
        "frgn_ntby_qty": "0",
        "pgtr_ntby_qty": "0",
        "pvt_scnd_dmrs_prc": str(pivot + (q.high - q.low)),
        "pvt_frst_dmrs_prc": str(2 * pivot - q.low),
        "pvt_pont_val": str(pivot),
        "pvt_frst_dmsp_prc": str(2 * pivot - q.high),
        "pvt_scnd_dmsp_prc": str(pivot - (q.high - q.low)),
        "dmrs_val": str((q.high + q.price) // 2),
        "dmsp_val": str((q.low + q.price) // 2),
        "cpfn": str(inst.listed_shares * inst.par_value // 100_000_000),
        "rstc_wdth_prc": str(q.upper - q.prev_close),
        "stck_fcam": str(inst.par_value),
        "stck_sspr": str(q.prev_close * 76 // 100),
        "aspr_unit": str(q.tick),
        "hts_deal_qty_unit_val": "1",
        "lstn_stcn": str(inst.listed_shares),
        "hts_avls": str(cap_100m),
        "per": ratio(q.price, inst.eps),
        "pbr": ratio(q.price, inst.bps),
        "stac_month": "12",
        "vol_tnrt": rate(q.volume, inst.listed_shares),
        "eps": dec(inst.eps),
        "bps": dec(inst.bps),
        "d250_hgpr": str(hi.high),
        "d250_hgpr_date": hi.day.strftime("%Y%m%d"),
        "d250_hgpr_vrss_prpr_rate": rate(q.price - hi.high, hi.high),
        "d250_lwpr": str(lo.low),
        "d250_lwpr_date": lo.day.strftime("%Y%m%d"),
        "d250_lwpr_vrss_prpr_rate": rate(q.price - lo.low, lo.low),
        "stck_dryy_hgpr": str(yhi.high),
        "dryy_hgpr_vrss_prpr_rate": rate(q.price - yhi.high, yhi.high),
        "dryy_hgpr_date": yhi.day.strftime("%Y%m%d"),
        "stck_dryy_lwpr": str(ylo.low),
        "dryy_lwpr_vrss_prpr_rate": rate(q.price - ylo.low, ylo.low),
        "dryy_lwpr_date": ylo.day.strftime("%Y%m%d"),
        "w52_hgpr": str(hi.high),
        "w52_hgpr_vrss_prpr_ctrt": rate(q.price - hi.high, hi.high),
        "w52_hgpr_date": hi.day.strftime("%Y%m%d"),
        "w52_lwpr": str(lo.low),
        "w52_lwpr_vrss_prpr_ctrt": rate(q.price - lo.low, lo.low),
        "w52_lwpr_date": lo.day.strftime("%Y%m%d"),
        "whol_loan_rmnd_rate": "0.22",
        "ssts_yn": "Y",
        "stck_shrn_iscd": inst.ticker,
        "fcam_cnnm": f"{inst.par_value:,}",
        "cpfn_cnnm": f"{inst.listed_shares * inst.par_value // 100_000_000:,} 억",
        "frgn_hldn_qty": str(inst.listed_shares // 2),
        "vi_cls_code": "N",
        "ovtm_vi_cls_code": "N",
        "last_ssts_cntg_qty": "0",
        "invt_caful_yn": "N",
        "mrkt_warn_cls_code": "00",
        "short_over_yn": "N",
        "sltr_yn": "N",
        "new_hgpr_lwpr_cls_code": "",
        "apprch_rate": "0.00",
        "mang_issu_cls_code": "N",
    }
    return ok(call, output=output)


def _period_key(day: date, period: str) -> tuple[int, ...]:
    if period == "W":
        iso = day.isocalendar()
        return (iso.year, iso.week)
    if period == "M":
        return (day.year, day.month)
    if period == "Y":
        return (day.year,)
    return (day.toordinal(),)


def _aggregate(bars: list[DailyBar], period: str) -> list[DailyBar]:
    groups: dict[tuple[int, ...], list[DailyBar]] = {}
    for bar in bars:
        groups.setdefault(_period_key(bar.day, period), []).append(bar)
    return [
        DailyBar(
            g[-1].day,
            g[0].open,
            max(b.high for b in g),
            min(b.low for b in g),
            g[-1].close,
            sum(b.volume for b in g),
        )
        for g in groups.values()
    ]


def _date_param(call: Call, key: str, default: date) -> date:
    text = call.param(key)
    try:
        return datetime.strptime(text, "%Y%m%d").date()
    except ValueError:
        return default


def _chart_summary(q: Quote) -> dict[str, str]:
    """The `output1` fields the daily and the minute chart share: today's price and move."""
    return {
        "prdy_vrss": str(q.price - q.prev_close),
        "prdy_vrss_sign": sign(q.price, q.prev_close, q.upper, q.lower),
        "prdy_ctrt": rate(q.price - q.prev_close, q.prev_close),
        "stck_prdy_clpr": str(q.prev_close),
        "acml_vol": str(q.volume),
        "acml_tr_pbmn": str(q.amount),
        "hts_kor_isnm": q.instrument.name,
        "stck_prpr": str(q.price),
    }


def daily_chart(state: SimulatorState, call: Call) -> Response:
    """FHKST03010100: period bars, newest first, at most 100 rows per call."""
    q = quote_or_error(state, call)
    if isinstance(q, Response):
        return q
    inst = q.instrument
    all_bars = bars_so_far(state, q)
    if call.param("FID_ORG_ADJ_PRC") == "1":  # 원주가: as traded, before any adjustment
        all_bars = list(state.market.as_traded(inst.ticker, tuple(all_bars), q.day))
    start = _date_param(call, "FID_INPUT_DATE_1", date(1900, 1, 1))
    end = _date_param(call, "FID_INPUT_DATE_2", q.day)
    period = call.param("FID_PERIOD_DIV_CODE", "D").upper() or "D"
    chosen = _aggregate([b for b in all_bars if start <= b.day <= end], period)
    before = [b for b in all_bars if b.day < start]
    rows = []
    for i in range(len(chosen) - 1, max(-1, len(chosen) - 1 - DAILY_ROWS), -1):
        bar = chosen[i]
        prev = chosen[i - 1].close if i > 0 else (before[-1].close if before else bar.open)
        rows.append(
            {
                "stck_bsop_date": bar.day.strftime("%Y%m%d"),
                "stck_clpr": str(bar.close),
                "stck_oprc": str(bar.open),
                "stck_hgpr": str(bar.high),
                "stck_lwpr": str(bar.low),
                "acml_vol": str(bar.volume),
                "acml_tr_pbmn": str(_amount(bar)),
                "flng_cls_code": "00",
                "prtt_rate": "0.00",
                "mod_yn": "N",
                "prdy_vrss_sign": sign(bar.close, prev),
                "prdy_vrss": str(bar.close - prev),
                "revl_issu_reas": "",
            }
        )
    prev_bar = all_bars[-2] if q.phase != "pre" and len(all_bars) > 1 else all_bars[-1]
    output1 = {
        **_chart_summary(q),
        "stck_shrn_iscd": inst.ticker,
        "prdy_vol": str(prev_bar.volume),
        "stck_mxpr": str(q.upper),
        "stck_llam": str(q.lower),
        "stck_oprc": str(q.open),
        "stck_hgpr": str(q.high),
        "stck_lwpr": str(q.low),
        "stck_prdy_oprc": str(prev_bar.open),
        "stck_prdy_hgpr": str(prev_bar.high),
        "stck_prdy_lwpr": str(prev_bar.low),
        "askp": str(q.price + q.tick),
        "bidp": str(q.price),
        "prdy_vrss_vol": str(q.volume - prev_bar.volume),
        "vol_tnrt": rate(q.volume, inst.listed_shares),
        "stck_fcam": str(inst.par_value),
        "lstn_stcn": str(inst.listed_shares),
        "cpfn": str(inst.listed_shares * inst.par_value // 100_000_000),
        "hts_avls": str(q.price * inst.listed_shares // 100_000_000),
        "per": ratio(q.price, inst.eps),
        "eps": dec(inst.eps),
        "pbr": ratio(q.price, inst.bps),
        "itewhol_loan_rmnd_ratem": "0.32",
    }
    return ok(call, output1=output1, output2=rows)


def time_chart(state: SimulatorState, call: Call) -> Response:
    """FHKST03010200: today's one-minute bars at or before FID_INPUT_HOUR_1, newest first."""
    q = quote_or_error(state, call)
    if isinstance(q, Response):
        return q
    inst = q.instrument
    minutes = state.market.minute_bars(inst.ticker, q.day)
    point = session_point(call.now, state.cfg.always_open)
    last = (
        -1
        if q.phase == "pre" or not minutes
        else (len(minutes) - 1 if point.index is None else point.index)
    )
    hour = call.param("FID_INPUT_HOUR_1")
    if len(hour) >= 4 and hour[:4].isdigit():
        asked = int(hour[:2]) * 60 + int(hour[2:4]) - 9 * 60
        last = min(last, asked)
    rows = []
    amount = sum(b.volume * b.close for b in minutes[: last + 1])
    for idx in range(last, max(-1, last - MINUTE_ROWS), -1):
        bar = minutes[idx]
        hhmm = 9 * 60 + idx
        rows.append(
            {
                "stck_bsop_date": q.day.strftime("%Y%m%d"),
                "stck_cntg_hour": f"{hhmm // 60:02d}{hhmm % 60:02d}00",
                "stck_prpr": str(bar.close),
                "stck_oprc": str(bar.open),
                "stck_hgpr": str(bar.high),
                "stck_lwpr": str(bar.low),
                "cntg_vol": str(bar.volume),
                "acml_tr_pbmn": str(amount),
            }
        )
        amount -= bar.volume * bar.close
    output1 = {
        **_chart_summary(q),
    }
    return ok(call, output1=output1, output2=rows)
