"""Orders as KRX and KIS apply them: rules, fills, costs, balance and executions."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

from core.clock import KST
from tests.tools.kis.simulator.kis_wire import sample
from tools.krx.calendar import settlement_date
from tools.krx.costs import CostModel

START = 100_000_000
COSTS = CostModel()


def _out(response) -> dict:
    body = response.json()
    assert body["rt_cd"] == "0", body
    return body


def test_market_buy_fills_and_balance_matches_sample(start_sim, shared_dir: Path) -> None:
    _, caller = start_sim()
    price = int(caller.price("005930").json()["output"]["stck_prpr"])
    order = _out(caller.order("buy", "005930", 10, 0, "01"))
    assert order.keys() == sample(shared_dir, "order-cash.json").keys()
    assert order["output"].keys() == sample(shared_dir, "order-cash.json")["output"].keys()
    assert order["msg_cd"] == "APBK0013" and len(order["output"]["ODNO"]) == 10

    balance = caller.balance()
    expected = sample(shared_dir, "inquire-balance.json")
    body = _out(balance)
    assert body.keys() == expected.keys() and balance.headers["tr_cont"] == "D"
    assert body["output1"][0].keys() == expected["output1"][0].keys()
    assert body["output2"][0].keys() == expected["output2"][0].keys()
    assert len(body["ctx_area_fk100"]) == 100 and body["ctx_area_fk100"].startswith("12345678^01^")
    assert len(body["msg1"].encode("euc-kr")) == 80
    row, summary = body["output1"][0], body["output2"][0]
    commission = COSTS.commission(10 * price)
    assert (row["hldg_qty"], row["pchs_amt"], row["thdt_buyqty"]) == ("10", str(10 * price), "10")
    assert int(summary["prvs_rcdl_excc_amt"]) == START - 10 * price - commission
    assert int(summary["dnca_tot_amt"]) == START  # the buy settles T+2
    assert int(summary["tot_evlu_amt"]) == int(summary["prvs_rcdl_excc_amt"]) + int(
        summary["scts_evlu_amt"]
    )
    assert int(summary["evlu_pfls_smtl_amt"]) == int(summary["evlu_amt_smtl_amt"]) - int(
        summary["pchs_amt_smtl_amt"]
    )
    assert int(summary["asst_icdc_amt"]) == int(summary["tot_evlu_amt"]) - int(
        summary["bfdy_tot_asst_evlu_amt"]
    )
    assert summary["thdt_tlex_amt"] == str(commission)

    ccld = _out(caller.daily_ccld("20260310"))
    sample_ccld = sample(shared_dir, "inquire-daily-ccld.json")
    assert ccld.keys() == sample_ccld.keys()
    # The sample (a doc transcription) spells the cancelled quantity cncl_cfrm_qty; the official
    # field list (OTA chk_inquire_daily_ccld.py) says cnc_cfrm_qty, which the simulator sends.
    sample_keys = set(sample_ccld["output1"][0]) - {"cncl_cfrm_qty"} | {"cnc_cfrm_qty"}
    assert set(ccld["output1"][0]) == sample_keys | {"excg_id_dvsn_cd"}
    assert ccld["output2"].keys() == sample_ccld["output2"].keys()
    first = ccld["output1"][0]
    assert (first["tot_ccld_qty"], first["avg_prvs"], first["rmn_qty"]) == ("10", str(price), "0")


def test_sell_pays_commission_and_tax(start_sim) -> None:
    _, caller = start_sim()
    _out(caller.order("buy", "005930", 20, 0, "01"))
    _out(caller.order("sell", "005930", 5, 0, "01"))
    rows = _out(caller.daily_ccld("20260310", INQR_DVSN="01"))["output1"]
    buy_price, sell_price = int(rows[0]["avg_prvs"]), int(rows[1]["avg_prvs"])
    sold = 5 * sell_price
    tax = COSTS.tax(sold, settlement_date(datetime(2026, 3, 10).date()))
    assert tax == sold * Decimal("0.0020") // 1
    cash = START - 20 * buy_price - COSTS.commission(20 * buy_price)
    cash += sold - COSTS.commission(sold) - tax
    balance = _out(caller.balance())
    assert balance["output2"][0]["prvs_rcdl_excc_amt"] == str(cash)
    assert balance["output1"][0]["hldg_qty"] == "15"
    assert balance["output1"][0]["thdt_sll_qty"] == "5"
    too_many = caller.order("sell", "005930", 16, 0, "01").json()
    assert (too_many["rt_cd"], too_many["msg_cd"]) == ("1", "APBK0400")


def test_tick_limits_and_whole_shares(start_sim) -> None:
    _, caller = start_sim()
    out = caller.price("005930").json()["output"]
    top, bottom = int(out["stck_mxpr"]), int(out["stck_llam"])
    assert caller.order("buy", "005930", 1, 73450).json()["msg_cd"] == "APBK0506"
    assert caller.order("buy", "005930", 1, top + 100).json()["msg_cd"] == "APBK0553"
    assert caller.order("buy", "005930", 1, bottom - 100).json()["msg_cd"] == "APBK0553"
    assert caller.order("buy", "005930", "1.5", 73400).json()["msg_cd"] == "APBK0560"
    assert caller.order("buy", "005930", 0, 73400).json()["msg_cd"] == "APBK0560"
    assert caller.order("buy", "005930", 1, 73400, "01").json()["msg_cd"] == "APBK0561"
    assert caller.order("buy", "999999", 1, 1000).json()["msg_cd"] == "APBK0656"
    assert caller.order("buy", "005930", 1, top).json()["rt_cd"] == "0"
    assert caller.order("buy", "069500", 1, 34403).json()["msg_cd"] == "APBK0506"


def test_hours_real_and_virtual(start_sim, clock, shared_dir: Path) -> None:
    _, real = start_sim()
    clock.set(datetime(2026, 3, 10, 8, 0, tzinfo=KST))
    assert real.order("buy", "005930", 1, 0, "01").json() == sample(
        shared_dir, "error-real-market-closed.json"
    )
    _, virtual = start_sim(mode="virtual")
    assert virtual.order("buy", "005930", 1, 0, "01").json() == sample(
        shared_dir, "error-virtual-before-open.json"
    )
    clock.set(datetime(2026, 3, 10, 15, 30, tzinfo=KST))
    closed = virtual.order("buy", "005930", 1, 0, "01")
    assert closed.status_code == 200
    assert closed.json() == sample(shared_dir, "error-virtual-market-closed.json")
    clock.set(datetime(2026, 3, 14, 11, 0, tzinfo=KST))  # a Saturday
    assert virtual.issue_token().status_code == 200
    assert virtual.order("buy", "005930", 1, 0, "01").json()["msg_cd"] == "40580000"
    clock.set(datetime(2026, 3, 10, 15, 29, tzinfo=KST))
    accepted = virtual.order("buy", "005930", 1, 0, "01").json()
    assert (accepted["msg_cd"], accepted["output"]["KRX_FWDG_ORD_ORGNO"]) == ("40600000", "00950")


def test_always_open_takes_orders_at_any_hour(start_sim, clock) -> None:
    clock.set(datetime(2026, 3, 14, 22, 0, tzinfo=KST))
    _, caller = start_sim(always_open=True)
    assert caller.order("buy", "005930", 1, 0, "01").json()["rt_cd"] == "0"
    first = caller.price("005930").json()["output"]["stck_prpr"]
    prices = {first}
    for _ in range(10):
        clock.advance(timedelta(minutes=13))
        prices.add(caller.price("005930").json()["output"]["stck_prpr"])
    assert len(prices) > 2
    assert _out(caller.balance())["output1"][0]["hldg_qty"] == "1"


def test_cash_checks_and_market_buy_at_upper_limit(start_sim, shared_dir: Path) -> None:
    _, caller = start_sim(starting_cash_krw=1_000_000)
    out = caller.price("005930").json()["output"]
    price, top = int(out["stck_prpr"]), int(out["stck_mxpr"])
    assert 12 * price < 1_000_000 < 12 * top
    assert caller.order("buy", "005930", 12, 0, "01").json() == sample(
        shared_dir, "error-real-insufficient-cash.json"
    )
    psbl = _out(
        caller.get(
            "/trading/inquire-psbl-order",
            "TTTC8908R",
            caller.account()
            | {
                "PDNO": "005930",
                "ORD_UNPR": "",
                "ORD_DVSN": "01",
                "CMA_EVLU_AMT_ICLD_YN": "N",
                "OVRS_ICLD_YN": "N",
            },
        )
    )
    assert psbl["output"].keys() == sample(shared_dir, "inquire-psbl-order.json")["output"].keys()
    assert psbl["output"]["psbl_qty_calc_unpr"] == str(top)
    assert int(psbl["output"]["max_buy_qty"]) == 10
    assert caller.order("buy", "005930", 12, price).json()["rt_cd"] == "0"

    _, virtual = start_sim(mode="virtual", starting_cash_krw=1_000_000)
    refused = virtual.order("buy", "005930", 12, 0, "01").json()
    assert (refused["rt_cd"], refused["msg_cd"]) == ("1", "40910000")


def test_resting_limit_order_fills_when_crossed(start_sim, clock) -> None:
    sim, caller = start_sim()
    minutes = sim.state.market.minute_bars("000660", datetime(2026, 3, 10).date())
    later_low = min(b.low for b in minutes[91:])  # after 10:30
    now_price = int(caller.price("000660").json()["output"]["stck_prpr"])
    assert later_low < now_price
    odno = _out(caller.order("buy", "000660", 3, later_low))["output"]["ODNO"]
    assert caller.daily_ccld("20260310").json()["output1"][0]["rmn_qty"] == "3"
    clock.set(datetime(2026, 3, 10, 15, 35, tzinfo=KST))
    row = _out(caller.daily_ccld("20260310"))["output1"][0]
    assert (row["odno"], row["tot_ccld_qty"], row["rmn_qty"]) == (odno, "3", "0")
    assert int(row["avg_prvs"]) <= later_low
    assert [o.status for o in sim.broker_orders()] == ["done"]


def test_large_orders_fill_in_parts(start_sim, clock) -> None:
    sim, caller = start_sim(liquidity_fraction=Decimal("0.00001"))
    _out(caller.order("buy", "005930", 400, 0, "01"))
    first = int(_out(caller.daily_ccld("20260310"))["output1"][0]["tot_ccld_qty"])
    assert 0 < first < 400
    clock.advance(timedelta(minutes=5))
    row = _out(caller.daily_ccld("20260310"))["output1"][0]
    assert first < int(row["tot_ccld_qty"]) < 400
    assert int(row["rmn_qty"]) == 400 - int(row["tot_ccld_qty"])
    assert _out(caller.balance())["output1"][0]["hldg_qty"] == row["tot_ccld_qty"]
    clock.set(datetime(2026, 3, 11, 9, 5, tzinfo=KST))
    assert caller.issue_token().status_code == 200
    row = _out(caller.daily_ccld("20260310"))["output1"][0]
    assert sim.broker_orders()[0].status == "expired" and row["rmn_qty"] == "0"
    assert 290 <= int(row["tot_ccld_qty"]) < 400  # about one share a minute until 15:29


def test_revise_and_cancel_unfilled_quantity(start_sim, shared_dir: Path) -> None:
    sim, caller = start_sim()
    bottom = int(caller.price("005930").json()["output"]["stck_llam"])
    odno = _out(caller.order("buy", "005930", 10, bottom))["output"]["ODNO"]
    params = caller.account() | {"PDNO": "005930", "ORD_UNPR": str(bottom), "ORD_DVSN": "00"}
    psbl = _out(caller.get("/trading/inquire-psbl-order", "TTTC8908R", params))
    before = int(psbl["output"]["ord_psbl_cash"])
    assert before == START - 10 * bottom - COSTS.commission(10 * bottom)
    base = caller.account() | {
        "KRX_FWDG_ORD_ORGNO": "91252",
        "ORGN_ODNO": odno,
        "EXCG_ID_DVSN_CD": "KRX",
        "CNDT_PRIC": "",
    }
    revised = _out(
        caller.post(
            "/trading/order-rvsecncl",
            "TTTC0013U",
            base
            | {
                "ORD_DVSN": "00",
                "RVSE_CNCL_DVSN_CD": "01",
                "ORD_QTY": "4",
                "ORD_UNPR": str(bottom + 100),
                "QTY_ALL_ORD_YN": "N",
            },
        )
    )
    assert set(revised["output"]) == {"krx_fwdg_ord_orgno", "odno", "ord_tmd"}
    cancelled = _out(
        caller.post(
            "/trading/order-rvsecncl",
            "TTTC0013U",
            base
            | {
                "ORD_DVSN": "00",
                "RVSE_CNCL_DVSN_CD": "02",
                "ORD_QTY": "0",
                "ORD_UNPR": "0",
                "QTY_ALL_ORD_YN": "Y",
            },
        )
    )
    again = caller.post(
        "/trading/order-rvsecncl",
        "TTTC0013U",
        base
        | {
            "ORD_DVSN": "00",
            "RVSE_CNCL_DVSN_CD": "02",
            "ORD_QTY": "0",
            "ORD_UNPR": "0",
            "QTY_ALL_ORD_YN": "Y",
        },
    ).json()
    assert again["msg_cd"] == "APBK0634"
    orders = {o.odno: o for o in sim.broker_orders()}
    assert orders[odno].remaining == 0 and orders[odno].cancelled_qty == 10
    assert orders[revised["output"]["odno"]].remaining == 4
    assert orders[revised["output"]["odno"]].orgn_odno == odno
    assert orders[cancelled["output"]["odno"]].kind == "cancel"
    rows = _out(caller.daily_ccld("20260310"))["output1"]
    assert [r["sll_buy_dvsn_cd_name"] for r in rows] == ["매수취소", "매수정정", "현금매수"]


def test_cash_settles_two_trading_days_after_the_trade(start_sim, clock) -> None:
    # KRX settles T+2: the deposit (dnca_tot_amt) moves on the settlement day, the D+1
    # (nxdy_excc_amt) a day before, the D+2 cash (prvs_rcdl_excc_amt) and the totals at once.
    _, caller = start_sim()
    bought = _out(caller.order("buy", "005930", 20, 0, "01"))["output"]["ODNO"]
    summary = _out(caller.balance())["output2"][0]
    buy_price = int(
        next(r for r in _out(caller.daily_ccld("20260310"))["output1"] if r["odno"] == bought)[
            "avg_prvs"
        ]
    )
    buy_out = 20 * buy_price + COSTS.commission(20 * buy_price)
    assert int(summary["dnca_tot_amt"]) == START  # Tuesday's buy settles on Thursday
    assert int(summary["nxdy_excc_amt"]) == START
    assert int(summary["prvs_rcdl_excc_amt"]) == START - buy_out
    assert int(summary["tot_evlu_amt"]) == START - buy_out + int(summary["scts_evlu_amt"])

    clock.set(datetime(2026, 3, 11, 10, 30, tzinfo=KST))  # Wednesday: sell 5
    assert caller.issue_token().status_code == 200  # a day later the token has expired
    _out(caller.order("sell", "005930", 5, 0, "01"))
    sold = next(r for r in _out(caller.daily_ccld("20260311"))["output1"] if r["pdno"])
    value = 5 * int(sold["avg_prvs"])
    sell_in = (
        value - COSTS.commission(value) - COSTS.tax(value, settlement_date(clock.now().date()))
    )
    summary = _out(caller.balance())["output2"][0]
    assert int(summary["dnca_tot_amt"]) == START
    assert int(summary["nxdy_excc_amt"]) == START - buy_out  # Tuesday's buy settles tomorrow
    assert int(summary["prvs_rcdl_excc_amt"]) == START - buy_out + sell_in

    clock.set(datetime(2026, 3, 12, 10, 30, tzinfo=KST))  # Thursday: the buy has settled
    assert caller.issue_token().status_code == 200  # a day later the token has expired
    summary = _out(caller.balance())["output2"][0]
    assert int(summary["dnca_tot_amt"]) == START - buy_out  # the sale settles on Friday
    assert int(summary["nxdy_excc_amt"]) == START - buy_out + sell_in
    assert int(summary["prvs_rcdl_excc_amt"]) == START - buy_out + sell_in
    total = int(summary["prvs_rcdl_excc_amt"]) + int(summary["scts_evlu_amt"])
    assert int(summary["tot_evlu_amt"]) == int(summary["nass_amt"]) == total
    assert int(summary["asst_icdc_amt"]) == total - int(summary["bfdy_tot_asst_evlu_amt"])

    clock.set(datetime(2026, 3, 13, 10, 30, tzinfo=KST))  # Friday: everything has settled
    assert caller.issue_token().status_code == 200  # a day later the token has expired
    summary = _out(caller.balance())["output2"][0]
    assert (
        summary["dnca_tot_amt"] == summary["prvs_rcdl_excc_amt"] == str(START - buy_out + sell_in)
    )
