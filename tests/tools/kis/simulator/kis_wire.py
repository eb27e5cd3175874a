"""A minimal caller of the documented KIS wire format, for driving the simulator in tests.

Deliberately not the project's KIS client: requests are built by hand from kis-api.md (headers
appkey/appsecret/authorization/tr_id/custtype, uppercase POST bodies with string numbers), so
the simulator is checked against the documentation, not against another implementation.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx

from tools.kis.simulator import SimulatorConfig

PREFIX = "/uapi/domestic-stock/v1"


class WireCaller:
    """Sends documented KIS requests with one app key pair and one token."""

    def __init__(self, base_url: str, cfg: SimulatorConfig, *, timeout: float = 30.0) -> None:
        self.cfg = cfg
        self.http = httpx.Client(base_url=base_url, timeout=timeout)
        self.token = ""

    def close(self) -> None:
        self.http.close()

    def issue_token(
        self, appkey: str | None = None, appsecret: str | None = None
    ) -> httpx.Response:
        body = {
            "grant_type": "client_credentials",
            "appkey": appkey or self.cfg.app_key,
            "appsecret": appsecret or self.cfg.app_secret,
        }
        response = self.http.post("/oauth2/tokenP", json=body)
        if response.status_code == 200:
            self.token = response.json()["access_token"]
        return response

    def headers(self, tr_id: str, tr_cont: str = "") -> dict[str, str]:
        return {
            "content-type": "application/json; charset=utf-8",
            "authorization": f"Bearer {self.token}",
            "appkey": self.cfg.app_key,
            "appsecret": self.cfg.app_secret,
            "tr_id": tr_id,
            "custtype": "P",
            "tr_cont": tr_cont,
        }

    def get(
        self, path: str, tr_id: str, params: dict[str, str], tr_cont: str = ""
    ) -> httpx.Response:
        return self.http.get(PREFIX + path, params=params, headers=self.headers(tr_id, tr_cont))

    def post(self, path: str, tr_id: str, body: dict[str, str]) -> httpx.Response:
        return self.http.post(PREFIX + path, json=body, headers=self.headers(tr_id))

    def account(self) -> dict[str, str]:
        return {"CANO": self.cfg.account_no, "ACNT_PRDT_CD": self.cfg.account_product_code}

    def order(
        self, side: str, pdno: str, qty: int | str, price: int | str = 0, ord_dvsn: str = "00"
    ) -> httpx.Response:
        tr = {"buy": "TTTC0012U", "sell": "TTTC0011U"}[side]
        if self.cfg.mode == "virtual":
            tr = "V" + tr[1:]
        body = self.account() | {
            "PDNO": pdno,
            "ORD_DVSN": ord_dvsn,
            "ORD_QTY": str(qty),
            "ORD_UNPR": str(price),
            "EXCG_ID_DVSN_CD": "KRX",
            "SLL_TYPE": "01" if side == "sell" else "",
            "CNDT_PRIC": "",
        }
        return self.post("/trading/order-cash", tr, body)

    def tr(self, real: str) -> str:
        return "V" + real[1:] if self.cfg.mode == "virtual" else real

    def balance(self, tr_cont: str = "", fk: str = "", nk: str = "") -> httpx.Response:
        params = self.account() | {
            "AFHR_FLPR_YN": "N",
            "OFL_YN": "",
            "INQR_DVSN": "02",
            "UNPR_DVSN": "01",
            "FUND_STTL_ICLD_YN": "N",
            "FNCG_AMT_AUTO_RDPT_YN": "N",
            "PRCS_DVSN": "00",
            "CTX_AREA_FK100": fk,
            "CTX_AREA_NK100": nk,
        }
        return self.get("/trading/inquire-balance", self.tr("TTTC8434R"), params, tr_cont)

    def daily_ccld(
        self, day: str, tr_cont: str = "", fk: str = "", nk: str = "", **extra: str
    ) -> httpx.Response:
        params = (
            self.account()
            | {
                "INQR_STRT_DT": day,
                "INQR_END_DT": day,
                "SLL_BUY_DVSN_CD": "00",
                "INQR_DVSN": "00",
                "PDNO": "",
                "CCLD_DVSN": "00",
                "ORD_GNO_BRNO": "",
                "ODNO": "",
                "INQR_DVSN_3": "00",
                "INQR_DVSN_1": "",
                "CTX_AREA_FK100": fk,
                "CTX_AREA_NK100": nk,
            }
            | extra
        )
        return self.get("/trading/inquire-daily-ccld", self.tr("TTTC0081R"), params, tr_cont)

    def price(self, ticker: str) -> httpx.Response:
        params = {"FID_COND_MRKT_DIV_CODE": "J", "FID_INPUT_ISCD": ticker}
        return self.get("/quotations/inquire-price", "FHKST01010100", params)


def sample(shared_dir: Path, name: str) -> Any:
    """Load one of ../shared/kis-samples/*.json."""
    return json.loads((shared_dir / "kis-samples" / name).read_text(encoding="utf-8"))
