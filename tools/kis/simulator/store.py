"""The simulated broker's books: accounts, positions, orders, executions and tokens in SQLite.

One SQLite file (stdlib sqlite3, WAL) may be opened by several processes at once: every change
runs in a ``BEGIN IMMEDIATE`` transaction, so a session resumed in another process continues
against the same broker. Without a path the books live in memory for the life of the process.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools.sqlite_books import SqliteBooks

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS accounts (
    cano TEXT NOT NULL, prdt TEXT NOT NULL, cash INTEGER NOT NULL, PRIMARY KEY (cano, prdt));
CREATE TABLE IF NOT EXISTS positions (
    cano TEXT NOT NULL, prdt TEXT NOT NULL, pdno TEXT NOT NULL,
    qty INTEGER NOT NULL, cost INTEGER NOT NULL, PRIMARY KEY (cano, prdt, pdno));
CREATE TABLE IF NOT EXISTS orders (
    odno TEXT PRIMARY KEY, cano TEXT NOT NULL, prdt TEXT NOT NULL, pdno TEXT NOT NULL,
    side TEXT NOT NULL, ord_dvsn TEXT NOT NULL, qty INTEGER NOT NULL, price INTEGER NOT NULL,
    filled_qty INTEGER NOT NULL DEFAULT 0, filled_amt INTEGER NOT NULL DEFAULT 0,
    cancelled_qty INTEGER NOT NULL DEFAULT 0, status TEXT NOT NULL, kind TEXT NOT NULL,
    orgn_odno TEXT NOT NULL DEFAULT '', ord_dt TEXT NOT NULL, ord_tmd TEXT NOT NULL,
    reserve_price INTEGER NOT NULL, checked_minute INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS executions (
    id INTEGER PRIMARY KEY AUTOINCREMENT, odno TEXT NOT NULL, cano TEXT NOT NULL,
    prdt TEXT NOT NULL, pdno TEXT NOT NULL, side TEXT NOT NULL, qty INTEGER NOT NULL,
    price INTEGER NOT NULL, commission INTEGER NOT NULL, tax INTEGER NOT NULL,
    exec_dt TEXT NOT NULL, exec_tmd TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tokens (
    token TEXT PRIMARY KEY, appkey TEXT NOT NULL, issued_at REAL NOT NULL,
    expires_at REAL NOT NULL, revoked INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS token_issues (appkey TEXT PRIMARY KEY, last_at REAL NOT NULL);
"""
_TABLES = ("meta", "accounts", "positions", "orders", "executions", "tokens", "token_issues")


@dataclass(frozen=True, slots=True)
class Order:
    """An order as the broker holds it. `kind` is new, revise or cancel; `status` open or done."""

    odno: str
    cano: str
    prdt: str
    pdno: str
    side: str
    """"buy" or "sell"."""
    ord_dvsn: str
    qty: int
    price: int
    """Limit price; 0 for market-type orders."""
    filled_qty: int
    filled_amt: int
    cancelled_qty: int
    status: str
    kind: str
    orgn_odno: str
    ord_dt: str
    ord_tmd: str
    reserve_price: int
    """Price the unfilled quantity of a buy holds cash at (the limit, or the upper limit)."""
    checked_minute: int
    """Last absolute minute (epoch seconds // 60) the matcher looked at for this order."""

    @property
    def remaining(self) -> int:
        """Return the quantity still waiting to be filled."""
        if self.status != "open":
            return 0
        return self.qty - self.filled_qty - self.cancelled_qty

    @property
    def is_market(self) -> bool:
        """Tell whether the order has no limit price."""
        return self.price == 0


@dataclass(frozen=True, slots=True)
class Execution:
    """One fill."""

    odno: str
    pdno: str
    side: str
    qty: int
    price: int
    commission: int
    tax: int
    exec_dt: str
    exec_tmd: str


@dataclass(frozen=True, slots=True)
class Position:
    """Shares held and what they cost (purchase amount, excluding fees)."""

    pdno: str
    qty: int
    cost: int


class Store(SqliteBooks):
    """SQLite-backed books, safe to share between threads and processes."""

    def __init__(self, path: Path | str | None = None) -> None:
        """Open (creating if needed) the store at `path`, or an in-memory one."""
        super().__init__(path, _SCHEMA)

    def reset(self) -> None:
        """Wipe every account, order, execution and token."""
        with self.transaction() as conn:
            for table in _TABLES:
                conn.execute(f"DELETE FROM {table}")

    # --- accounts and positions ----------------------------------------------------------------
    def open_account(self, cano: str, prdt: str, cash: int) -> None:
        """Create the account with its starting cash unless it already exists."""
        with self.transaction() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO accounts (cano, prdt, cash) VALUES (?, ?, ?)",
                (cano, prdt, cash),
            )

    def cash(self, cano: str, prdt: str) -> int | None:
        """Return the account's cash, or None when the account does not exist."""
        rows = self.query("SELECT cash FROM accounts WHERE cano=? AND prdt=?", (cano, prdt))
        return int(rows[0]["cash"]) if rows else None

    def positions(self, cano: str, prdt: str) -> list[Position]:
        """Return the holdings (including ones sold down to zero today), by ticker."""
        rows = self.query(
            "SELECT pdno, qty, cost FROM positions WHERE cano=? AND prdt=? ORDER BY pdno",
            (cano, prdt),
        )
        return [Position(r["pdno"], int(r["qty"]), int(r["cost"])) for r in rows]

    def position(self, cano: str, prdt: str, pdno: str) -> Position:
        """Return one holding (zero when none)."""
        rows = self.query(
            "SELECT pdno, qty, cost FROM positions WHERE cano=? AND prdt=? AND pdno=?",
            (cano, prdt, pdno),
        )
        return (
            Position(pdno, int(rows[0]["qty"]), int(rows[0]["cost"]))
            if rows
            else Position(pdno, 0, 0)
        )

    # --- orders and fills ----------------------------------------------------------------------
    def next_odno(self) -> str:
        """Return the next 10-digit order number."""
        with self.transaction() as conn:
            row = conn.execute("SELECT value FROM meta WHERE key='odno'").fetchone()
            value = int(row["value"]) + 1 if row else 1
            conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('odno', ?)", (value,))
        return f"{value:010d}"

    def insert_order(self, order: Order) -> None:
        """Record a new order."""
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO orders VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    order.odno,
                    order.cano,
                    order.prdt,
                    order.pdno,
                    order.side,
                    order.ord_dvsn,
                    order.qty,
                    order.price,
                    order.filled_qty,
                    order.filled_amt,
                    order.cancelled_qty,
                    order.status,
                    order.kind,
                    order.orgn_odno,
                    order.ord_dt,
                    order.ord_tmd,
                    order.reserve_price,
                    order.checked_minute,
                ),
            )

    def update_order(self, odno: str, **fields: Any) -> None:
        """Change some columns of an order."""
        cols = ", ".join(f"{name}=?" for name in fields)
        with self.transaction() as conn:
            conn.execute(f"UPDATE orders SET {cols} WHERE odno=?", (*fields.values(), odno))

    def orders(self, where: str = "1=1", params: tuple[Any, ...] = ()) -> list[Order]:
        """Return orders matching a SQL condition, by order number."""
        rows = self.query(f"SELECT * FROM orders WHERE {where} ORDER BY odno", params)
        return [Order(**dict(r)) for r in rows]

    def order(self, odno: str) -> Order | None:
        """Return one order."""
        found = self.orders("odno=?", (odno,))
        return found[0] if found else None

    def book_fill(self, order: Order, execution: Execution, cash_delta: int) -> None:
        """Apply one fill: the order's totals, the position and the cash, atomically."""
        with self.transaction() as conn:
            conn.execute(
                "UPDATE orders SET filled_qty=filled_qty+?, filled_amt=filled_amt+? WHERE odno=?",
                (execution.qty, execution.qty * execution.price, order.odno),
            )
            pos = self.position(order.cano, order.prdt, order.pdno)
            if order.side == "buy":
                qty, cost = pos.qty + execution.qty, pos.cost + execution.qty * execution.price
            else:
                qty = pos.qty - execution.qty
                cost = pos.cost - (pos.cost * execution.qty // pos.qty if pos.qty else 0)
            conn.execute(
                "INSERT OR REPLACE INTO positions VALUES (?,?,?,?,?)",
                (order.cano, order.prdt, order.pdno, qty, cost if qty else 0),
            )
            conn.execute(
                "UPDATE accounts SET cash=cash+? WHERE cano=? AND prdt=?",
                (cash_delta, order.cano, order.prdt),
            )
            conn.execute(
                "INSERT INTO executions (odno, cano, prdt, pdno, side, qty, price, commission,"
                " tax, exec_dt, exec_tmd) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (
                    execution.odno,
                    order.cano,
                    order.prdt,
                    execution.pdno,
                    execution.side,
                    execution.qty,
                    execution.price,
                    execution.commission,
                    execution.tax,
                    execution.exec_dt,
                    execution.exec_tmd,
                ),
            )

    def executions(
        self, cano: str, prdt: str, where: str = "1=1", params: tuple[Any, ...] = ()
    ) -> list[Execution]:
        """Return the account's fills matching a condition, oldest first."""
        rows = self.query(
            "SELECT odno, pdno, side, qty, price, commission, tax, exec_dt, exec_tmd FROM"
            f" executions WHERE cano=? AND prdt=? AND {where} ORDER BY id",
            (cano, prdt, *params),
        )
        return [Execution(**dict(r)) for r in rows]
