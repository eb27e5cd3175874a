"""Real-server-only information TRs: news titles, stock info, market holidays.

The news titles are generated from the simulated prices (a pre-market headline and a closing
headline per ticker per day) and some carry HTML entities, as real titles do. They come
`NEWS_ROWS` a page, continued with request header ``tr_cont: N`` (`paging.CursorPages`).
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from typing import Any

from starlette.responses import Response

from core.clock import KST
from tools.kis.simulator import wire
from tools.kis.simulator.fields import rate
from tools.kis.simulator.gateway import Call
from tools.kis.simulator.market import previous_trading_day, session_point
from tools.kis.simulator.routes_quotes import ok
from tools.kis.simulator.state import SimulatorState
from tools.krx.calendar import is_trading_day

NEWS_ROWS = 40
NEWS_DAYS = 3
HOLIDAY_ROWS = 21
_MORNING = (
    "{name}, &quot;하반기 실적 개선 기대&quot; 증권가 목표가 상향",
    "[특징주] {name}, 외국인 순매수 지속",
    "{name}, 신규 설비 투자 계획 발표",
    "{name} 주가 향방은? 전문가 &lt;전망&gt; 엇갈려",
    "[공시] {name}, 자기주식 취득 결정",
)


def _news_rows(state: SimulatorState, now: datetime) -> list[dict[str, str]]:
    point = session_point(now, state.cfg.always_open)
    days = [point.day]
    while len(days) < NEWS_DAYS:
        days.append(previous_trading_day(days[-1]))
    today_kst = now.astimezone(KST)
    rows: list[dict[str, str]] = []
    for day in days:
        for inst in state.market.instruments.values():
            rng = random.Random(f"{state.cfg.seed}:news:{inst.ticker}:{day}")
            items = [
                (f"08{rng.randrange(0, 60):02d}00", rng.choice(_MORNING).format(name=inst.name))
            ]
            bar = state.market.bar_on(inst.ticker, day)
            past = state.market.history(inst.ticker, day, before=True)
            closed = (
                day < today_kst.date() or today_kst.hour * 60 + today_kst.minute >= 15 * 60 + 40
            )
            if bar is not None and past and closed:
                change = rate(bar.close - past[-1].close, past[-1].close)
                word = "상승" if bar.close >= past[-1].close else "하락"
                items.append(
                    (
                        f"154{rng.randrange(0, 10)}00",
                        f"[마감] {inst.name}, {change}% {word} 마감…{bar.close:,}원",
                    )
                )
            for tm, title in items:
                stamp = datetime.strptime(f"{day:%Y%m%d}{tm}", "%Y%m%d%H%M%S").replace(tzinfo=KST)
                if stamp > now:
                    continue
                rows.append(
                    {
                        "cntt_usiq_srno": f"{day:%Y%m%d}{tm}{inst.ticker}",
                        "news_ofer_entp_code": "2",
                        "data_dt": f"{day:%Y%m%d}",
                        "data_tm": tm,
                        "hts_pbnt_titl_cntt": title,
                        "news_lrdv_code": "01",
                        "dorg": "연합뉴스",
                        "iscd1": inst.ticker,
                        "iscd2": "",
                        "iscd3": "",
                        "iscd4": "",
                        "iscd5": "",
                        "kor_isnm1": inst.name,
                        "kor_isnm2": "",
                        "kor_isnm3": "",
                        "kor_isnm4": "",
                        "kor_isnm5": "",
                    }
                )
    rows.sort(key=lambda r: (r["data_dt"], r["data_tm"], r["iscd1"]), reverse=True)
    return rows


def news_title(state: SimulatorState, call: Call) -> Response:
    """FHKST01011800: latest news titles, optionally for one ticker, title text or date."""
    ticker = call.param("FID_INPUT_ISCD")
    if ticker and state.market.instrument(ticker) is None:
        return wire.error_response(wire.NO_SUCH_STOCK, tr_id=call.tr_id)
    rows = _news_rows(state, call.now)
    if ticker:
        rows = [r for r in rows if r["iscd1"] == ticker]
    text = call.param("FID_TITL_CNTT")
    if text:
        rows = [r for r in rows if text in r["hts_pbnt_titl_cntt"]]
    day = call.param("FID_INPUT_DATE_1")
    day = day[2:] if len(day) == 10 and day.startswith("00") else day
    if len(day) == 8 and day.isdigit():
        rows = [r for r in rows if r["data_dt"] <= day]
    paged = state.cursors.page(call, rows, state.cfg.page_size or NEWS_ROWS)
    if isinstance(paged, wire.Msg):
        return wire.error_response(paged, tr_id=call.tr_id)
    chunk, cont = paged
    return ok(call, output=chunk, tr_cont=cont)


def search_stock_info(state: SimulatorState, call: Call) -> Response:
    """CTPF1002R: the stock's listing facts."""
    inst = state.market.instrument(call.param("PDNO"))
    if inst is None:
        return wire.error_response(wire.NO_SUCH_STOCK, tr_id=call.tr_id)
    q = state.market.quote(inst.ticker, call.now)
    output: dict[str, Any] = {
        "pdno": f"00000A{inst.ticker}",
        "prdt_type_cd": call.param("PRDT_TYPE_CD") or "300",
        "prdt_name": inst.name,
        "prdt_name120": inst.name,
        "prdt_abrv_name": inst.name,
        "prdt_eng_name": inst.name_en,
        "prdt_eng_name120": inst.name_en,
        "prdt_eng_abrv_name": inst.name_en,
        "std_pdno": f"KR7{inst.ticker}003",
        "shtn_pdno": inst.ticker,
        "prdt_sale_stat_cd": "",
        "prdt_risk_grad_cd": "",
        "prdt_clsf_cd": "101210" if not inst.is_etf else "101510",
        "prdt_clsf_name": "ETF" if inst.is_etf else "주권",
        "sale_strt_dt": "",
        "sale_end_dt": "",
        "wrap_asst_type_cd": "",
        "ivst_prdt_type_cd": "",
        "ivst_prdt_type_cd_name": "",
        "frst_erlm_dt": "19750611",
        "mket_id_cd": "STK",
        "scty_grp_id_cd": "EF" if inst.is_etf else "ST",
        "excg_dvsn_cd": "02",
        "setl_mmdd": "1231",
        "lstg_stqt": str(inst.listed_shares),
        "lstg_cptl_amt": "0",
        "cpta": str(inst.listed_shares * inst.par_value),
        "papr": str(inst.par_value),
        "issu_pric": str(inst.par_value),
        "kospi200_item_yn": "N" if inst.is_etf else "Y",
        "scts_mket_lstg_dt": "19750611",
        "scts_mket_lstg_abol_dt": "",
        "kosdaq_mket_lstg_dt": "",
        "kosdaq_mket_lstg_abol_dt": "",
        "frbd_mket_lstg_dt": "",
        "frbd_mket_lstg_abol_dt": "",
        "reits_kind_cd": "",
        "etf_dvsn_cd": "1" if inst.is_etf else "",
        "oilf_fund_yn": "N",
        "idx_bztp_lcls_cd": "",
        "idx_bztp_mcls_cd": "",
        "idx_bztp_scls_cd": "",
        "idx_bztp_lcls_cd_name": inst.sector,
        "idx_bztp_mcls_cd_name": inst.sector,
        "idx_bztp_scls_cd_name": inst.sector,
        "stck_kind_cd": "101",
        "mfnd_opng_dt": "",
        "mfnd_end_dt": "",
        "dpsi_erlm_cncl_dt": "",
        "etf_cu_qty": "50000" if inst.is_etf else "0",
        "std_idst_clsf_cd": "",
        "std_idst_clsf_cd_name": inst.sector,
        "lstg_abol_dt": "",
        "tr_stop_yn": "N",
        "admn_item_yn": "N",
        "thdt_clpr": str(q.price),
        "bfdy_clpr": str(q.prev_close),
        "clpr_chng_dt": q.day.strftime("%Y%m%d"),
        "nxt_tr_stop_yn": "N",
        "cptt_trad_tr_psbl_yn": "Y",
    }
    return ok(call, output=output)


def _open_flag(day: date) -> str:
    try:
        return "Y" if is_trading_day(day) else "N"
    except Exception:  # beyond the calendar's range
        return "N"


def chk_holiday(state: SimulatorState, call: Call) -> Response:
    """CTCA0903R: business/trading/open/settlement flags for the days from BASS_DT."""
    try:
        start = datetime.strptime(call.param("BASS_DT"), "%Y%m%d").date()
    except ValueError:
        return wire.error_response(wire.BAD_INPUT, tr_id=call.tr_id)
    rows = []
    for offset in range(HOLIDAY_ROWS):
        day = start + timedelta(days=offset)
        flag = _open_flag(day)
        rows.append(
            {
                "bass_dt": day.strftime("%Y%m%d"),
                "wday_dvsn_cd": f"{(day.isoweekday() % 7) + 1:02d}",
                "bzdy_yn": flag,
                "tr_day_yn": flag,
                "opnd_yn": flag,
                "sttl_day_yn": flag,
            }
        )
    body = wire.envelope(wire.QUOTE_OK, ctx_area_nk="", ctx_area_fk="", output=rows)
    return wire.json_response(body, tr_id=call.tr_id, tr_cont="D")
