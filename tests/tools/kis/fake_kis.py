"""A fake KIS server for `httpx.MockTransport`: sample bodies, real envelope rules, faults.

It answers in the KIS wire format using the bodies in ../shared/kis-samples as templates, checks
the token and the TR ID of every call, keeps the orders it accepted (so inquire-daily-ccld shows
them) and pages inquire-balance / inquire-daily-ccld with tr_cont + ctx_area_*. Tests queue faults
(`fail`) to exercise the client's recovery paths; the fake never looks at which test is running.
"""

from __future__ import annotations

import asyncio
import copy
import json
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from core.clock import KST, Clock

ORDER_PATH = "/uapi/domestic-stock/v1/trading/order-cash"
CCLD_PATH = "/uapi/domestic-stock/v1/trading/inquire-daily-ccld"
BALANCE_PATH = "/uapi/domestic-stock/v1/trading/inquire-balance"
PRICE_PATH = "/uapi/domestic-stock/v1/quotations/inquire-price"
CHART_PATH = "/uapi/domestic-stock/v1/quotations/inquire-daily-itemchartprice"

FAULTS = {
    "http_500",
    "rate_limit",
    "expired_token",
    "timeout",
    "timeout_after",
    "malformed",
    "echo_secrets",
    "reject_cash",
}

TRS = {
    "/uapi/domestic-stock/v1/quotations/inquire-price": {"FHKST01010100"},
    CHART_PATH: {"FHKST03010100"},
    "/uapi/domestic-stock/v1/quotations/inquire-time-itemchartprice": {"FHKST03010200"},
    "/uapi/domestic-stock/v1/quotations/news-title": {"FHKST01011800"},
    "/uapi/domestic-stock/v1/quotations/search-stock-info": {"CTPF1002R"},
    "/uapi/domestic-stock/v1/quotations/chk-holiday": {"CTCA0903R"},
    "/uapi/domestic-stock/v1/finance/balance-sheet": {"FHKST66430100"},
    "/uapi/domestic-stock/v1/finance/income-statement": {"FHKST66430200"},
    "/uapi/domestic-stock/v1/finance/financial-ratio": {"FHKST66430300"},
    "/uapi/domestic-stock/v1/finance/profit-ratio": {"FHKST66430400"},
    "/uapi/domestic-stock/v1/finance/stability-ratio": {"FHKST66430600"},
    "/uapi/domestic-stock/v1/finance/growth-ratio": {"FHKST66430800"},
    ORDER_PATH: {"TTTC0012U", "TTTC0011U", "VTTC0012U", "VTTC0011U"},
    "/uapi/domestic-stock/v1/trading/order-rvsecncl": {"TTTC0013U", "VTTC0013U"},
    BALANCE_PATH: {"TTTC8434R", "VTTC8434R"},
    CCLD_PATH: {"TTTC0081R", "VTTC0081R"},
    "/uapi/domestic-stock/v1/trading/inquire-psbl-order": {"TTTC8908R", "VTTC8908R"},
}


@dataclass
class Fault:
    """One queued failure for the next matching request."""

    kind: str
    path: str | None
    count: int


@dataclass
class FakeKIS:
    """The fake server state. `transport()` gives the httpx transport to inject."""

    samples: Path
    clock: Clock
    app_key: str = "PSfakeAppKey0000000000000000000000000"
    app_secret: str = "fake-app-secret-" + "s" * 164
    balance_page_size: int = 2
    ccld_page_size: int = 2
    token_lifetime: timedelta = timedelta(hours=24)
    token_delay_s: float = 0.01
    token_requests: int = 0
    requests: Counter[str] = field(default_factory=Counter)
    orders: list[dict[str, str]] = field(default_factory=list)
    cancels: list[dict[str, str]] = field(default_factory=list)
    tokens: dict[str, datetime] = field(default_factory=dict)
    faults: deque[Fault] = field(default_factory=deque)

    def transport(self) -> httpx.MockTransport:
        """Return a MockTransport that routes every request to this fake."""
        return httpx.MockTransport(self.handle)

    def fail(self, kind: str, path: str | None = None, count: int = 1) -> None:
        """Queue `count` failures of `kind` for requests to `path` (any path when None)."""
        assert kind in FAULTS, kind
        self.faults.append(Fault(kind, path, count))

    def revoke_all(self) -> None:
        """Invalidate every issued token (as KIS does after a revocation)."""
        self.tokens.clear()

    def sample(self, name: str) -> Any:
        return json.loads((self.samples / name).read_text(encoding="utf-8"))

    # --- dispatch ---------------------------------------------------------------------------

    async def handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        self.requests[path] += 1
        fault = self._take_fault(path)
        if fault == "timeout":
            raise httpx.ReadTimeout("fake timeout", request=request)
        if path.startswith("/oauth2/") or path == "/uapi/hashkey":
            return await self._oauth(request, path)
        if fault == "http_500":
            return httpx.Response(500, text="<html>Internal Server Error</html>")
        if fault == "rate_limit":
            return httpx.Response(500, json=self.sample("error-rate-limit.json"))
        if fault == "echo_secrets":  # a gateway that quotes the request back in its error
            text = f"bad request appkey={request.headers.get('appkey')} url={request.url}"
            return httpx.Response(200, json={"rt_cd": "1", "msg_cd": "OPSQ9999", "msg1": text})
        if fault == "reject_cash":
            return httpx.Response(200, json=self.sample("error-real-insufficient-cash.json"))
        if fault == "malformed":
            return httpx.Response(200, text='{"rt_cd": "0", "output": {')
        auth = request.headers.get("authorization", "")
        token = auth.removeprefix("Bearer ")
        expires = self.tokens.get(token)
        if fault == "expired_token" or expires is None or expires <= self.clock.now():
            return httpx.Response(500, json=self.sample("error-expired-token.json"))
        if request.headers.get("appkey") != self.app_key:
            return httpx.Response(403, json=self.sample("error-invalid-appkey.json"))
        tr_id = request.headers.get("tr_id", "")
        if path not in TRS or tr_id not in TRS[path]:
            return httpx.Response(
                200, json={"rt_cd": "1", "msg_cd": "OPSQ0002", "msg1": "없는 서비스 코드 입니다"}
            )
        params = {k.upper(): v for k, v in request.url.params.items()}
        body = json.loads(request.content) if request.content else {}
        response = self._route(path, tr_id, params, body, request.headers.get("tr_cont", ""))
        if fault == "timeout_after":
            raise httpx.ReadTimeout("fake timeout after processing", request=request)
        return response

    def _take_fault(self, path: str) -> str | None:
        for fault in self.faults:
            if fault.path is None or fault.path == path:
                fault.count -= 1
                if fault.count <= 0:
                    self.faults.remove(fault)
                return fault.kind
        return None

    async def _oauth(self, request: httpx.Request, path: str) -> httpx.Response:
        body = json.loads(request.content)
        if path == "/uapi/hashkey":
            return httpx.Response(200, json={"BODY": body, "HASH": "f" * 64})
        if body.get("appkey") != self.app_key:
            return httpx.Response(403, json=self.sample("error-invalid-appkey.json"))
        if path == "/oauth2/tokenP":
            self.token_requests += 1
            await asyncio.sleep(self.token_delay_s)  # let concurrent callers pile up
            token = f"tok-{self.token_requests}-" + "x" * 40
            expires = self.clock.now() + self.token_lifetime
            self.tokens[token] = expires
            answer = self.sample("tokenP.json") | {
                "access_token": token,
                "access_token_token_expired": expires.astimezone(KST).strftime("%Y-%m-%d %H:%M:%S"),
            }
            return httpx.Response(200, json=answer)
        if path == "/oauth2/revokeP":
            self.tokens.pop(body.get("token", ""), None)
            return httpx.Response(200, json=self.sample("revokeP.json"))
        if path == "/oauth2/Approval":
            assert "secretkey" in body
            return httpx.Response(200, json=self.sample("approval.json"))
        return httpx.Response(404, json={"error_code": "EGW00000", "error_description": "?"})

    def _route(
        self, path: str, tr_id: str, params: dict[str, str], body: dict[str, str], tr_cont: str
    ) -> httpx.Response:
        if path == PRICE_PATH:
            answer = self.sample("inquire-price.json")
            answer["output"]["stck_shrn_iscd"] = params["FID_INPUT_ISCD"]
            return httpx.Response(200, json=answer)
        if path == CHART_PATH:
            return httpx.Response(200, json=self._chart(params))
        if path.endswith("inquire-time-itemchartprice"):
            return httpx.Response(200, json=self.sample("inquire-time-itemchartprice.json"))
        if path.endswith("inquire-psbl-order"):
            return httpx.Response(200, json=self.sample("inquire-psbl-order.json"))
        if path == ORDER_PATH:
            return httpx.Response(200, json=self._order(tr_id, body))
        if path.endswith("order-rvsecncl"):
            self.cancels.append(body)
            output = {"krx_fwdg_ord_orgno": "91252", "odno": "0000999999", "ord_tmd": "100001"}
            return httpx.Response(200, json=_ok(output, "APBK0013"))
        if path == BALANCE_PATH:
            return self._balance(tr_cont, params)
        if path == CCLD_PATH:
            return self._ccld(tr_cont, params)
        return httpx.Response(200, json=_ok(_static_output(path, params), "MCA00000"))

    # --- stateful endpoints -----------------------------------------------------------------

    def _chart(self, params: dict[str, str]) -> dict[str, Any]:
        answer = self.sample("inquire-daily-itemchartprice.json")
        template = answer["output2"][0]
        start = datetime.strptime(params["FID_INPUT_DATE_1"], "%Y%m%d").date()
        day = datetime.strptime(params["FID_INPUT_DATE_2"], "%Y%m%d").date()
        rows = []
        while day >= start and len(rows) < 100:
            if day.weekday() < 5:
                rows.append(template | {"stck_bsop_date": day.strftime("%Y%m%d")})
            day -= timedelta(days=1)
        answer["output2"] = rows
        answer["output1"]["stck_shrn_iscd"] = params["FID_INPUT_ISCD"]
        return answer | {"rt_cd": "0", "msg1": "정상처리 되었습니다."}

    def _order(self, tr_id: str, body: dict[str, str]) -> dict[str, Any]:
        now = self.clock.now().astimezone(KST)
        odno = f"{len(self.orders) + 117057:010d}"
        self.orders.append(body | {"ODNO": odno, "TR_ID": tr_id, "AT": now.strftime("%H%M%S")})
        output = {"KRX_FWDG_ORD_ORGNO": "91252", "ODNO": odno, "ORD_TMD": now.strftime("%H%M%S")}
        return _ok(output, "APBK0013", "주문 전송 완료 되었습니다.")

    def _balance(self, tr_cont: str, params: dict[str, str]) -> httpx.Response:
        sample = self.sample("inquire-balance-virtual.json")
        rows = sample["output1"] + self.sample("inquire-balance.json")["output1"]
        start = int(params.get("CTX_AREA_NK100") or 0) if tr_cont == "N" else 0
        page = rows[start : start + self.balance_page_size]
        more = start + self.balance_page_size < len(rows)
        answer = sample | {
            "output1": page,
            "ctx_area_nk100": f"{start + self.balance_page_size}".ljust(100) if more else " " * 100,
        }
        return httpx.Response(200, json=answer, headers={"tr_cont": "M" if more else "D"})

    def _ccld(self, tr_cont: str, params: dict[str, str]) -> httpx.Response:
        template = self.sample("inquire-daily-ccld.json")
        row0 = template["output1"][0]
        today = self.clock.now().astimezone(KST).strftime("%Y%m%d")
        rows = []
        for order in self.orders:
            side = "02" if order["TR_ID"].endswith("12U") else "01"
            if params.get("PDNO") and params["PDNO"] != order["PDNO"]:
                continue
            if params.get("SLL_BUY_DVSN_CD", "00") not in ("00", side):
                continue
            if not params["INQR_STRT_DT"] <= today <= params["INQR_END_DT"]:
                continue
            rows.append(
                row0
                | {
                    "ord_dt": today,
                    "ord_gno_brno": "91252",
                    "odno": order["ODNO"],
                    "sll_buy_dvsn_cd": side,
                    "pdno": order["PDNO"],
                    "ord_qty": order["ORD_QTY"],
                    "ord_unpr": order["ORD_UNPR"],
                    "ord_tmd": order["AT"],
                    "ord_dvsn_cd": order["ORD_DVSN"],
                    "rjct_qty": "0",
                    "rmn_qty": order["ORD_QTY"],
                }
            )
        start = int(params.get("CTX_AREA_NK100") or 0) if tr_cont == "N" else 0
        page = rows[start : start + self.ccld_page_size]
        more = start + self.ccld_page_size < len(rows)
        answer = copy.deepcopy(template) | {
            "output1": page,
            "ctx_area_nk100": f"{start + self.ccld_page_size}".ljust(100) if more else " " * 100,
        }
        return httpx.Response(200, json=answer, headers={"tr_cont": "M" if more else "D"})


def _ok(output: Any, msg_cd: str, msg1: str = "정상처리 되었습니다.") -> dict[str, Any]:
    return {"rt_cd": "0", "msg_cd": msg_cd, "msg1": msg1, "output": output}


def _static_output(path: str, params: dict[str, str]) -> Any:
    """Bodies for endpoints without a shared sample, built from the documented field lists."""
    name = path.rsplit("/", 1)[-1]
    ticker = params.get("FID_INPUT_ISCD") or params.get("PDNO") or "000660"
    if name == "news-title":
        return [
            {
                "hts_pbnt_titl_cntt": "SK하이닉스, HBM 공급 확대",
                "data_dt": "20261126",
                "data_tm": "093000",
                "cntt_usiq_srno": "2026112609300012",
                "dorg": "연합뉴스",
            },
            {
                "hts_pbnt_titl_cntt": "[공시] 주요사항보고서",
                "data_dt": "20261126",
                "data_tm": "090500",
                "cntt_usiq_srno": "2026112609050001",
                "dorg": "공시",
            },
        ]
    if name == "search-stock-info":
        return {
            "pdno": ticker,
            "prdt_type_cd": "300",
            "prdt_name": "SK하이닉스",
            "prdt_abrv_name": "SK하이닉스",
            "prdt_eng_name": "SK hynix",
            "mket_id_cd": "STK",
            "lstg_stqt": "728002365",
            "papr": "5000",
            "scts_mket_lstg_dt": "19961226",
            "kosdaq_mket_lstg_dt": "",
            "lstg_abol_dt": "",
            "tr_stop_yn": "N",
            "admn_item_yn": "N",
            "bfdy_clpr": "128500",
        }
    if name == "chk-holiday":
        base = datetime.strptime(params["BASS_DT"], "%Y%m%d").date()
        return [_holiday(base + timedelta(days=i)) for i in range(3)]
    rows = {
        "balance-sheet": {
            "cras": "1000.5",
            "fxas": "2000",
            "total_aset": "3000.5",
            "total_lblt": "1000",
            "total_cptl": "2000.5",
        },
        "income-statement": {"sale_account": "4000", "bsop_prti": "500.25", "thtr_ntin": "300"},
        "financial-ratio": {"grs": "12.5", "roe_val": "9.8", "eps": "6532.00", "lblt_rate": "35.1"},
        "profit-ratio": {"cptl_ntin_rate": "7.1", "sale_ntin_rate": "10.2"},
        "stability-ratio": {"lblt_rate": "35.1", "crnt_rate": "210.4", "quck_rate": "150.2"},
        "growth-ratio": {"grs": "12.5", "bsop_prfi_inrt": "-20.1", "equt_inrt": "5.5"},
    }[name]
    return [rows | {"stac_yymm": "202512"}, rows | {"stac_yymm": "202412"}]


def _holiday(day: date) -> dict[str, str]:
    weekday = day.weekday() < 5
    yn = "Y" if weekday else "N"
    return {
        "bass_dt": day.strftime("%Y%m%d"),
        "wday_dvsn_cd": f"0{(day.isoweekday() % 7) + 1}",
        "bzdy_yn": yn,
        "tr_day_yn": yn,
        "opnd_yn": yn,
        "sttl_day_yn": yn,
    }
