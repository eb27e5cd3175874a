"""The paper account's books: cash, positions, orders and fills in one SQLite file.

Why SQLite and not the application database: the paper broker stands in for a broker, whose books
live outside our own; keeping them in a file of their own means the executor's reconciliation
against "the broker" is as honest in paper mode as against KIS.

One file (stdlib sqlite3, WAL) may be opened by several processes one after another or at once:
every change runs in a ``BEGIN IMMEDIATE`` transaction, so a session resumed in another process
continues against the same paper account and sees the orders the first one placed. Without a
path the books live in memory for the life of the store.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from core.orders import OrderType, Side
from tools.krx.rules import Market
from tools.sqlite_books import SqliteBooks

_SCHEMA = """
CREATE TABLE IF NOT EXISTS accounts (
    account TEXT PRIMARY KEY, cash INTEGER NOT NULL, starting_cash INTEGER NOT NULL,
    next_order_seq INTEGER NOT NULL DEFAULT 1);
CREATE TABLE IF NOT EXISTS positions (
    account TEXT NOT NULL, ticker TEXT NOT NULL, name TEXT NOT NULL,
    qty INTEGER NOT NULL, cost INTEGER NOT NULL, PRIMARY KEY (account, ticker));
CREATE TABLE IF NOT EXISTS orders (
    account TEXT NOT NULL, broker_order_id TEXT NOT NULL, client_order_id TEXT NOT NULL,
    ticker TEXT NOT NULL, market TEXT NOT NULL, side TEXT NOT NULL, order_type TEXT NOT NULL,
    qty INTEGER NOT NULL, limit_price INTEGER NOT NULL,
    filled_qty INTEGER NOT NULL DEFAULT 0, filled_amt INTEGER NOT NULL DEFAULT 0,
    cancelled_qty INTEGER NOT NULL DEFAULT 0, status TEXT NOT NULL,
    krx_day TEXT NOT NULL, ordered_at TEXT NOT NULL,
    PRIMARY KEY (account, broker_order_id), UNIQUE (account, client_order_id));
CREATE INDEX IF NOT EXISTS orders_by_day ON orders (account, krx_day);
CREATE INDEX IF NOT EXISTS orders_by_status ON orders (account, status);
CREATE TABLE IF NOT EXISTS fills (
    id INTEGER PRIMARY KEY AUTOINCREMENT, account TEXT NOT NULL,
    broker_order_id TEXT NOT NULL, ticker TEXT NOT NULL, side TEXT NOT NULL,
    qty INTEGER NOT NULL, price INTEGER NOT NULL, commission INTEGER NOT NULL,
    tax INTEGER NOT NULL, cash_delta INTEGER NOT NULL, krx_day TEXT NOT NULL,
    settles_on TEXT NOT NULL, filled_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS fills_by_settlement ON fills (account, settles_on);
"""

OPEN = "open"
FILLED = "filled"
CANCELLED = "cancelled"
EXPIRED = "expired"


class UnknownAccountError(LookupError):
    """The account was never opened in this store."""


@dataclass(frozen=True, slots=True)
class PaperOrder:
    """An order as the paper books hold it."""

    account: str
    broker_order_id: str
    client_order_id: str
    ticker: str
    market: Market
    """The instrument's market at placing time; decides the sale tax (ETFs pay none)."""
    side: Side
    order_type: OrderType
    qty: int
    limit_price: int
    """0 for a market order."""
    filled_qty: int
    filled_amt: int
    """Sum of price × qty over the fills, before costs."""
    cancelled_qty: int
    status: str
    """open, filled, cancelled or expired."""
    krx_day: date
    ordered_at: datetime

    @property
    def remaining(self) -> int:
        """Return the quantity that may still fill (0 once the order is done)."""
        if self.status != OPEN:
            return 0
        return self.qty - self.filled_qty - self.cancelled_qty


@dataclass(frozen=True, slots=True)
class PaperPosition:
    """Shares held and what they cost, buy commission included."""

    ticker: str
    name: str
    qty: int
    cost: int


@dataclass(frozen=True, slots=True)
class PaperFill:
    """One fill and the cash it moved (negative for a buy)."""

    broker_order_id: str
    ticker: str
    side: Side
    qty: int
    price: int
    commission: int
    tax: int
    cash_delta: int
    krx_day: date
    settles_on: date
    filled_at: datetime


class PaperStore(SqliteBooks):
    """SQLite-backed paper books, safe to share between threads and processes."""

    def __init__(self, path: Path | str | None = None) -> None:
        """Open (creating if needed) the books at `path`, or in memory when `path` is None."""
        super().__init__(path, _SCHEMA)

    def _query(self, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        return self.query(sql, params)

    def _execute(self, sql: str, params: tuple[Any, ...] = ()) -> None:
        with self.transaction():
            self._conn.execute(sql, params)

    # --- cash ---------------------------------------------------------------------------------

    def open_account(self, account: str, starting_cash: int) -> None:
        """Create the account with its starting cash; an existing account is left as it is."""
        self._execute(
            "INSERT OR IGNORE INTO accounts (account, cash, starting_cash) VALUES (?, ?, ?)",
            (account, starting_cash, starting_cash),
        )

    def cash(self, account: str) -> int:
        """Return the account's cash after every fill so far."""
        rows = self._query("SELECT cash FROM accounts WHERE account=?", (account,))
        if not rows:
            raise UnknownAccountError(f"paper account {account!r} is not open")
        return int(rows[0]["cash"])

    def unsettled_cash(self, account: str, today: date) -> int:
        """Return the net cash of fills that settle after `today` (negative after buys)."""
        rows = self._query(
            "SELECT COALESCE(SUM(cash_delta), 0) AS total FROM fills "
            "WHERE account=? AND settles_on>?",
            (account, today.isoformat()),
        )
        return int(rows[0]["total"])

    def next_order_id(self, account: str) -> str:
        """Reserve the account's next broker order id (call inside a transaction)."""
        with self.transaction():
            rows = self._query("SELECT next_order_seq FROM accounts WHERE account=?", (account,))
            if not rows:
                raise UnknownAccountError(f"paper account {account!r} is not open")
            seq = int(rows[0]["next_order_seq"])
            self._conn.execute(
                "UPDATE accounts SET next_order_seq=? WHERE account=?", (seq + 1, account)
            )
        return f"P{seq:010d}"

    # --- positions ----------------------------------------------------------------------------

    def positions(self, account: str) -> list[PaperPosition]:
        """Return the holdings with shares, by ticker."""
        rows = self._query(
            "SELECT ticker, name, qty, cost FROM positions WHERE account=? AND qty>0 "
            "ORDER BY ticker",
            (account,),
        )
        return [_position(r) for r in rows]

    def position(self, account: str, ticker: str) -> PaperPosition:
        """Return one holding (zero shares when none)."""
        rows = self._query(
            "SELECT ticker, name, qty, cost FROM positions WHERE account=? AND ticker=?",
            (account, ticker),
        )
        return _position(rows[0]) if rows else PaperPosition(ticker, "", 0, 0)

    # --- orders -------------------------------------------------------------------------------

    def insert_order(self, order: PaperOrder) -> None:
        """Store a new order."""
        self._execute(
            "INSERT INTO orders (account, broker_order_id, client_order_id, ticker, market, "
            "side, order_type, qty, limit_price, filled_qty, filled_amt, cancelled_qty, status, "
            "krx_day, ordered_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                order.account,
                order.broker_order_id,
                order.client_order_id,
                order.ticker,
                order.market.value,
                order.side.value,
                order.order_type.value,
                order.qty,
                order.limit_price,
                order.filled_qty,
                order.filled_amt,
                order.cancelled_qty,
                order.status,
                order.krx_day.isoformat(),
                order.ordered_at.isoformat(),
            ),
        )

    def order_by_client_id(self, account: str, client_order_id: str) -> PaperOrder | None:
        """Return the order placed under `client_order_id`, if any."""
        rows = self._query(
            "SELECT * FROM orders WHERE account=? AND client_order_id=?",
            (account, client_order_id),
        )
        return _order(rows[0]) if rows else None

    def open_orders(self, account: str) -> list[PaperOrder]:
        """Return the orders that may still fill, oldest first."""
        rows = self._query(
            "SELECT * FROM orders WHERE account=? AND status=? ORDER BY broker_order_id",
            (account, OPEN),
        )
        return [_order(r) for r in rows]

    def orders_on(self, account: str, day: date) -> list[PaperOrder]:
        """Return the orders placed on KRX date `day`, oldest first."""
        rows = self._query(
            "SELECT * FROM orders WHERE account=? AND krx_day=? ORDER BY broker_order_id",
            (account, day.isoformat()),
        )
        return [_order(r) for r in rows]

    def close_order(self, order: PaperOrder, status: str) -> None:
        """End an open order: its unfilled rest is cancelled (by request or at day end)."""
        self._execute(
            "UPDATE orders SET cancelled_qty=qty-filled_qty, status=? "
            "WHERE account=? AND broker_order_id=? AND status=?",
            (status, order.account, order.broker_order_id, OPEN),
        )

    # --- fills --------------------------------------------------------------------------------

    def record_fill(self, order: PaperOrder, fill: PaperFill, name: str) -> None:
        """Book a fill: the order's progress, the position, the cash and the fill row, at once.

        A buy adds its value plus commission to the position's cost; a sell takes off the sold
        shares' share of the cost (floored to the won), so the average price of what is left
        stays put to within a won's rounding.
        """
        with self.transaction():
            self._conn.execute(
                "UPDATE orders SET filled_qty=filled_qty+?, filled_amt=filled_amt+?, "
                "status=CASE WHEN filled_qty+?>=qty THEN ? ELSE status END "
                "WHERE account=? AND broker_order_id=?",
                (
                    fill.qty,
                    fill.qty * fill.price,
                    fill.qty,
                    FILLED,
                    order.account,
                    order.broker_order_id,
                ),
            )
            held = self.position(order.account, order.ticker)
            if fill.side is Side.BUY:
                qty, cost = held.qty + fill.qty, held.cost - fill.cash_delta
            else:
                if fill.qty > held.qty:
                    raise ValueError(f"selling {fill.qty} {order.ticker} with only {held.qty} held")
                qty = held.qty - fill.qty
                cost = held.cost - held.cost * fill.qty // held.qty
            self._conn.execute(
                "INSERT INTO positions (account, ticker, name, qty, cost) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (account, ticker) DO UPDATE SET qty=excluded.qty, "
                "cost=excluded.cost, name=CASE WHEN excluded.name='' THEN positions.name "
                "ELSE excluded.name END",
                (order.account, order.ticker, name, qty, cost),
            )
            self._conn.execute(
                "UPDATE accounts SET cash=cash+? WHERE account=?",
                (fill.cash_delta, order.account),
            )
            self._conn.execute(
                "INSERT INTO fills (account, broker_order_id, ticker, side, qty, price, "
                "commission, tax, cash_delta, krx_day, settles_on, filled_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    order.account,
                    fill.broker_order_id,
                    fill.ticker,
                    fill.side.value,
                    fill.qty,
                    fill.price,
                    fill.commission,
                    fill.tax,
                    fill.cash_delta,
                    fill.krx_day.isoformat(),
                    fill.settles_on.isoformat(),
                    fill.filled_at.isoformat(),
                ),
            )

    def fills(self, account: str, day: date) -> list[PaperFill]:
        """Return the fills of KRX date `day`, in booking order."""
        rows = self._query(
            "SELECT * FROM fills WHERE account=? AND krx_day=? ORDER BY id",
            (account, day.isoformat()),
        )
        return [
            PaperFill(
                broker_order_id=r["broker_order_id"],
                ticker=r["ticker"],
                side=Side(r["side"]),
                qty=int(r["qty"]),
                price=int(r["price"]),
                commission=int(r["commission"]),
                tax=int(r["tax"]),
                cash_delta=int(r["cash_delta"]),
                krx_day=date.fromisoformat(r["krx_day"]),
                settles_on=date.fromisoformat(r["settles_on"]),
                filled_at=datetime.fromisoformat(r["filled_at"]),
            )
            for r in rows
        ]


def _position(row: sqlite3.Row) -> PaperPosition:
    return PaperPosition(row["ticker"], row["name"], int(row["qty"]), int(row["cost"]))


def _order(row: sqlite3.Row) -> PaperOrder:
    return PaperOrder(
        account=row["account"],
        broker_order_id=row["broker_order_id"],
        client_order_id=row["client_order_id"],
        ticker=row["ticker"],
        market=Market(row["market"]),
        side=Side(row["side"]),
        order_type=OrderType(row["order_type"]),
        qty=int(row["qty"]),
        limit_price=int(row["limit_price"]),
        filled_qty=int(row["filled_qty"]),
        filled_amt=int(row["filled_amt"]),
        cancelled_qty=int(row["cancelled_qty"]),
        status=row["status"],
        krx_day=date.fromisoformat(row["krx_day"]),
        ordered_at=datetime.fromisoformat(row["ordered_at"]),
    )
