"""The simulator is as strict as the real server where a client bug would otherwise pass.

Continuation keys must come back exactly as sent (padded to 100 characters), POST bodies carry
exactly the documented uppercase keys with untouched values, revise/cancel echo the branch
number, news titles and statements page with tr_cont, and the executions name the cancelled
quantity as the official field list does.
"""

from __future__ import annotations

from typing import Any

from tests.tools.kis.simulator.kis_wire import WireCaller

TICKERS = ("005930", "000660", "035720", "105560", "069500")


def _ok(response: Any) -> dict[str, Any]:
    body = response.json()
    assert body["rt_cd"] == "0", body
    return body


def _input_error(response: Any, field: str) -> None:
    body = response.json()
    assert response.status_code == 200
    assert (body["rt_cd"], body["msg_cd"]) == ("2", "OPSQ2001"), body
    assert field in body["msg1"], body


def _two_pages(caller: WireCaller, kind: str) -> tuple[dict[str, Any], str, str]:
    for ticker in TICKERS:
        _ok(caller.order("buy", ticker, 1, 0, "01"))
    first = caller.balance() if kind == "balance" else caller.daily_ccld("20260310")
    assert first.headers["tr_cont"] == "F"
    body = _ok(first)
    return body, body["ctx_area_fk100"], body["ctx_area_nk100"]


def test_continuation_keys_are_padded_and_must_come_back_unchanged(start_sim) -> None:
    _, caller = start_sim(page_size=2)
    body, fk, nk = _two_pages(caller, "balance")
    assert len(fk) == len(nk) == 100 and nk != nk.strip()
    _input_error(caller.balance(tr_cont="N", fk=fk, nk=nk.strip()), "CTX_AREA_NK100")
    _input_error(caller.balance(tr_cont="N", fk=fk.strip(), nk=nk), "CTX_AREA_FK100")
    page2 = caller.balance(tr_cont="N", fk=fk, nk=nk)
    assert page2.headers["tr_cont"] == "M"
    assert {r["pdno"] for r in _ok(page2)["output1"]}.isdisjoint(r["pdno"] for r in body["output1"])


def test_execution_keys_must_come_back_unchanged(start_sim) -> None:
    _, caller = start_sim(page_size=2)
    _, fk, nk = _two_pages(caller, "ccld")
    _input_error(caller.daily_ccld("20260310", tr_cont="N", fk=fk, nk=nk.rstrip()), "NK100")
    assert caller.daily_ccld("20260310", tr_cont="N", fk=fk, nk=nk).headers["tr_cont"] == "M"


def test_executions_name_the_cancelled_quantity_as_the_official_field_list(start_sim) -> None:
    _, caller = start_sim()
    _ok(caller.order("buy", "005930", 1, 0, "01"))
    row = _ok(caller.daily_ccld("20260310"))["output1"][0]
    assert "cnc_cfrm_qty" in row and "cncl_cfrm_qty" not in row


def _order_body(caller: WireCaller) -> dict[str, str]:
    return caller.account() | {
        "PDNO": "005930",
        "ORD_DVSN": "01",
        "ORD_QTY": "1",
        "ORD_UNPR": "0",
        "EXCG_ID_DVSN_CD": "KRX",
    }


def test_order_body_keys_must_be_the_documented_uppercase_ones(start_sim) -> None:
    sim, caller = start_sim()
    body = _order_body(caller)
    lower = {k.lower(): v for k, v in body.items()}
    _input_error(caller.post("/trading/order-cash", "TTTC0012U", lower), "CANO")
    missing = {k: v for k, v in body.items() if k != "ORD_QTY"}
    _input_error(caller.post("/trading/order-cash", "TTTC0012U", missing), "ORD_QTY")
    unknown = body | {"ORD_QTY_TYPO": "1"}
    _input_error(caller.post("/trading/order-cash", "TTTC0012U", unknown), "ORD_QTY_TYPO")
    padded = body | {"PDNO": " 005930"}
    assert caller.post("/trading/order-cash", "TTTC0012U", padded).json()["rt_cd"] != "0"
    assert sim.broker_orders() == []
    _ok(caller.post("/trading/order-cash", "TTTC0012U", body))


def test_revise_and_cancel_check_the_echoed_branch_number(start_sim) -> None:
    sim, caller = start_sim()
    bottom = int(_ok(caller.price("005930"))["output"]["stck_llam"])
    placed = _ok(caller.order("buy", "005930", 3, bottom))["output"]
    cancel = caller.account() | {
        "ORGN_ODNO": placed["ODNO"],
        "ORD_DVSN": "00",
        "RVSE_CNCL_DVSN_CD": "02",
        "ORD_QTY": "0",
        "ORD_UNPR": "0",
        "QTY_ALL_ORD_YN": "Y",
        "EXCG_ID_DVSN_CD": "KRX",
    }
    for wrong in ("06010", "", placed["KRX_FWDG_ORD_ORGNO"] + " "):
        response = caller.post(
            "/trading/order-rvsecncl", "TTTC0013U", cancel | {"KRX_FWDG_ORD_ORGNO": wrong}
        )
        _input_error(response, "KRX_FWDG_ORD_ORGNO")
    _input_error(caller.post("/trading/order-rvsecncl", "TTTC0013U", cancel), "KRX_FWDG_ORD_ORGNO")
    assert [o.remaining for o in sim.broker_orders()] == [3]
    right = cancel | {"KRX_FWDG_ORD_ORGNO": placed["KRX_FWDG_ORD_ORGNO"]}
    _ok(caller.post("/trading/order-rvsecncl", "TTTC0013U", right))


def _pages(caller: WireCaller, path: str, tr_id: str, params: dict[str, str]) -> list[Any]:
    rows: list[Any] = []
    conts: list[str] = []
    cont = ""
    for _ in range(50):
        response = caller.get(path, tr_id, params, cont)
        rows += _ok(response)["output"]
        conts.append(response.headers["tr_cont"])
        if response.headers["tr_cont"] not in ("F", "M"):
            return [rows, conts]
        cont = "N"
    raise AssertionError("never reached the last page")


NEWS = {
    "FID_NEWS_OFER_ENTP_CODE": "",
    "FID_COND_MRKT_CLS_CODE": "",
    "FID_INPUT_ISCD": "",
    "FID_TITL_CNTT": "",
    "FID_INPUT_DATE_1": "",
    "FID_INPUT_HOUR_1": "",
    "FID_RANK_SORT_CLS_CODE": "",
    "FID_INPUT_SRNO": "",
}


def test_news_titles_page_with_tr_cont(start_sim) -> None:
    _, caller = start_sim(page_size=4)
    rows, conts = _pages(caller, "/quotations/news-title", "FHKST01011800", NEWS)
    assert conts[0] == "F" and conts[-1] == "E" and len(conts) > 2
    keys = [r["cntt_usiq_srno"] for r in rows]
    assert len(keys) == len(set(keys)) > 4


def test_next_page_without_a_first_page_is_refused(start_sim) -> None:
    _, caller = start_sim(page_size=4)
    response = caller.get("/quotations/news-title", "FHKST01011800", NEWS, "N")
    assert response.json()["rt_cd"] != "0"


def test_statements_page_with_tr_cont(start_sim) -> None:
    _, caller = start_sim(page_size=2)
    params = {"FID_DIV_CLS_CODE": "1", "fid_cond_mrkt_div_code": "J", "fid_input_iscd": "005930"}
    rows, conts = _pages(caller, "/finance/income-statement", "FHKST66430200", params)
    assert conts[0] == "F" and len(conts) > 2
    periods = [r["stac_yymm"] for r in rows]
    assert periods == sorted(set(periods), reverse=True) and len(periods) == 8
