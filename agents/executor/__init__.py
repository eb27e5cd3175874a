"""The executor: the only code that sends orders, and it must never send one twice or lose one.

Its rules, in the order a pass applies them:

1. **One executor per session.** Before it reads or sends anything it takes the run's executor
   lease by compare-and-set in the database (`lease`), renews it before each
   order and each poll, and frees it at the end. A second executor on the same session (two
   approvals at once, a re-triggered run while this one follows fills) raises
   `ExecutorBusyError` and sends nothing. On top of that an order row moves to `submitting`
   only from `approved` (compare-and-set), and `place` is called only for a row this executor
   moved: whatever runs, an approved order is handed to the broker at most once.
2. **Restore.** The orders table is the executor's memory. Broker order numbers (and KIS
   branch numbers) stored there are handed back to a broker that keeps its mapping in memory
   (`RemembersOrders`, i.e. KIS).
3. **Only on the session's day, only before the approval expires.** An approval is for one KRX
   day and until `expires_at` (the approval request in state). Resumed later (a crash, a
   `trader session resume` the next morning), the executor sends nothing: approved orders not
   yet sent become `expired` with the reason. Orders left working on an earlier day are
   settled against *that* day's executions (`broker.executions(session_date)`): their fills are
   booked; an unfilled rest lapsed at that day's close (`expired`, fills kept); a row still in
   doubt, or whose order the list does not show, goes to a person (`needs_review`).
4. **Write, then send, never resend.** A row moves to `submitting` (committed) *before* `place`
   is called, and to `submitted`/`rejected` after. An order whose answer was lost (`place`
   raised or answered UNCONFIRMED), and any row found `submitting` after a restart (did `place`
   run? nobody knows), may be at the broker: it is never sent again, by this executor or
   by the broker client. It stays in doubt and is looked for in the broker's list of the day
   at every poll for the whole follow window (`fill_timeout`), because that list can lag the
   order by seconds: by client order id where the broker knows it (paper), else by ticker,
   side, quantity and price among orders placed after our row was written and not mapped to
   another of our orders (KIS). Found: it is followed like the others. Several candidates, or
   still not found when the window ends: `needs_review`, with the reason on the row, and
   `SessionContext.on_needs_review` is told.
5. **Follow fills** by polling the day's executions until every order is filled, cancelled or
   rejected, or `fill_timeout` passes; then the unfilled rest is cancelled, so nothing keeps
   working at the broker unobserved. A row becomes `cancelled` only when the broker accepted
   the cancel and its fills could be read afterwards; otherwise it may still be working and
   nobody follows it any more, so it goes to a person (`needs_review`, the reason on the row).
   A poll that fails with a temporary error is skipped, not fatal. Fills are stored
   as increments keyed by the cumulative quantity, so polling twice (or running the node
   again) never books a fill twice.

An order goes out only while the venue takes orders (`SessionContext.venue_hours`; KIS from
08:30 to 15:30 KST): a run approved before 08:30 waits for reception on the context's clock,
and an order whose window does not open before its approval expires (or within
`SessionContext.order_window_wait`) is refused for its time, `rejected`, and never sent.

The approval that led here is on disk before the first order goes out, whatever durability
the caller resumed with: `review` commits the decisions to our database first, and a re-run
after a crash carries out what is recorded (`graphs.nodes.approval`).

The package, by concern: `node` (the graph node), `lifecycle` (one pass: the order state
machine), `reconcile` (rows against the broker's list), `books` (the rows and fills, written
through `db.order_books`), `lease` (one executor per session), `models` (mandate, outcome).
"""

from agents.executor.lease import ExecutorLease
from agents.executor.lifecycle import Executor
from agents.executor.models import (
    FILLS_KEY,
    FillProgress,
    Mandate,
    OrderOutcome,
    average_price,
)
from agents.executor.node import executor, mandate_for

__all__ = [
    "FILLS_KEY",
    "Executor",
    "ExecutorLease",
    "FillProgress",
    "Mandate",
    "OrderOutcome",
    "average_price",
    "executor",
    "mandate_for",
]
