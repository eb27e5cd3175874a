"""Trading calls: cash orders, revise/cancel, balance, daily orders/fills, buying power.

`order_cash` is the raw call and raises whatever KIS answered. `submit_order` is what an
executor uses: it never resends on its own and, when the answer is lost (timeout, 5xx,
unreadable body), it asks the broker whether the order exists before returning a typed
`OrderSubmission` (see `tools.kis.orders`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date

from core.clock import kst_now, kst_today
from core.orders import OrderType, Side
from tools.kis import endpoints as ep
from tools.kis import responses
from tools.kis.base import ClientCore, ymd
from tools.kis.errors import KISResponseError, KISServerError, KISTemporaryError, KISTimeoutError
from tools.kis.fields import parse_model
from tools.kis.models import Balance, BuyingPower, DailyOrder, DailyOrders, Holding, OrderResult
from tools.kis.orders import (
    ORDER_TYPE_CODES,
    SIDE_CODES,
    OrderSubmission,
    SentOrder,
    SubmissionStatus,
    matching_orders,
    recovered_result,
)

log = logging.getLogger("tools.kis.client")

IN_DOUBT = (KISTimeoutError, KISServerError, KISResponseError)
"""Errors after which an order may or may not exist at the broker."""


class TradingCalls(ClientCore):
    """Account and order calls of `KISClient`."""

    def _account(self) -> dict[str, str]:
        return {
            "CANO": self.config.account_no.get_secret_value(),
            "ACNT_PRDT_CD": self.config.account_product_code,
        }

    async def order_cash(
        self, side: Side, ticker: str, qty: int, *, kind: OrderType, price: int = 0
    ) -> OrderResult:
        """Send one cash order, once. Raises on any failure, including lost answers."""
        if qty <= 0:
            raise ValueError("qty must be a positive whole number of shares")
        if kind is OrderType.LIMIT and price <= 0:
            raise ValueError("a limit order needs a positive price")
        endpoint = ep.ORDER_BUY if side is Side.BUY else ep.ORDER_SELL
        body = self._account() | {
            "PDNO": ticker,
            "ORD_DVSN": ORDER_TYPE_CODES[kind],
            "ORD_QTY": str(qty),
            "ORD_UNPR": str(price if kind is OrderType.LIMIT else 0),
            "EXCG_ID_DVSN_CD": "KRX",
        }
        if side is Side.SELL:
            body["SLL_TYPE"] = "01"
        response = await self.http.call(endpoint, body=body)
        return parse_model(
            OrderResult,
            response.body.get("output"),
            tr_id=self.http.tr_id(endpoint),
            where="output",
        )

    async def submit_order(
        self,
        side: Side,
        ticker: str,
        qty: int,
        *,
        kind: OrderType,
        price: int = 0,
        known_order_nos: Iterable[str] = (),
    ) -> OrderSubmission:
        """Place an order and say for sure whether the broker has it, without resending.

        Args:
            side: buy or sell.
            ticker: the 6-digit code.
            qty: whole shares.
            kind: limit (00) or market (01).
            price: the limit price in KRW (ignored for market orders).
            known_order_nos: ODNOs the caller already owns today; never claimed as this order.

        Raises:
            KISOrderRejectedError: the broker refused the order (nothing was placed).
            KISConfigurationError, KISOperationalError: stop and fix.
        """
        sent = SentOrder(
            ticker=ticker,
            side=side,
            qty=qty,
            kind=kind,
            price=price if kind is OrderType.LIMIT else 0,
            sent_at=kst_now(self.clock),
        )
        try:
            result = await self.order_cash(side, ticker, qty, kind=kind, price=price)
        except IN_DOUBT as exc:
            log.warning("order answer lost (%s); asking the broker before anything else", exc)
            return await self.find_order(
                sent, known_order_nos, cause=f"{type(exc).__name__}: {exc}"
            )
        return OrderSubmission(status=SubmissionStatus.ACCEPTED, order=result)

    async def find_order(
        self, sent: SentOrder, known_order_nos: Iterable[str] = (), *, cause: str | None = None
    ) -> OrderSubmission:
        """Look for `sent` in today's orders at the broker (inquire-daily-ccld)."""
        known = list(known_order_nos)
        asked = False
        for attempt in range(self.config.reconcile_attempts):
            if attempt or self.config.reconcile_delay_s:
                await self._sleep(self.config.reconcile_delay_s)
            try:
                today = sent.sent_at.date()
                orders = await self.daily_orders(today, today, ticker=sent.ticker, side=sent.side)
            except KISTemporaryError as exc:
                log.warning("could not ask the broker about an order in doubt: %s", exc)
                continue
            asked = True
            found = matching_orders(sent, orders.orders, known)
            if len(found) == 1:
                return OrderSubmission(
                    status=SubmissionStatus.RECOVERED,
                    order=recovered_result(found[0]),
                    record=found[0],
                    cause=cause,
                )
            if len(found) > 1:
                return OrderSubmission(status=SubmissionStatus.AMBIGUOUS, cause=cause)
        status = SubmissionStatus.ABSENT if asked else SubmissionStatus.UNKNOWN
        return OrderSubmission(status=status, cause=cause)

    async def revise_order(
        self,
        org_no: str,
        order_no: str,
        qty: int,
        price: int,
        *,
        kind: OrderType = OrderType.LIMIT,
        all_qty: bool = True,
    ) -> OrderResult:
        """Change the price (and/or type) of an unfilled order. Not retried."""
        return await self._revise_cancel("01", org_no, order_no, qty, price, kind, all_qty)

    async def cancel_order(
        self, org_no: str, order_no: str, qty: int = 0, *, all_qty: bool = True
    ) -> OrderResult:
        """Cancel the unfilled part of an order (all of it by default). Not retried."""
        return await self._revise_cancel("02", org_no, order_no, qty, 0, OrderType.LIMIT, all_qty)

    async def _revise_cancel(
        self,
        code: str,
        org_no: str,
        order_no: str,
        qty: int,
        price: int,
        kind: OrderType,
        all_qty: bool,
    ) -> OrderResult:
        body = self._account() | {
            "KRX_FWDG_ORD_ORGNO": org_no,
            "ORGN_ODNO": order_no,
            "ORD_DVSN": ORDER_TYPE_CODES[kind],
            "RVSE_CNCL_DVSN_CD": code,
            "ORD_QTY": str(qty),
            "ORD_UNPR": str(price),
            "QTY_ALL_ORD_YN": "Y" if all_qty else "N",
            "EXCG_ID_DVSN_CD": "KRX",
        }
        response = await self.http.call(ep.ORDER_REVISE_CANCEL, body=body)
        tr_id = self.http.tr_id(ep.ORDER_REVISE_CANCEL)
        return parse_model(OrderResult, response.body.get("output"), tr_id=tr_id, where="output")

    async def balance(self) -> Balance:
        """Return every holding and the cash summary (inquire-balance, all pages)."""
        params = self._account() | {
            "AFHR_FLPR_YN": "N",
            "OFL_YN": "",
            "INQR_DVSN": "02",
            "UNPR_DVSN": "01",
            "FUND_STTL_ICLD_YN": "N",
            "FNCG_AMT_AUTO_RDPT_YN": "N",
            "PRCS_DVSN": "00",
        }
        tr_id = self.http.tr_id(ep.INQUIRE_BALANCE)
        holdings: list[Holding] = []
        summary = None
        for body in await self._pages(ep.INQUIRE_BALANCE, params):
            page, summary = responses.balance_page(body, tr_id)
            holdings += page
        assert summary is not None  # _pages returns at least one body
        return Balance(holdings=holdings, summary=summary)

    async def daily_orders(
        self,
        start: date,
        end: date,
        *,
        ticker: str = "",
        side: Side | None = None,
        filled: bool | None = None,
        order_no: str = "",
    ) -> DailyOrders:
        """Return the orders (with fills) placed from `start` to `end` (inquire-daily-ccld)."""
        params = self._account() | {
            "INQR_STRT_DT": ymd(start),
            "INQR_END_DT": ymd(end),
            "SLL_BUY_DVSN_CD": SIDE_CODES[side] if side else "00",
            "INQR_DVSN": "00",
            "PDNO": ticker,
            "CCLD_DVSN": {None: "00", True: "01", False: "02"}[filled],
            "ORD_GNO_BRNO": "",
            "ODNO": order_no,
            "INQR_DVSN_3": "00",
            "INQR_DVSN_1": "",
        }
        tr_id = self.http.tr_id(ep.INQUIRE_DAILY_CCLD)
        orders: list[DailyOrder] = []
        summary = None
        for body in await self._pages(ep.INQUIRE_DAILY_CCLD, params):
            page, page_summary = responses.daily_orders_page(body, tr_id)
            orders += page
            summary = summary or page_summary
        return DailyOrders(orders=orders, summary=summary)

    async def todays_orders(self) -> DailyOrders:
        """Return today's (KST) orders."""
        today = kst_today(self.clock)
        return await self.daily_orders(today, today)

    async def buying_power(
        self, ticker: str, price: int = 0, *, kind: OrderType = OrderType.MARKET
    ) -> BuyingPower:
        """Return how much cash and how many shares of `ticker` can be bought (psbl-order)."""
        params = self._account() | {
            "PDNO": ticker,
            "ORD_UNPR": str(price),
            "ORD_DVSN": ORDER_TYPE_CODES[kind],
            "CMA_EVLU_AMT_ICLD_YN": "N",
            "OVRS_ICLD_YN": "N",
        }
        return await self._output(ep.INQUIRE_PSBL_ORDER, params, BuyingPower)
