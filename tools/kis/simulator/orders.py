"""Order intake: KRX rules (hours, tick, limits, lots, cash, holdings), new orders, revise/cancel.

Order types (ORD_DVSN) taken on both servers: 00 지정가 and 02 조건부지정가 (limit orders), 01
시장가, 03 최유리지정가 and 04 최우선지정가 (no price: they fill at the current price like a
market order). Other codes are refused (virtual takes only 00-04; the simulator's real mode does
not model the IOC/FOK and after-hours types).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.clock import KST
from tools.kis.simulator import wire
from tools.kis.simulator.config import SimulatorConfig
from tools.kis.simulator.market import session_point
from tools.kis.simulator.matching import Matcher, abs_minute
from tools.kis.simulator.store import Order
from tools.kis.simulator.wire import Msg
from tools.krx import venue
from tools.krx.venue import PriceBand, RejectCode

LIMIT_TYPES = frozenset({"00", "02"})
PRICELESS_TYPES = frozenset({"01", "03", "04"})
REAL_ORGNO = "91252"
VIRTUAL_ORGNO = "00950"


@dataclass(frozen=True, slots=True)
class OrderAnswer:
    """The outcome of an order request: a KIS code and, when accepted, the order."""

    msg: Msg
    order: Order | None = None


class OrderDesk:
    """Validates and records orders, then hands them to the matcher."""

    def __init__(self, cfg: SimulatorConfig, matcher: Matcher) -> None:
        """Bind the config (mode, hours) and the matcher (books, market)."""
        self.cfg = cfg
        self.matcher = matcher
        self.store = matcher.store
        self.market = matcher.market

    @property
    def orgno(self) -> str:
        """Return KRX_FWDG_ORD_ORGNO as the server shows it."""
        return VIRTUAL_ORGNO if self.cfg.is_virtual else REAL_ORGNO

    def hours_error(self, now: datetime) -> Msg | None:
        """Return the 'market closed' answer of the server, or None during the session."""
        if self.cfg.always_open:
            return None
        point = session_point(now, always_open=False)
        if point.phase == "open":
            return None
        if not self.cfg.is_virtual:
            return wire.MARKET_CLOSED_REAL
        before = point.phase == "pre" and point.day == now.astimezone(KST).date()
        return wire.BEFORE_OPEN_VIRTUAL if before else wire.AFTER_CLOSE_VIRTUAL

    def account_error(self, cano: str, prdt: str) -> Msg | None:
        """Return BAD_ACCOUNT unless the account exists."""
        return wire.BAD_ACCOUNT if self.store.cash(cano, prdt) is None else None

    def _price_error(self, ord_dvsn: str, qty_s: str, price_s: str) -> Msg | None:
        allowed = LIMIT_TYPES | PRICELESS_TYPES
        if ord_dvsn not in allowed:
            return wire.BAD_ORD_DVSN
        if not qty_s.isdigit() or venue.check_qty(int(qty_s)) is not None:
            return wire.BAD_QTY
        if not price_s.isdigit():
            return wire.BAD_PRICE
        price = int(price_s)
        if (ord_dvsn in PRICELESS_TYPES and price != 0) or (ord_dvsn in LIMIT_TYPES and price <= 0):
            return wire.BAD_PRICE
        return None

    def _limit_error(self, pdno: str, price: int, now: datetime) -> tuple[Msg | None, int]:
        """Check a limit price against the tick and daily limits; return (error, upper limit)."""
        quote = self.market.quote(pdno, now)
        if not price:  # a market-type order: no price to check
            return None, quote.upper
        band = PriceBand(quote.lower, quote.upper)
        refused = venue.check_price(price, quote.instrument.market, quote.day, band)
        if refused is None:
            return None, quote.upper
        error = wire.OFF_TICK if refused.code is RejectCode.TICK else wire.OUTSIDE_LIMITS
        return error, quote.upper

    def place(self, fields: dict[str, str], buy: bool, now: datetime) -> OrderAnswer:
        """Take an order-cash request (body keys checked by the gateway, values as sent)."""
        cano, prdt = fields.get("CANO", ""), fields.get("ACNT_PRDT_CD", "")
        pdno = fields.get("PDNO", "")
        ord_dvsn = fields.get("ORD_DVSN", "")
        qty_s, price_s = fields.get("ORD_QTY", ""), fields.get("ORD_UNPR", "")
        error = self.account_error(cano, prdt)
        if error is None and self.market.instrument(pdno) is None:
            error = wire.NO_SUCH_STOCK
        error = error or self._price_error(ord_dvsn, qty_s, price_s) or self.hours_error(now)
        if error is not None:
            return OrderAnswer(error)
        qty, price = int(qty_s), int(price_s)
        error, upper = self._limit_error(pdno, price, now)
        if error is not None:
            return OrderAnswer(error)
        reserve = price or upper
        if buy and self.matcher.buy_cost(qty, reserve) > self.matcher.available_cash(cano, prdt):
            return OrderAnswer(wire.NO_CASH_VIRTUAL if self.cfg.is_virtual else wire.NO_CASH_REAL)
        if not buy and qty > self.matcher.orderable_qty(cano, prdt, pdno):
            return OrderAnswer(wire.NO_SHARES)
        order = self._record(
            cano,
            prdt,
            pdno,
            "buy" if buy else "sell",
            ord_dvsn,
            qty,
            price,
            reserve,
            "new",
            "",
            now,
        )
        order = self.matcher.match_now(order, now)
        if self.cfg.is_virtual:
            return OrderAnswer(wire.BUY_OK_VIRTUAL if buy else wire.SELL_OK_VIRTUAL, order)
        return OrderAnswer(wire.ORDER_OK_REAL, order)

    def _record(
        self,
        cano: str,
        prdt: str,
        pdno: str,
        side: str,
        ord_dvsn: str,
        qty: int,
        price: int,
        reserve: int,
        kind: str,
        orgn: str,
        now: datetime,
        status: str = "open",
    ) -> Order:
        kst = now.astimezone(KST)
        order = Order(
            self.store.next_odno(),
            cano,
            prdt,
            pdno,
            side,
            ord_dvsn,
            qty,
            price,
            0,
            0,
            qty if status == "cancelled" else 0,
            status,
            kind,
            orgn,
            kst.strftime("%Y%m%d"),
            kst.strftime("%H%M%S"),
            reserve,
            abs_minute(now),
        )
        self.store.insert_order(order)
        return order

    def revise_or_cancel(self, fields: dict[str, str], now: datetime) -> OrderAnswer:
        """Take an order-rvsecncl request: 01 revises, 02 cancels the unfilled quantity."""
        cano, prdt = fields.get("CANO", ""), fields.get("ACNT_PRDT_CD", "")
        error = self.account_error(cano, prdt)
        if error is not None:
            return OrderAnswer(error)
        if fields.get("KRX_FWDG_ORD_ORGNO") != self.orgno:
            return OrderAnswer(wire.invalid_field("KRX_FWDG_ORD_ORGNO"))
        original = self.store.order(fields.get("ORGN_ODNO", "").zfill(10))
        if original is None or original.cano != cano or original.kind == "cancel":
            return OrderAnswer(wire.NOT_REVISABLE)
        if original.remaining == 0:
            return OrderAnswer(wire.NOT_REVISABLE)
        action = fields.get("RVSE_CNCL_DVSN_CD", "")
        if action not in ("01", "02"):
            return OrderAnswer(wire.BAD_INPUT)
        if fields.get("QTY_ALL_ORD_YN", "").upper() == "Y":
            qty = original.remaining
        else:
            qty_s = fields.get("ORD_QTY", "")
            if not (qty_s.isdigit() and 0 < int(qty_s) <= original.remaining):
                return OrderAnswer(wire.BAD_QTY)
            qty = int(qty_s)
        error = self.hours_error(now)
        if error is not None:
            return OrderAnswer(error)
        ok = wire.RVSECNCL_OK_VIRTUAL if self.cfg.is_virtual else wire.ORDER_OK_REAL
        if action == "02":
            self._shrink(original, qty)
            order = self._record(
                cano,
                prdt,
                original.pdno,
                original.side,
                original.ord_dvsn,
                qty,
                original.price,
                original.reserve_price,
                "cancel",
                original.odno,
                now,
                status="cancelled",
            )
            return OrderAnswer(ok, order)
        ord_dvsn = fields.get("ORD_DVSN", original.ord_dvsn)
        price_s = fields.get("ORD_UNPR", "0")
        error = self._price_error(ord_dvsn, str(qty), price_s)
        if error is not None:
            return OrderAnswer(error)
        price = int(price_s)
        error, upper = self._limit_error(original.pdno, price, now)
        if error is not None:
            return OrderAnswer(error)
        reserve = price or upper
        if original.side == "buy":
            freed = self.matcher.buy_cost(qty, original.reserve_price)
            needed = self.matcher.buy_cost(qty, reserve)
            if needed > self.matcher.available_cash(cano, prdt) + freed:
                return OrderAnswer(
                    wire.NO_CASH_VIRTUAL if self.cfg.is_virtual else wire.NO_CASH_REAL
                )
        self._shrink(original, qty)
        order = self._record(
            cano,
            prdt,
            original.pdno,
            original.side,
            ord_dvsn,
            qty,
            price,
            reserve,
            "revise",
            original.odno,
            now,
        )
        return OrderAnswer(ok, self.matcher.match_now(order, now))

    def _shrink(self, original: Order, qty: int) -> None:
        """Take `qty` off an order's working quantity, closing it when nothing is left."""
        cancelled = original.cancelled_qty + qty
        left = original.qty - original.filled_qty - cancelled
        self.store.update_order(
            original.odno, cancelled_qty=cancelled, status="open" if left else "cancelled"
        )
