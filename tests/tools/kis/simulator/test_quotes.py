"""Quotation and information endpoints: shapes against the samples, limits, and movement in time."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from tests.tools.kis.simulator.kis_wire import sample
from tools.krx.rules import is_on_tick

# kis-api.md: the doc example omits three fields that the official field list has.
PRICE_EXTRA = {"new_hgpr_lwpr_cls_code", "apprch_rate", "mang_issu_cls_code"}


def test_inquire_price_shape_limits_and_case_insensitive_keys(start_sim, shared_dir: Path) -> None:
    _, caller = start_sim()
    expected = sample(shared_dir, "inquire-price.json")
    upper = caller.price("005930")
    lower = caller.get(
        "/quotations/inquire-price",
        "FHKST01010100",
        {"fid_cond_mrkt_div_code": "J", "fid_input_iscd": "005930"},
    )
    assert upper.status_code == lower.status_code == 200
    assert upper.json() == lower.json()
    body = upper.json()
    assert body.keys() == expected.keys()
    assert set(body["output"]) == set(expected["output"]) | PRICE_EXTRA
    assert all(isinstance(v, str) for v in body["output"].values())
    out = body["output"]
    base, top, bottom = int(out["stck_sdpr"]), int(out["stck_mxpr"]), int(out["stck_llam"])
    assert top - base == base - bottom == int(out["rstc_wdth_prc"])
    assert int(out["rstc_wdth_prc"]) <= base * 30 // 100
    assert bottom <= int(out["stck_prpr"]) <= top
    assert 50_000 < int(out["stck_prpr"]) < 100_000
    assert out["aspr_unit"] == "100" and body["msg_cd"] == "MCA00000"
    assert upper.headers["tr_id"] == "FHKST01010100"


def test_unknown_ticker_is_a_no_such_stock_answer(start_sim) -> None:
    _, caller = start_sim()
    response = caller.price("999999")
    assert response.status_code == 200
    assert (response.json()["rt_cd"], response.json()["msg_cd"]) == ("1", "APBK0656")


def test_daily_chart_100_rows_newest_first(start_sim, shared_dir: Path) -> None:
    _, caller = start_sim()
    expected = sample(shared_dir, "inquire-daily-itemchartprice.json")
    params = {
        "FID_COND_MRKT_DIV_CODE": "J",
        "FID_INPUT_ISCD": "000660",
        "FID_INPUT_DATE_1": "20150101",
        "FID_INPUT_DATE_2": "20260310",
        "FID_PERIOD_DIV_CODE": "D",
        "FID_ORG_ADJ_PRC": "0",
    }
    body = caller.get("/quotations/inquire-daily-itemchartprice", "FHKST03010100", params).json()
    assert set(body) == set(expected) | {"rt_cd", "msg1"}
    assert body["output1"].keys() == expected["output1"].keys()
    rows = body["output2"]
    assert len(rows) == 100
    assert all(r.keys() == expected["output2"][0].keys() for r in rows)
    dates = [r["stck_bsop_date"] for r in rows]
    assert dates == sorted(dates, reverse=True) and dates[0] == "20260310"
    older = caller.get(
        "/quotations/inquire-daily-itemchartprice",
        "FHKST03010100",
        params | {"FID_INPUT_DATE_2": str(int(dates[-1]) - 1)},
    ).json()["output2"]
    assert older[0]["stck_bsop_date"] < dates[-1]
    for row in rows:
        assert int(row["stck_lwpr"]) <= int(row["stck_clpr"]) <= int(row["stck_hgpr"])
    monthly = caller.get(
        "/quotations/inquire-daily-itemchartprice",
        "FHKST03010100",
        params | {"FID_INPUT_DATE_1": "20250101", "FID_PERIOD_DIV_CODE": "M"},
    ).json()["output2"]
    assert len(monthly) == 15


def test_minute_chart_30_rows_and_prices_move_with_the_clock(
    start_sim, clock, shared_dir: Path
) -> None:
    _, caller = start_sim()
    expected = sample(shared_dir, "inquire-time-itemchartprice.json")
    params = {
        "FID_COND_MRKT_DIV_CODE": "J",
        "FID_INPUT_ISCD": "000660",
        "FID_INPUT_HOUR_1": "150000",
        "FID_PW_DATA_INCU_YN": "Y",
        "FID_ETC_CLS_CODE": "",
    }
    body = caller.get("/quotations/inquire-time-itemchartprice", "FHKST03010200", params).json()
    assert body.keys() == expected.keys()
    assert body["output1"].keys() == expected["output1"].keys()
    rows = body["output2"]
    assert len(rows) == 30
    assert rows[0]["stck_cntg_hour"] == "103000" and rows[1]["stck_cntg_hour"] == "102900"
    assert all(r.keys() == expected["output2"][0].keys() for r in rows)
    seen = set()
    for _ in range(20):
        clock.advance(timedelta(minutes=7))
        price = int(caller.price("000660").json()["output"]["stck_prpr"])
        assert is_on_tick(price)
        seen.add(price)
    assert len(seen) > 3


def test_news_finance_info_and_holidays(start_sim, shared_dir: Path) -> None:
    _, caller = start_sim()
    news = caller.get(
        "/quotations/news-title",
        "FHKST01011800",
        {
            "FID_NEWS_OFER_ENTP_CODE": "",
            "FID_COND_MRKT_CLS_CODE": "",
            "FID_INPUT_ISCD": "005930",
            "FID_TITL_CNTT": "",
            "FID_INPUT_DATE_1": "",
            "FID_INPUT_HOUR_1": "",
            "FID_RANK_SORT_CLS_CODE": "",
            "FID_INPUT_SRNO": "",
        },
    ).json()
    rows = news["output"]
    assert rows and all(r["iscd1"] == "005930" for r in rows)
    assert {"hts_pbnt_titl_cntt", "data_dt", "data_tm"} <= rows[0].keys()
    stamps = [r["data_dt"] + r["data_tm"] for r in rows]
    assert stamps == sorted(stamps, reverse=True) and max(stamps) <= "20260310103000"

    fields = {
        "balance-sheet": {
            "cras",
            "fxas",
            "total_aset",
            "flow_lblt",
            "fix_lblt",
            "total_lblt",
            "cpfn",
            "cfp_surp",
            "prfi_surp",
            "total_cptl",
        },
        "income-statement": {
            "sale_account",
            "sale_cost",
            "sale_totl_prfi",
            "depr_cost",
            "sell_mang",
            "bsop_prti",
            "bsop_non_ernn",
            "bsop_non_expn",
            "op_prfi",
            "spec_prfi",
            "spec_loss",
            "thtr_ntin",
        },
        "financial-ratio": {
            "grs",
            "bsop_prfi_inrt",
            "ntin_inrt",
            "roe_val",
            "eps",
            "sps",
            "bps",
            "rsrv_rate",
            "lblt_rate",
        },
        "profit-ratio": {
            "cptl_ntin_rate",
            "self_cptl_ntin_inrt",
            "sale_ntin_rate",
            "sale_totl_rate",
        },
        "stability-ratio": {"lblt_rate", "bram_depn", "crnt_rate", "quck_rate"},
        "growth-ratio": {"grs", "bsop_prfi_inrt", "equt_inrt", "totl_aset_inrt"},
    }
    trs = {
        "balance-sheet": "FHKST66430100",
        "income-statement": "FHKST66430200",
        "financial-ratio": "FHKST66430300",
        "profit-ratio": "FHKST66430400",
        "stability-ratio": "FHKST66430600",
        "growth-ratio": "FHKST66430800",
    }
    for name, keys in fields.items():
        params = {
            "FID_DIV_CLS_CODE": "0",
            "fid_cond_mrkt_div_code": "J",
            "fid_input_iscd": "005930",
        }
        first = caller.get(f"/finance/{name}", trs[name], params).json()
        assert first["rt_cd"] == "0" and len(first["output"]) == 5
        assert all(set(r) == keys | {"stac_yymm"} for r in first["output"])
        assert first == caller.get(f"/finance/{name}", trs[name], params).json()
    income = caller.get(
        "/finance/income-statement",
        trs["income-statement"],
        {"FID_DIV_CLS_CODE": "0", "fid_input_iscd": "005930"},
    ).json()["output"]
    assert [r["stac_yymm"] for r in income] == ["202512", "202412", "202312", "202212", "202112"]

    info = caller.get(
        "/quotations/search-stock-info", "CTPF1002R", {"PRDT_TYPE_CD": "300", "PDNO": "005930"}
    ).json()["output"]
    assert info["prdt_abrv_name"] == "삼성전자" and info["lstg_stqt"].isdigit()

    days = caller.get(
        "/quotations/chk-holiday",
        "CTCA0903R",
        {"BASS_DT": "20260228", "CTX_AREA_FK": "", "CTX_AREA_NK": ""},
    ).json()["output"]
    flags = {d["bass_dt"]: d["opnd_yn"] for d in days}
    assert flags["20260228"] == "N" and flags["20260303"] == "Y"
    assert set(days[0]) == {
        "bass_dt",
        "wday_dvsn_cd",
        "bzdy_yn",
        "tr_day_yn",
        "opnd_yn",
        "sttl_day_yn",
    }


def test_real_only_trs_refused_on_virtual(start_sim) -> None:
    _, caller = start_sim(mode="virtual")
    news = caller.get("/quotations/news-title", "FHKST01011800", {"FID_INPUT_ISCD": ""})
    assert (news.status_code, news.json()["msg_cd"]) == (500, "EGW02006")
    real_tr = caller.get("/trading/inquire-balance", "TTTC8434R", caller.account())
    assert real_tr.json()["msg_cd"] == "EGW02006"
    assert caller.price("005930").status_code == 200
