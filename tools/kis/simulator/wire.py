"""The KIS wire format as the simulator speaks it: envelopes, message codes, TR tables, padding.

Codes marked UNDOCUMENTED were not found in any source of `kis-api.md`; the simulator picked them
so that the situation still gets a distinct, KIS-shaped answer. A client must only rely on
`rt_cd != "0"` for those.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from starlette.responses import Response

from tools.kis.simulator.config import Mode

PATH_PREFIX = "/uapi/domestic-stock/v1"


@dataclass(frozen=True, slots=True)
class Msg:
    """A KIS answer code with its rt_cd, message text and HTTP status."""

    msg_cd: str
    msg1: str
    rt_cd: str = "1"
    status: int = 200


# --- success --------------------------------------------------------------------------------
QUOTE_OK = Msg("MCA00000", "정상처리 되었습니다.", "0")
INQUIRY_OK_REAL = Msg("KIOK0510", "조회가 완료되었습니다", "0")
INQUIRY_OK_VIRTUAL = Msg("20310000", "모의투자 조회가 완료되었습니다.", "0")
ORDER_OK_REAL = Msg("APBK0013", "주문 전송 완료 되었습니다.", "0")
BUY_OK_VIRTUAL = Msg("40600000", "모의투자 매수주문이 완료 되었습니다.", "0")
SELL_OK_VIRTUAL = Msg("40600000", "모의투자 매도주문이 완료 되었습니다.", "0")
# UNDOCUMENTED: the virtual server's code for an accepted revise/cancel.
RVSECNCL_OK_VIRTUAL = Msg("40640000", "모의투자 정정취소주문이 완료 되었습니다.", "0")

# --- gateway (HTTP 500 with the envelope) -----------------------------------------------------
EXPIRED_TOKEN = Msg("EGW00123", "기간이 만료된 token 입니다.", status=500)
INVALID_TOKEN = Msg("EGW00121", "유효하지 않은 token 입니다.", status=500)
RATE_LIMITED = Msg("EGW00201", "초당 거래건수를 초과하였습니다.", status=500)
INVALID_APPKEY_GW = Msg("EGW00103", "유효하지 않은 AppKey입니다.", status=500)
NOT_VIRTUAL_TR = Msg("EGW02006", "모의투자 TR 이 아닙니다.", status=500)

# --- business rejections (HTTP 200) -----------------------------------------------------------
# UNDOCUMENTED (recalled from KIS forum posts, not in the sources): unknown or wrong-mode tr_id.
UNKNOWN_TR = Msg("OPSQ0002", "없는 서비스 코드 입니다")
# UNDOCUMENTED (recalled from KIS forum posts): an account number the server does not know.
BAD_ACCOUNT = Msg("OPSQ2000", "ERROR : INPUT INVALID_CHECK_ACNO")
NO_SUCH_STOCK = Msg("APBK0656", "해당 종목 정보가 없습니다")
MARKET_CLOSED_REAL = Msg("APBK0918", "장운영시간이 아닙니다.(주문불가)")
BEFORE_OPEN_VIRTUAL = Msg("40570000", "모의투자 장시작전 입니다.")
AFTER_CLOSE_VIRTUAL = Msg("40580000", "모의투자 장종료 입니다.")
NO_CASH_REAL = Msg("APBK0952", "주문가능금액을 초과 했습니다", rt_cd="7")
NO_CASH_VIRTUAL = Msg("40910000", "모의투자 주문가능금액을 초과했습니다.")
# UNDOCUMENTED: a limit price off the KRX tick grid (kis-api.md §9 item 4).
OFF_TICK = Msg("APBK0506", "호가단위 오류입니다. 주문가격을 확인하세요")
# UNDOCUMENTED: a limit price outside the daily ±30 % limits.
OUTSIDE_LIMITS = Msg("APBK0553", "상하한가를 벗어난 주문가격입니다")
# UNDOCUMENTED: a quantity that is not a positive whole number of shares.
BAD_QTY = Msg("APBK0560", "주문수량을 확인하세요")
# UNDOCUMENTED: ORD_UNPR not "0" on a market-type order, or not a whole number.
BAD_PRICE = Msg("APBK0561", "주문단가를 확인하세요")
# UNDOCUMENTED: an ORD_DVSN the server does not take (virtual: only 00-04).
BAD_ORD_DVSN = Msg("APBK0570", "주문구분을 확인하세요")
# UNDOCUMENTED: selling more than the orderable holding.
NO_SHARES = Msg("APBK0400", "주문가능수량을 초과 했습니다")
# UNDOCUMENTED: revise/cancel of an unknown order or one without unfilled quantity.
NOT_REVISABLE = Msg("APBK0634", "정정/취소할 수량이 없습니다")
# Third-party reports (not in kis-api.md): a continuation page asked after the books changed
# since the first page; the query must start over from the first page.
QUERY_AGAIN = Msg("SYDB0050", "조회이후에 자료가 변경되었습니다.(다시 조회하세요)")
# UNDOCUMENTED: a malformed request (missing or invalid field).
BAD_INPUT = Msg("OPSQ0001", "입력값을 확인하세요")


# A request field the server does not take: KIS answers rt_cd "2", OPSQ2001 and names the field
# (third-party captures: "ERROR : INPUT_FIELD_NAME PDNO" for a missing field, "ERROR : INPUT
# INVALID_CHECK_INQR_DVSN" for a value it refuses).
def missing_field(name: str) -> Msg:
    """Return the answer to a request that lacks (or misspells) the field `name`."""
    return Msg("OPSQ2001", f"ERROR : INPUT_FIELD_NAME {name}", rt_cd="2")


def invalid_field(name: str) -> Msg:
    """Return the answer to a field whose value the server refuses.

    Used, by analogy with the captured INQR_DVSN case, for a wrong echoed KRX_FWDG_ORD_ORGNO
    and for continuation keys that did not come back as sent (the real codes for those two
    cases were not found).
    """
    return Msg("OPSQ2001", f"ERROR : INPUT INVALID_CHECK_{name}", rt_cd="2")


# POST body keys as documented (OTA examples_llm order_cash.py, order_rvsecncl.py): the server
# reads them in uppercase only; anything else is an unknown field.
BODY_KEYS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "/trading/order-cash": (
        ("CANO", "ACNT_PRDT_CD", "PDNO", "ORD_DVSN", "ORD_QTY", "ORD_UNPR"),
        ("EXCG_ID_DVSN_CD", "SLL_TYPE", "CNDT_PRIC"),
    ),
    "/trading/order-rvsecncl": (
        (
            "CANO",
            "ACNT_PRDT_CD",
            "KRX_FWDG_ORD_ORGNO",
            "ORGN_ODNO",
            "ORD_DVSN",
            "RVSE_CNCL_DVSN_CD",
            "ORD_QTY",
            "ORD_UNPR",
            "QTY_ALL_ORD_YN",
        ),
        ("EXCG_ID_DVSN_CD", "CNDT_PRIC"),
    ),
}


def body_error(path: str, body: dict[str, str]) -> Msg | None:
    """Return the answer to a POST body whose keys are not exactly the documented ones."""
    required, optional = BODY_KEYS.get(path, ((), ()))
    for key in required:
        if key not in body:
            return missing_field(key)
    for key in body:
        if key not in required and key not in optional:
            return missing_field(key)
    return None


def inquiry_ok(mode: Mode) -> Msg:
    """Return the success code of account inquiries on that server."""
    return INQUIRY_OK_VIRTUAL if mode == "virtual" else INQUIRY_OK_REAL


def pad_bytes(text: str, width: int = 80) -> str:
    """Pad a message with spaces to `width` bytes of EUC-KR, as the account/order TRs do."""
    used = len(text.encode("euc-kr", errors="replace"))
    return text + " " * max(0, width - used)


def pad_ctx(text: str) -> str:
    """Pad a ctx_area_fk100/nk100 value to 100 characters."""
    return text.ljust(100)


def envelope(msg: Msg, *, pad: bool = False, **payload: Any) -> dict[str, Any]:
    """Build a /uapi body: the payload keys followed by rt_cd, msg_cd and msg1."""
    body: dict[str, Any] = dict(payload)
    body["rt_cd"] = msg.rt_cd
    body["msg_cd"] = msg.msg_cd
    body["msg1"] = pad_bytes(msg.msg1) if pad else msg.msg1
    return body


def json_response(body: Any, *, status: int = 200, tr_id: str = "", tr_cont: str = "") -> Response:
    """Serialise a body the way KIS does (UTF-8 JSON) with its response headers."""
    headers = {"tr_id": tr_id, "tr_cont": tr_cont, "gt_uid": ""}
    return Response(
        json.dumps(body, ensure_ascii=False),
        status_code=status,
        media_type="application/json; charset=utf-8",
        headers=headers,
    )


def error_response(msg: Msg, *, tr_id: str = "") -> Response:
    """Answer a /uapi request with an error envelope and the code's HTTP status."""
    return json_response(envelope(msg), status=msg.status, tr_id=tr_id)


def oauth_error(code: str, description: str) -> Response:
    """Answer an /oauth2 request with KIS's OAuth error shape and HTTP 403."""
    return json_response({"error_description": description, "error_code": code}, status=403)


# --- TR tables --------------------------------------------------------------------------------
# Quotation TRs are the same on both servers; `None` in REAL_ONLY marks "모의투자 미지원".
QUOTE_TRS: dict[str, str] = {
    "/quotations/inquire-price": "FHKST01010100",
    "/quotations/inquire-daily-itemchartprice": "FHKST03010100",
    "/quotations/inquire-time-itemchartprice": "FHKST03010200",
    "/quotations/intstock-multprice": "FHKST11300006",
    "/quotations/news-title": "FHKST01011800",
    "/quotations/search-stock-info": "CTPF1002R",
    "/quotations/chk-holiday": "CTCA0903R",
    "/finance/balance-sheet": "FHKST66430100",
    "/finance/income-statement": "FHKST66430200",
    "/finance/financial-ratio": "FHKST66430300",
    "/finance/profit-ratio": "FHKST66430400",
    "/finance/other-major-ratios": "FHKST66430500",
    "/finance/stability-ratio": "FHKST66430600",
    "/finance/growth-ratio": "FHKST66430800",
}
REAL_ONLY: frozenset[str] = frozenset(
    p
    for p in QUOTE_TRS
    if p.startswith("/finance") or p.endswith(("news-title", "info", "holiday", "multprice"))
)

# Trading TRs on the real server (new and old IDs); the virtual server replaces the first letter
# with V (TTTC0012U -> VTTC0012U, CTSC9215R -> VTSC9215R).
BUY_TRS_REAL = ("TTTC0012U", "TTTC0802U")
SELL_TRS_REAL = ("TTTC0011U", "TTTC0801U")
TRADING_TRS_REAL: dict[str, tuple[str, ...]] = {
    "/trading/order-cash": BUY_TRS_REAL + SELL_TRS_REAL,
    "/trading/order-rvsecncl": ("TTTC0013U", "TTTC0803U"),
    "/trading/inquire-balance": ("TTTC8434R",),
    "/trading/inquire-daily-ccld": ("TTTC0081R", "TTTC8001R", "CTSC9215R", "CTSC9115R"),
    "/trading/inquire-psbl-order": ("TTTC8908R",),
}


def virtual_tr(tr_id: str) -> str:
    """Return the virtual server's TR for a real trading TR."""
    return "V" + tr_id[1:]


def trading_trs(path: str, mode: Mode) -> tuple[str, ...]:
    """Return the TR IDs a trading path answers on that server."""
    trs = TRADING_TRS_REAL[path]
    return tuple(virtual_tr(t) for t in trs) if mode == "virtual" else trs


def is_buy_tr(tr_id: str) -> bool:
    """Tell whether an order-cash TR is a buy (either server, new or old ID)."""
    return tr_id[1:] in {t[1:] for t in BUY_TRS_REAL}
