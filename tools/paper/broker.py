"""`PaperBroker`: the broker protocol on a simulated account, filling against market data.

Paper trading is a broker of its own, not a switch inside the KIS one: the executor talks to
whichever `Broker` the entry point built (`TRADING_MODE=paper` builds this one). Fills follow
`tools.paper.matching`, the checks at placing time `tools.paper.checks` (reason codes there).

Resting orders are re-checked lazily: every `place`, `cancel`, `executions` and
`account_snapshot` first fetches fresh quotes for the tickers with open orders and fills what
now crosses; an order still open when its KRX day ends (the session closes, or the KST date
moves on in `always_open` mode) expires with its rest cancelled.

Cash moves at fill time, so sale proceeds can be reused the same day as at KIS. The snapshot's
`deposit` is the cash as settled today (fills that settle at T+2 are not yet in it) and
`settled_d2` the cash once every fill has settled, which is what the books hold now.

The books are a SQLite file: every read and write of them runs in a worker thread, so a served
graph's event loop never waits on the store (`langgraph dev` fails runs that block it).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import date, datetime
from decimal import Decimal

from core.clock import KST, Clock
from core.orders import OrderType, PlacementStatus, Side
from tools.broker import (
    AccountSnapshot,
    CashBalance,
    Execution,
    OrderAck,
    OrderRequest,
    Position,
    UnknownOrderError,
)
from tools.krx import venue
from tools.krx.costs import CostModel
from tools.krx.venue import FillRules
from tools.market_data import MarketData, MarketQuote
from tools.paper import checks
from tools.paper.checks import AccountRoom, Rejection, check_order, reserve_for_buy
from tools.paper.matching import PAPER_FILL_RULES, fill, krx_day, market_open
from tools.paper.store import (
    CANCELLED,
    EXPIRED,
    OPEN,
    PaperFill,
    PaperOrder,
    PaperPosition,
    PaperStore,
)

log = logging.getLogger(__name__)

_PRICE_QUANTUM = Decimal("0.0001")


class PaperBroker:
    """The `tools.broker.Broker` protocol over a paper account kept in a `PaperStore`."""

    def __init__(
        self,
        market: MarketData,
        *,
        store: PaperStore,
        clock: Clock,
        cost_model: CostModel,
        starting_cash_krw: int,
        account: str = "paper",
        always_open: bool = False,
        fill_rules: FillRules = PAPER_FILL_RULES,
    ) -> None:
        """Bind the books and open the account with `starting_cash_krw` if it is new.

        Args:
            market: where prices come from (fills and the snapshot's valuations).
            store: the books; the broker does not own them (close the store yourself).
            clock: the time, which decides the session and the KRX day of every order.
            cost_model: commission and sale tax.
            starting_cash_krw: cash of the account when the store first sees it; ignored later.
            account: the account's name inside the store (several may share one file).
            always_open: keep the market open at any hour (demos and tests).
            fill_rules: the venue model's realism rules (default: the limit lock; a quote has
                no volume, so a volume cap has nothing to cap).
        """
        if starting_cash_krw < 0:
            raise ValueError("starting cash cannot be negative")
        self.market = market
        self.store = store
        self.clock = clock
        self.cost_model = cost_model
        self.account = account
        self.always_open = always_open
        self.fill_rules = fill_rules
        store.open_account(account, starting_cash_krw)

    # --- the protocol -------------------------------------------------------------------------

    async def account_snapshot(self) -> AccountSnapshot:
        """Return cash and positions valued at the last prices, after re-checking open orders."""
        held = [p.ticker for p in await asyncio.to_thread(self.store.positions, self.account)]
        quotes = await self._quotes(held)
        now = self.clock.now()

        def book() -> tuple[dict[str, int], list[PaperPosition], int, int]:
            self._sweep(quotes, now)
            return (
                self._offered_qty(),
                self.store.positions(self.account),
                self.store.cash(self.account),
                self.store.unsettled_cash(self.account, krx_day(now)),
            )

        offered, holdings, cash, unsettled = await asyncio.to_thread(book)
        positions = []
        for held_pos in holdings:
            quote = quotes.get(held_pos.ticker) or await self.market.quote(held_pos.ticker)
            value = quote.last_price_krw * held_pos.qty
            positions.append(
                Position(
                    ticker=held_pos.ticker,
                    name=held_pos.name or quote.name,
                    qty=held_pos.qty,
                    sellable_qty=held_pos.qty - offered.get(held_pos.ticker, 0),
                    avg_price=(Decimal(held_pos.cost) / held_pos.qty).quantize(_PRICE_QUANTUM),
                    last_price=quote.last_price_krw,
                    market_value=value,
                    unrealized_pnl=value - held_pos.cost,
                )
            )
        balance = CashBalance(
            deposit=cash - unsettled,
            settled_d2=cash,
            total_eval=cash + sum(p.market_value for p in positions),
        )
        return AccountSnapshot(as_of=now, cash=balance, positions=positions)

    async def place(self, order: OrderRequest) -> OrderAck:
        """Place `order` once per client_order_id; a known id answers the stored order."""
        known = await asyncio.to_thread(
            self.store.order_by_client_id, self.account, order.client_order_id
        )
        if known is not None:
            return _accepted(known)
        quotes = await self._quotes([order.ticker])
        return await asyncio.to_thread(self._book_order, order, quotes)

    def _book_order(self, order: OrderRequest, quotes: dict[str, MarketQuote]) -> OrderAck:
        """Check and store an order, and fill what the quote crosses (in a worker thread)."""
        quote = quotes[order.ticker]
        now = self.clock.now()
        day = krx_day(now)
        with self.store.transaction():
            known = self.store.order_by_client_id(self.account, order.client_order_id)
            if known is not None:
                return _accepted(known)
            self._sweep(quotes, now)
            rejection = check_order(
                order,
                quote,
                self._room(order.ticker),
                is_open=market_open(now, always_open=self.always_open),
                day=day,
                cost_model=self.cost_model,
            )
            if rejection is not None:
                log.info("paper order %s rejected: %s", order.client_order_id, rejection.reason)
                return _rejected(order.client_order_id, rejection)
            placed = PaperOrder(
                account=self.account,
                broker_order_id=self.store.next_order_id(self.account),
                client_order_id=order.client_order_id,
                ticker=order.ticker,
                market=quote.market,
                side=order.side,
                order_type=order.order_type,
                qty=order.qty,
                limit_price=order.limit_price or 0,
                filled_qty=0,
                filled_amt=0,
                cancelled_qty=0,
                status=OPEN,
                krx_day=day,
                ordered_at=now.astimezone(KST),
            )
            self.store.insert_order(placed)
            self._try_fill(placed, quote, now)
        log.info("paper order %s placed as %s", order.client_order_id, placed.broker_order_id)
        return _accepted(placed)

    async def cancel(self, client_order_id: str) -> OrderAck:
        """Cancel the unfilled rest of an order; a finished order answers REJECTED."""
        known = await asyncio.to_thread(
            self.store.order_by_client_id, self.account, client_order_id
        )
        if known is None:
            raise UnknownOrderError(f"no paper order is known for {client_order_id}")
        quotes = await self._quotes([])
        return await asyncio.to_thread(self._cancel_order, client_order_id, quotes)

    def _cancel_order(self, client_order_id: str, quotes: dict[str, MarketQuote]) -> OrderAck:
        """Close the unfilled rest of an order (in a worker thread)."""
        with self.store.transaction():
            self._sweep(quotes, self.clock.now())
            order = self.store.order_by_client_id(self.account, client_order_id)
            assert order is not None  # orders are never deleted
            if order.status != OPEN:
                return OrderAck(
                    client_order_id=client_order_id,
                    status=PlacementStatus.REJECTED,
                    broker_order_id=order.broker_order_id,
                    reason_code=checks.NOT_OPEN,
                    reason=f"the order is already {order.status}",
                )
            self.store.close_order(order, CANCELLED)
        return OrderAck(
            client_order_id=client_order_id,
            status=PlacementStatus.ACCEPTED,
            broker_order_id=order.broker_order_id,
            accepted_at=self.clock.now().astimezone(KST),
        )

    async def executions(self, day: date) -> list[Execution]:
        """Return the orders of KRX date `day` with their fills, after re-checking open orders."""
        quotes = await self._quotes([])

        def book() -> list[Execution]:
            self._sweep(quotes, self.clock.now())
            return [_execution(o) for o in self.store.orders_on(self.account, day)]

        return await asyncio.to_thread(book)

    # --- matching -----------------------------------------------------------------------------

    async def _quotes(self, tickers: list[str]) -> dict[str, MarketQuote]:
        """Fetch quotes for `tickers` and every ticker with an open order, concurrently."""
        open_orders = await asyncio.to_thread(self.store.open_orders, self.account)
        wanted = sorted({*tickers, *(o.ticker for o in open_orders)})
        fetched = await asyncio.gather(*(self.market.quote(t) for t in wanted))
        return dict(zip(wanted, fetched, strict=True))

    def _sweep(self, quotes: dict[str, MarketQuote], now: datetime) -> None:
        """Expire orders whose KRX day is over and fill those the quotes now cross."""
        today = krx_day(now)
        is_open = market_open(now, always_open=self.always_open)
        with self.store.transaction():
            for order in self.store.open_orders(self.account):
                if order.krx_day != today or not is_open:
                    self.store.close_order(order, EXPIRED)
                    log.info("paper order %s expired", order.client_order_id)
                    continue
                quote = quotes.get(order.ticker)
                if quote is not None:
                    # An order placed by another process after our quotes were fetched waits
                    # for the next call.
                    self._try_fill(order, quote, now)

    def _try_fill(self, order: PaperOrder, quote: MarketQuote, now: datetime) -> None:
        if order.remaining <= 0:
            return
        day = krx_day(now)
        matched = fill(
            order.side,
            order.order_type,
            order.limit_price,
            order.remaining,
            quote,
            day,
            self.fill_rules,
        )
        if matched is None:
            return
        price = matched.price
        costs = venue.fill_costs(
            order.side,
            matched.qty,
            price,
            market=order.market,
            day=day,
            cost_model=self.cost_model,
        )
        booked = PaperFill(
            broker_order_id=order.broker_order_id,
            ticker=order.ticker,
            side=order.side,
            qty=matched.qty,
            price=price,
            commission=costs.commission,
            tax=costs.tax,
            cash_delta=costs.cash_delta,
            krx_day=day,
            settles_on=costs.settles_on,
            filled_at=now,
        )
        self.store.record_fill(order, booked, quote.name)
        log.info(
            "paper fill %s: %s %d %s at %d",
            order.client_order_id,
            order.side.value,
            booked.qty,
            order.ticker,
            price,
        )

    def _room(self, ticker: str) -> AccountRoom:
        """Return the cash and shares of `ticker` not committed to open orders."""
        held_back = 0
        for order in self.store.open_orders(self.account):
            if order.side is Side.BUY:
                held_back += reserve_for_buy(order.limit_price, order.remaining, self.cost_model)
        held = self.store.position(self.account, ticker).qty
        return AccountRoom(
            free_cash=self.store.cash(self.account) - held_back,
            sellable_qty=held - self._offered_qty().get(ticker, 0),
        )

    def _offered_qty(self) -> dict[str, int]:
        """Return the shares offered by open sell orders, per ticker."""
        offered: dict[str, int] = {}
        for order in self.store.open_orders(self.account):
            if order.side is Side.SELL:
                offered[order.ticker] = offered.get(order.ticker, 0) + order.remaining
        return offered


def _accepted(order: PaperOrder) -> OrderAck:
    return OrderAck(
        client_order_id=order.client_order_id,
        status=PlacementStatus.ACCEPTED,
        broker_order_id=order.broker_order_id,
        accepted_at=order.ordered_at,
    )


def _rejected(client_order_id: str, rejection: Rejection) -> OrderAck:
    return OrderAck(
        client_order_id=client_order_id,
        status=PlacementStatus.REJECTED,
        reason_code=rejection.code,
        reason=rejection.reason,
    )


def _execution(order: PaperOrder) -> Execution:
    avg = (
        (Decimal(order.filled_amt) / order.filled_qty).quantize(_PRICE_QUANTUM)
        if order.filled_qty
        else Decimal(0)
    )
    return Execution(
        broker_order_id=order.broker_order_id,
        client_order_id=order.client_order_id,
        ticker=order.ticker,
        side=order.side,
        ordered_qty=order.qty,
        limit_price=order.limit_price if order.order_type is OrderType.LIMIT else 0,
        filled_qty=order.filled_qty,
        avg_fill_price=avg,
        remaining_qty=order.remaining,
        ordered_at=order.ordered_at.astimezone(KST),
    )
