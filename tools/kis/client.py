"""`KISClient`: every KIS call we use, typed, paced and retried as each one allows.

Queries are retried with tenacity on temporary errors (timeouts, 5xx). Orders are never retried
blindly: `submit_order` (in `tools.kis.trading`) asks the broker whether an order it could not
confirm exists before anything else is sent.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import date, time, timedelta
from typing import Any, TypeVar

from pydantic import BaseModel

from tools.kis import endpoints as ep
from tools.kis import responses
from tools.kis.base import MAX_PAGES, ymd
from tools.kis.errors import KISError, KISRequestRejectedError, KISResponseError
from tools.kis.fields import parse_model, parse_rows
from tools.kis.models import (
    ApprovalResponse,
    BalanceSheetRow,
    DailyBar,
    DailyChart,
    DailyChartSummary,
    FinancialRatioRow,
    GrowthRatioRow,
    HashkeyResponse,
    HolidayDay,
    IncomeStatementRow,
    MinuteChart,
    MultiQuote,
    NewsTitle,
    ProfitRatioRow,
    Quote,
    RevokeResponse,
    StabilityRatioRow,
    StockInfo,
)
from tools.kis.trading import TradingCalls

M = TypeVar("M", bound=BaseModel)

NEWS_MAX_PAGES = 10
"""News titles for all tickers run to many pages; stop after this many (as the official sample)."""

DAILY_CHART_PAGE_ROWS = 100
"""KIS returns at most 100 daily bars per call (kis-api.md §3.2)."""


class KISClient(TradingCalls):
    """The async KIS Open API client for one account.

    Build it with `KISClient(config)` (the shell makes the config: `trader.wiring.configs`);
    inject `transport` to talk to a simulator in-process or a `httpx.MockTransport`, and
    `clock`/`sleep` for deterministic tests.
    Use it as an async context manager, or call `aclose()`. Trading calls come from
    `TradingCalls`, the request plumbing from `ClientCore`.
    """

    # --- auth -------------------------------------------------------------------------------

    async def ensure_token(self) -> None:
        """Make sure a valid token is held (issues one only if needed)."""
        await self.http.tokens.token()

    async def revoke_token(self) -> RevokeResponse:
        """Revoke the current token at KIS (/oauth2/revokeP) and forget it locally."""
        token = await self.http.tokens.token()
        body = await self.http.oauth(
            ep.REVOKE,
            {
                "appkey": self.config.app_key.get_secret_value(),
                "appsecret": self.config.app_secret.get_secret_value(),
                "token": token,
            },
        )
        await asyncio.to_thread(self.http.tokens.forget)  # rewrites the cache file
        return parse_model(RevokeResponse, body, tr_id=None, where="<body>")

    async def approval_key(self) -> ApprovalResponse:
        """Get a WebSocket approval key (/oauth2/Approval; the body says `secretkey`)."""
        body = await self.http.oauth(
            ep.APPROVAL,
            {
                "grant_type": "client_credentials",
                "appkey": self.config.app_key.get_secret_value(),
                "secretkey": self.config.app_secret.get_secret_value(),
            },
        )
        return parse_model(ApprovalResponse, body, tr_id=None, where="<body>")

    async def hashkey(self, order_body: dict[str, str]) -> str:
        """Return the hash of an order body (/uapi/hashkey; optional for orders)."""
        body = await self.http.oauth(ep.HASHKEY, order_body)
        return parse_model(HashkeyResponse, body, tr_id=None, where="<body>").hash

    # --- quotations -------------------------------------------------------------------------

    async def price(self, ticker: str, market: str = "J") -> Quote:
        """Return the current price and day statistics of `ticker` (inquire-price)."""
        params = {"FID_COND_MRKT_DIV_CODE": market, "FID_INPUT_ISCD": ticker}
        return await self._output(ep.INQUIRE_PRICE, params, Quote)

    async def prices(
        self, tickers: Sequence[str], market: str = "J"
    ) -> dict[str, MultiQuote | KISError]:
        """Quote many tickers with intstock-multprice, 30 to a call (real server only).

        Returns one entry per distinct ticker asked: its row, or the error of that ticker
        alone: `KISRequestRejectedError` when KIS has no stock under the code (a typo, a
        delisting; KIS leaves that slot blank), `KISResponseError` when its row is malformed.
        Neither fails the other tickers of the chunk. Rows are matched by the code they
        carry, and a row without one by its slot (KIS answers the slots in the order asked).

        Raises:
            KISConfigurationError: the account is on the virtual server, which does not offer it.
            KISError: the server refused or failed a call (a caller may fall back to `price`).
        """
        wanted = list(dict.fromkeys(tickers))
        found: dict[str, MultiQuote | KISError] = {}
        tr_id = self.http.tr_id(ep.MULTI_PRICE)
        for first in range(0, len(wanted), ep.MULTI_PRICE_MAX):
            chunk = wanted[first : first + ep.MULTI_PRICE_MAX]
            params: dict[str, str] = {}
            for slot, ticker in enumerate(chunk, start=1):
                params[f"FID_COND_MRKT_DIV_CODE_{slot}"] = market
                params[f"FID_INPUT_ISCD_{slot}"] = ticker
            response = await self._query(ep.MULTI_PRICE, params)
            found |= _match_rows(chunk, response.body.get("output"), tr_id)
        return found

    async def daily_chart_page(
        self,
        ticker: str,
        start: date,
        end: date,
        *,
        period: str = "D",
        adjusted: bool = True,
        market: str = "J",
    ) -> tuple[DailyChartSummary | None, list[DailyBar]]:
        """One call of inquire-daily-itemchartprice: at most 100 bars, newest first."""
        params = {
            "FID_COND_MRKT_DIV_CODE": market,
            "FID_INPUT_ISCD": ticker,
            "FID_INPUT_DATE_1": ymd(start),
            "FID_INPUT_DATE_2": ymd(end),
            "FID_PERIOD_DIV_CODE": period,
            "FID_ORG_ADJ_PRC": "0" if adjusted else "1",
        }
        response = await self._query(ep.DAILY_CHART, params)
        return responses.daily_chart_page(response.body, self.http.tr_id(ep.DAILY_CHART))

    async def daily_bars(
        self,
        ticker: str,
        start: date,
        end: date,
        *,
        period: str = "D",
        adjusted: bool = True,
        market: str = "J",
    ) -> DailyChart:
        """Return every bar from `start` to `end`, oldest first, 100 rows per call.

        KIS has no continuation for this TR: each next call ends the day before the oldest bar
        received, until a call returns fewer than 100 rows or reaches `start`.
        """
        by_day: dict[date, DailyBar] = {}
        summary: DailyChartSummary | None = None
        cursor = end
        for _ in range(MAX_PAGES):
            page_summary, bars = await self.daily_chart_page(
                ticker, start, cursor, period=period, adjusted=adjusted, market=market
            )
            summary = summary or page_summary
            for bar in bars:
                if start <= bar.day <= end:
                    by_day.setdefault(bar.day, bar)
            if len(bars) < DAILY_CHART_PAGE_ROWS:
                break
            oldest = min(bar.day for bar in bars)
            if oldest <= start or oldest > cursor:
                break
            cursor = oldest - timedelta(days=1)
        return DailyChart(summary=summary, bars=[by_day[d] for d in sorted(by_day)])

    async def minute_bars(
        self, ticker: str, until: time, *, include_past: bool = True, market: str = "J"
    ) -> MinuteChart:
        """Return today's 1-minute bars at or before `until` (at most 30, newest first)."""
        params = {
            "FID_ETC_CLS_CODE": "",
            "FID_COND_MRKT_DIV_CODE": market,
            "FID_INPUT_ISCD": ticker,
            "FID_INPUT_HOUR_1": until.strftime("%H%M%S"),
            "FID_PW_DATA_INCU_YN": "Y" if include_past else "N",
        }
        response = await self._query(ep.MINUTE_CHART, params)
        return responses.minute_chart(response.body, self.http.tr_id(ep.MINUTE_CHART))

    async def news_titles(
        self,
        ticker: str = "",
        *,
        day: date | None = None,
        hour: time | None = None,
        title: str = "",
        provider: str = "",
        serial: str = "",
        max_pages: int = NEWS_MAX_PAGES,
    ) -> list[NewsTitle]:
        """Return news/disclosure headlines (news-title, real server only), every page.

        Pages follow tr_cont up to `max_pages` (the official sample stops at 10 too).
        """
        params = {
            "FID_NEWS_OFER_ENTP_CODE": provider,
            "FID_COND_MRKT_CLS_CODE": "",
            "FID_INPUT_ISCD": ticker,
            "FID_TITL_CNTT": title,
            "FID_INPUT_DATE_1": ymd(day) if day else "",
            "FID_INPUT_HOUR_1": hour.strftime("%H%M%S") if hour else "",
            "FID_RANK_SORT_CLS_CODE": "",
            "FID_INPUT_SRNO": serial,
        }
        return await self._paged_rows(ep.NEWS_TITLE, params, NewsTitle, max_pages)

    async def stock_info(self, ticker: str, product_type: str = "300") -> StockInfo:
        """Return the basic facts of a listed product (search-stock-info, real server only)."""
        params = {"PRDT_TYPE_CD": product_type, "PDNO": ticker}
        return await self._output(ep.SEARCH_STOCK_INFO, params, StockInfo)

    async def holidays(self, base_day: date) -> list[HolidayDay]:
        """Return the market calendar from `base_day` on (chk-holiday; KIS asks: once a day)."""
        bodies = await self._pages(
            ep.CHK_HOLIDAY, {"BASS_DT": ymd(base_day)}, fk="CTX_AREA_FK", nk="CTX_AREA_NK"
        )
        tr_id = self.http.tr_id(ep.CHK_HOLIDAY)
        days: list[HolidayDay] = []
        for body in bodies:
            days += parse_rows(HolidayDay, body.get("output"), tr_id=tr_id, where="output")
        return days

    # --- finance ----------------------------------------------------------------------------

    async def _finance(
        self, endpoint: ep.Endpoint, model: type[M], ticker: str, quarterly: bool
    ) -> list[M]:
        params = {
            "FID_DIV_CLS_CODE": "1" if quarterly else "0",
            "fid_cond_mrkt_div_code": "J",
            "fid_input_iscd": ticker,
        }
        return await self._paged_rows(endpoint, params, model, MAX_PAGES)

    async def balance_sheet(self, ticker: str, *, quarterly: bool = False) -> list[BalanceSheetRow]:
        """Return balance-sheet rows, one per period (억원)."""
        return await self._finance(ep.BALANCE_SHEET, BalanceSheetRow, ticker, quarterly)

    async def income_statement(
        self, ticker: str, *, quarterly: bool = False
    ) -> list[IncomeStatementRow]:
        """Return income-statement rows, one per period (억원)."""
        return await self._finance(ep.INCOME_STATEMENT, IncomeStatementRow, ticker, quarterly)

    async def financial_ratio(
        self, ticker: str, *, quarterly: bool = False
    ) -> list[FinancialRatioRow]:
        """Return financial-ratio rows (growth, ROE, EPS, BPS, debt ratio)."""
        return await self._finance(ep.FINANCIAL_RATIO, FinancialRatioRow, ticker, quarterly)

    async def profit_ratio(self, ticker: str, *, quarterly: bool = False) -> list[ProfitRatioRow]:
        """Return profit-ratio rows."""
        return await self._finance(ep.PROFIT_RATIO, ProfitRatioRow, ticker, quarterly)

    async def stability_ratio(
        self, ticker: str, *, quarterly: bool = False
    ) -> list[StabilityRatioRow]:
        """Return stability-ratio rows."""
        return await self._finance(ep.STABILITY_RATIO, StabilityRatioRow, ticker, quarterly)

    async def growth_ratio(self, ticker: str, *, quarterly: bool = False) -> list[GrowthRatioRow]:
        """Return growth-ratio rows."""
        return await self._finance(ep.GROWTH_RATIO, GrowthRatioRow, ticker, quarterly)


def _match_rows(chunk: Sequence[str], output: Any, tr_id: str) -> dict[str, MultiQuote | KISError]:
    """Pair a multi-quote's rows with the tickers asked, by code and else by slot."""
    if output is None:
        raise KISResponseError(f"KIS {tr_id}: field output is missing", tr_id=tr_id, field="output")
    rows = [output] if isinstance(output, dict) else output
    if not isinstance(rows, list):
        raise KISResponseError(
            f"KIS {tr_id}: field output is not a list", tr_id=tr_id, field="output"
        )
    slots: dict[str, int] = {}
    for index, raw in enumerate(rows):
        code = raw.get("inter_shrn_iscd") if isinstance(raw, dict) else None
        code = code.strip() if isinstance(code, str) else ""
        # A row without its code belongs to the ticker of its slot.
        owner = code or (chunk[index] if index < len(chunk) else "")
        slots.setdefault(owner, index)
    matched: dict[str, MultiQuote | KISError] = {}
    for ticker in chunk:
        at = slots.get(ticker)
        if at is None:
            matched[ticker] = _not_listed(ticker, tr_id)
            continue
        try:
            row = parse_model(MultiQuote, rows[at], tr_id=tr_id, where=f"output[{at}]")
        except KISResponseError as exc:
            matched[ticker] = exc
            continue
        matched[ticker] = row if row.listed else _not_listed(ticker, tr_id)
    return matched


def _not_listed(ticker: str, tr_id: str) -> KISRequestRejectedError:
    return KISRequestRejectedError(
        f"KIS {tr_id} lists no stock under the code {ticker!r}", tr_id=tr_id
    )
