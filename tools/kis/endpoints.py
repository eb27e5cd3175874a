"""The KIS paths and TR IDs we call, in one table.

Quotation TRs (``FH...``) are the same on both servers; trading TRs differ by their first letter
(``T``/``J``/``C`` on the real server, ``V`` on the virtual one). Orders and the daily fills query
have a newer and an older TR; the newer one is the default and the older one stays available
because the reference notes both still work (kis-api.md §3.4, §3.7).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Mode(StrEnum):
    """Which KIS server: the real account (실전) or the virtual one (모의투자)."""

    REAL = "real"
    VIRTUAL = "virtual"


BASE_URLS: dict[Mode, str] = {
    Mode.REAL: "https://openapi.koreainvestment.com:9443",
    Mode.VIRTUAL: "https://openapivts.koreainvestment.com:29443",
}
"""Default REST hosts (kis-api.md §1); `KIS_BASE_URL` overrides them."""

DEFAULT_RATE_LIMIT_PER_S: dict[Mode, float] = {Mode.REAL: 18.0, Mode.VIRTUAL: 1.0}
"""Requests per second per account (PORTAL notice of 2026-04-20, kis-api.md §5)."""


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One REST call: where it lives, its TR IDs, and how it may be retried."""

    name: str
    path: str
    method: str
    tr_real: str
    tr_virtual: str | None
    """None means the virtual server does not offer this TR (모의투자 미지원)."""
    tr_real_old: str | None = None
    tr_virtual_old: str | None = None
    is_order: bool = False
    """Orders change the account: they are never retried without asking the broker first."""

    def tr_id(self, mode: Mode, *, old: bool = False) -> str | None:
        """Return the TR ID for `mode` (None when the server does not support the call)."""
        if mode is Mode.REAL:
            return (self.tr_real_old if old else None) or self.tr_real
        return (self.tr_virtual_old if old else None) or self.tr_virtual


_Q = "/uapi/domestic-stock/v1/quotations"
_T = "/uapi/domestic-stock/v1/trading"
_F = "/uapi/domestic-stock/v1/finance"

TOKEN = Endpoint("token", "/oauth2/tokenP", "POST", "", "")
REVOKE = Endpoint("revoke", "/oauth2/revokeP", "POST", "", "")
APPROVAL = Endpoint("approval", "/oauth2/Approval", "POST", "", "")
HASHKEY = Endpoint("hashkey", "/uapi/hashkey", "POST", "", "")

INQUIRE_PRICE = Endpoint(
    "inquire-price", f"{_Q}/inquire-price", "GET", "FHKST01010100", "FHKST01010100"
)
DAILY_CHART = Endpoint(
    "inquire-daily-itemchartprice",
    f"{_Q}/inquire-daily-itemchartprice",
    "GET",
    "FHKST03010100",
    "FHKST03010100",
)
MINUTE_CHART = Endpoint(
    "inquire-time-itemchartprice",
    f"{_Q}/inquire-time-itemchartprice",
    "GET",
    "FHKST03010200",
    "FHKST03010200",
)
MULTI_PRICE = Endpoint(
    "intstock-multprice", f"{_Q}/intstock-multprice", "GET", "FHKST11300006", None
)
"""관심종목(멀티종목) 시세조회: up to `MULTI_PRICE_MAX` tickers a call. Real server only: the
official Postman collection lists it as [실전투자] and the 모의투자 collection does not have it."""
MULTI_PRICE_MAX = 30
"""Tickers per intstock-multprice call (FID_INPUT_ISCD_1..30)."""
NEWS_TITLE = Endpoint("news-title", f"{_Q}/news-title", "GET", "FHKST01011800", None)
SEARCH_STOCK_INFO = Endpoint(
    "search-stock-info", f"{_Q}/search-stock-info", "GET", "CTPF1002R", None
)
CHK_HOLIDAY = Endpoint("chk-holiday", f"{_Q}/chk-holiday", "GET", "CTCA0903R", None)

BALANCE_SHEET = Endpoint("balance-sheet", f"{_F}/balance-sheet", "GET", "FHKST66430100", None)
INCOME_STATEMENT = Endpoint(
    "income-statement", f"{_F}/income-statement", "GET", "FHKST66430200", None
)
FINANCIAL_RATIO = Endpoint("financial-ratio", f"{_F}/financial-ratio", "GET", "FHKST66430300", None)
PROFIT_RATIO = Endpoint("profit-ratio", f"{_F}/profit-ratio", "GET", "FHKST66430400", None)
STABILITY_RATIO = Endpoint("stability-ratio", f"{_F}/stability-ratio", "GET", "FHKST66430600", None)
GROWTH_RATIO = Endpoint("growth-ratio", f"{_F}/growth-ratio", "GET", "FHKST66430800", None)

ORDER_BUY = Endpoint(
    "order-cash-buy",
    f"{_T}/order-cash",
    "POST",
    "TTTC0012U",
    "VTTC0012U",
    tr_real_old="TTTC0802U",
    tr_virtual_old="VTTC0802U",
    is_order=True,
)
ORDER_SELL = Endpoint(
    "order-cash-sell",
    f"{_T}/order-cash",
    "POST",
    "TTTC0011U",
    "VTTC0011U",
    tr_real_old="TTTC0801U",
    tr_virtual_old="VTTC0801U",
    is_order=True,
)
ORDER_REVISE_CANCEL = Endpoint(
    "order-rvsecncl",
    f"{_T}/order-rvsecncl",
    "POST",
    "TTTC0013U",
    "VTTC0013U",
    tr_real_old="TTTC0803U",
    tr_virtual_old="VTTC0803U",
    is_order=True,
)
INQUIRE_BALANCE = Endpoint(
    "inquire-balance", f"{_T}/inquire-balance", "GET", "TTTC8434R", "VTTC8434R"
)
INQUIRE_DAILY_CCLD = Endpoint(
    "inquire-daily-ccld",
    f"{_T}/inquire-daily-ccld",
    "GET",
    "TTTC0081R",
    "VTTC0081R",
    tr_real_old="TTTC8001R",
    tr_virtual_old="VTTC8001R",
)
INQUIRE_PSBL_ORDER = Endpoint(
    "inquire-psbl-order", f"{_T}/inquire-psbl-order", "GET", "TTTC8908R", "VTTC8908R"
)

ALL_ENDPOINTS: tuple[Endpoint, ...] = (
    TOKEN,
    REVOKE,
    APPROVAL,
    HASHKEY,
    INQUIRE_PRICE,
    DAILY_CHART,
    MINUTE_CHART,
    MULTI_PRICE,
    NEWS_TITLE,
    SEARCH_STOCK_INFO,
    CHK_HOLIDAY,
    BALANCE_SHEET,
    INCOME_STATEMENT,
    FINANCIAL_RATIO,
    PROFIT_RATIO,
    STABILITY_RATIO,
    GROWTH_RATIO,
    ORDER_BUY,
    ORDER_SELL,
    ORDER_REVISE_CANCEL,
    INQUIRE_BALANCE,
    INQUIRE_DAILY_CCLD,
    INQUIRE_PSBL_ORDER,
)

MORE_PAGES = frozenset({"F", "M"})
"""Response `tr_cont` values that mean another page follows ("D"/"E" mean last page)."""
