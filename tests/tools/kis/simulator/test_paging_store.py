"""Paging of account inquiries, the shared store across instances, and CSV replay."""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from core.clock import KST, FixedClock
from tests.tools.kis.simulator.kis_wire import WireCaller
from tools.kis.simulator import SimulatorConfig, SimulatorServer, create_app

TICKERS = ("005930", "000660", "035720", "105560", "069500")


def test_balance_and_executions_page_with_tr_cont(start_sim) -> None:
    _, caller = start_sim(page_size=2)
    for ticker in TICKERS:
        assert caller.order("buy", ticker, 1, 0, "01").json()["rt_cd"] == "0"
    seen, conts, fk, nk, cont = [], [], "", "", ""
    while True:
        response = caller.balance(tr_cont=cont, fk=fk, nk=nk)
        body = response.json()
        seen += [r["pdno"] for r in body["output1"]]
        conts.append(response.headers["tr_cont"])
        if response.headers["tr_cont"] in ("D", "E"):
            break
        fk, nk, cont = body["ctx_area_fk100"], body["ctx_area_nk100"], "N"
        assert len(nk) == 100 and nk.strip()
    assert conts == ["F", "M", "E"] and sorted(seen) == sorted(TICKERS)

    seen, conts, fk, nk, cont = [], [], "", "", ""
    while True:
        response = caller.daily_ccld("20260310", tr_cont=cont, fk=fk, nk=nk)
        body = response.json()
        seen += [r["odno"] for r in body["output1"]]
        assert body["output2"]["tot_ccld_qty"] == "5"
        conts.append(response.headers["tr_cont"])
        if response.headers["tr_cont"] in ("D", "E"):
            break
        fk, nk, cont = body["ctx_area_fk100"], body["ctx_area_nk100"], "N"
    assert conts == ["F", "M", "E"]
    assert seen == sorted(seen, reverse=True) and len(set(seen)) == 5


def test_store_is_shared_between_instances_and_reset_wipes_it(tmp_path: Path) -> None:
    clock = FixedClock(datetime(2026, 3, 10, 10, 30, tzinfo=KST))
    path = tmp_path / "kis-sim.sqlite"
    first_cfg = SimulatorConfig(clock=clock, store_path=path, starting_cash_krw=50_000_000)
    second_cfg = SimulatorConfig(clock=clock, store_path=path, starting_cash_krw=1)
    with SimulatorServer(first_cfg) as first, SimulatorServer(second_cfg) as second:
        a, b = WireCaller(first.base_url, first_cfg), WireCaller(second.base_url, second_cfg)
        assert a.issue_token().status_code == 200
        b.token = a.token  # the token issued by one process is known to the other
        assert a.order("buy", "005930", 3, 0, "01").json()["rt_cd"] == "0"
        assert b.order("buy", "000660", 1, 0, "01").json()["output"]["ODNO"] == "0000000002"
        rows = b.balance().json()["output1"]
        assert [(r["pdno"], r["hldg_qty"]) for r in rows] == [("000660", "1"), ("005930", "3")]
        a.close(), b.close()
    with SimulatorServer(second_cfg) as again:
        c = WireCaller(again.base_url, second_cfg)
        c.token = a.token
        summary = c.balance().json()["output2"][0]
        assert 0 < int(summary["prvs_rcdl_excc_amt"]) < 50_000_000
        assert len(again.broker_orders()) == 2
        c.close()
    with SimulatorServer(second_cfg, reset=True) as wiped:
        assert wiped.broker_orders() == []
        assert wiped.state.store.cash("12345678", "01") == 1


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.mark.anyio
async def test_create_app_serves_requests_in_process() -> None:
    cfg = SimulatorConfig(clock=FixedClock(datetime(2026, 3, 10, 10, 30, tzinfo=KST)))
    transport = httpx.ASGITransport(app=create_app(cfg))
    async with httpx.AsyncClient(transport=transport, base_url="http://sim") as http:
        token = await http.post(
            "/oauth2/tokenP",
            json={
                "grant_type": "client_credentials",
                "appkey": cfg.app_key,
                "appsecret": cfg.app_secret,
            },
        )
        assert token.status_code == 200
        headers = {
            "authorization": f"Bearer {token.json()['access_token']}",
            "appkey": cfg.app_key,
            "appsecret": cfg.app_secret,
            "tr_id": "FHKST01010100",
        }
        price = await http.get(
            "/uapi/domestic-stock/v1/quotations/inquire-price",
            headers=headers,
            params={"FID_COND_MRKT_DIV_CODE": "J", "FID_INPUT_ISCD": "005930"},
        )
        assert price.json()["output"]["stck_shrn_iscd"] == "005930"


def _write_plain(path: Path) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["date", "open", "high", "low", "close", "volume"])
        writer.writerow(["2024-01-02", "10000", "10500", "9900", "10200", "50000"])
        writer.writerow(["2024-01-03", "10200", "10300", "10000", "10100", "0"])
        writer.writerow(["2024-01-04", "10100", "10400", "10050", "10350", "40000"])


def test_csv_replay_of_shared_and_plain_files(
    start_sim, clock, shared_dir: Path, tmp_path: Path
) -> None:
    plain = tmp_path / "123450_demo.csv"
    _write_plain(plain)
    samsung = shared_dir / "market-data" / "005930_samsung_electronics_1990-2023.csv"
    clock.set(datetime(2023, 12, 22, 16, 0, tzinfo=KST))
    _, caller = start_sim(replay_csv=(samsung, plain))
    params = {
        "FID_COND_MRKT_DIV_CODE": "J",
        "FID_INPUT_ISCD": "005930",
        "FID_INPUT_DATE_1": "20231218",
        "FID_INPUT_DATE_2": "20231222",
        "FID_PERIOD_DIV_CODE": "D",
        "FID_ORG_ADJ_PRC": "0",
    }
    rows = caller.get("/quotations/inquire-daily-itemchartprice", "FHKST03010100", params).json()[
        "output2"
    ]
    assert [
        (r["stck_bsop_date"], r["stck_oprc"], r["stck_hgpr"], r["stck_lwpr"], r["stck_clpr"])
        for r in rows[:1]
    ] == [("20231222", "75800", "76300", "75400", "75900")]
    assert len(rows) == 5
    assert caller.price("005930").json()["output"]["stck_prpr"] == "75900"

    clock.set(datetime(2024, 1, 3, 11, 0, tzinfo=KST))  # the zero-volume bar: a halted day
    assert caller.issue_token().status_code == 200
    out = caller.price("123450").json()["output"]
    assert (out["stck_sdpr"], out["temp_stop_yn"]) == ("10200", "Y")
    caller.order("buy", "123450", 1, 0, "01")
    assert caller.daily_ccld("20240103").json()["output1"][0]["tot_ccld_qty"] == "0"
