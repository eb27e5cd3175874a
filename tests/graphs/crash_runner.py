"""A trading session on the demo venue, run as a separate process so a test can SIGKILL it.

    python -m tests.graphs.crash_runner run      --db URL --data DIR --thread T --epoch E
        [--crash POINT --marker FILE]
    python -m tests.graphs.crash_runner continue --db URL --data DIR --thread T --epoch E

`run` starts the session, stops at the approval interrupt and resumes it with `approve_all`
(durability "sync", as the CLI does). With `--crash`, the broker is wrapped so that at POINT
the process writes the marker file and then hangs, for the parent to kill it right there:

- `before-first-place`: the first order's row says `submitting`; nothing reached the broker.
- `after-first-place`: the broker holds the first order; our row still says `submitting`.
- `before-second-place`: the first order is at the broker and recorded as submitted.
- `in-follow`: every order was sent and recorded; the executor is following the fills.

`continue` is the fresh process: it invokes the same thread with no input, which continues
from the last checkpoint (the approval was answered and stored before the executor started).
The killed process still holds the session's executor lease (`LEASE_TTL_S`, short here): until
it lapses the executor refuses with `ExecutorBusyError`, and `continue` tries again.

`propose` runs the session to the approval interrupt and stops there. `approve` waits for the
file `--go` to exist, then answers the interrupt with `approve_all` (so two such processes
resume one waiting session at the same moment); with `--hold S` its broker stalls S seconds at
its first look at the executions, inside the executor, so the other one arrives meanwhile.
An `approve` that finds another executor on the session prints `{"busy": message}`.

Every action prints one JSON line with the client order ids the risk manager proposed (`run`, up to
the interrupt) or the executor's outcomes (at the end). The broker is the in-process KIS
simulator; its books live in DIR (as with `trader session run --demo`), so they outlive the
killed process. The clock is the wall clock moved to a fixed trading day (`EPOCH` is the
shared origin), so every process sees the same session day and time moves on for fills.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from langgraph.types import Command

from core.clock import KST
from core.errors import ExecutorBusyError
from db import migrate
from db.checkpointer import open_async_checkpointer
from graphs.trading_session import build_graph
from tools.broker import AccountSnapshot, Broker, Execution, OrderAck, OrderRequest
from tools.kis.broker import KISBroker
from trader.settings import Settings
from trader.wiring.context import open_session_context

SESSION_START = datetime(2025, 6, 10, 10, 0, tzinfo=KST)
"""A Tuesday morning: a trading day, the market open."""
SESSION_DATE = SESSION_START.date()
TICKERS = ("051910", "035420", "069500", "005380")
CRASH_POINTS = ("before-first-place", "after-first-place", "before-second-place", "in-follow")
HANG_S = 600.0
LEASE_TTL_S = 2.0
"""The executor lease of every process here: a killed one blocks a resume this long."""
BUSY_RETRY_S = 30.0


class ShiftedClock:
    """The wall clock moved so that `epoch` (seconds since 1970) reads as `start`."""

    def __init__(self, start: datetime, epoch: float) -> None:
        """Map the instant `epoch` to `start`; time then runs at the normal rate."""
        self.offset = start.astimezone(UTC) - datetime.fromtimestamp(epoch, UTC)

    def now(self) -> datetime:
        """Return the shifted instant (UTC)."""
        return datetime.now(UTC) + self.offset


@dataclass
class CrashingBroker:
    """A KIS broker that stops dead (marker file, then a hang) at one point of the executor."""

    inner: KISBroker
    point: str
    marker: Path
    places: int = 0
    executions_seen: int = 0

    async def _hang(self) -> None:
        self.marker.write_text(self.point)
        await asyncio.sleep(HANG_S)  # the parent kills us here
        raise SystemExit(f"crash point {self.point}: nobody killed the process")

    def remember(self, client_order_id: str, broker_order_id: str, org_no: str = "") -> None:
        """Forward to the KIS broker (the executor restores mappings through it)."""
        self.inner.remember(client_order_id, broker_order_id, org_no)

    async def account_snapshot(self) -> AccountSnapshot:
        """Forward."""
        return await self.inner.account_snapshot()

    async def place(self, order: OrderRequest) -> OrderAck:
        """Forward, stopping before the first, after the first or before the second order."""
        index = self.places
        self.places += 1
        if (index == 0 and self.point == "before-first-place") or (
            index == 1 and self.point == "before-second-place"
        ):
            await self._hang()
        ack = await self.inner.place(order)
        if index == 0 and self.point == "after-first-place":
            await self._hang()
        return ack

    async def cancel(self, client_order_id: str) -> OrderAck:
        """Forward."""
        return await self.inner.cancel(client_order_id)

    async def executions(self, day: date) -> list[Execution]:
        """Forward, stopping at the first look at fills once orders were sent."""
        if self.point == "in-follow" and self.places:
            await self._hang()
        return await self.inner.executions(day)


@dataclass
class HoldingBroker:
    """A KIS broker that stalls once, at its first `executions`, holding the executor lease."""

    inner: KISBroker
    hold_s: float
    held: bool = False

    def remember(self, client_order_id: str, broker_order_id: str, org_no: str = "") -> None:
        """Forward."""
        self.inner.remember(client_order_id, broker_order_id, org_no)

    async def account_snapshot(self) -> AccountSnapshot:
        """Forward."""
        return await self.inner.account_snapshot()

    async def place(self, order: OrderRequest) -> OrderAck:
        """Forward."""
        return await self.inner.place(order)

    async def cancel(self, client_order_id: str) -> OrderAck:
        """Forward."""
        return await self.inner.cancel(client_order_id)

    async def executions(self, day: date) -> list[Execution]:
        """Stall the first time, then forward."""
        if not self.held:
            self.held = True
            await asyncio.sleep(self.hold_s)
        return await self.inner.executions(day)


def settings_for(db_url: str, data_dir: Path) -> Settings:
    """The settings of every process of one test: the demo venue in `data_dir`."""
    return Settings(
        database_url=db_url,
        data_dir=data_dir,
        watchlist=TICKERS,
        kis_rate_limit_per_s=200.0,
    )


def _outcomes(result: dict[str, Any]) -> dict[str, Any]:
    if "__interrupt__" in result:
        request = result["__interrupt__"][0].value
        return {"interrupt": [o["client_order_id"] for o in request.get("orders", [])]}
    return {"status": result.get("status"), "executions": result.get("executions", [])}


async def main(args: argparse.Namespace) -> dict[str, Any]:
    """Run one process's part of the session and return what it printed."""
    settings = settings_for(args.db, Path(args.data))
    migrate.upgrade(settings.resolved_database_url)
    clock = ShiftedClock(SESSION_START, args.epoch)
    config: Any = {"configurable": {"thread_id": args.thread}}
    async with (
        open_session_context(settings, demo=True, clock=clock) as ctx,
        open_async_checkpointer(settings.resolved_database_url) as saver,
    ):
        ctx.fill_timeout = timedelta(seconds=args.fill_timeout)
        ctx.fill_poll_interval_s = 0.5
        ctx.executor_lease_ttl = timedelta(seconds=LEASE_TTL_S)
        if args.crash:
            assert isinstance(ctx.broker, KISBroker)
            crashing: Broker = CrashingBroker(ctx.broker, args.crash, Path(args.marker))
            ctx.broker = crashing
        if args.hold:
            assert isinstance(ctx.broker, KISBroker)
            holding: Broker = HoldingBroker(ctx.broker, args.hold)
            ctx.broker = holding
        graph = build_graph().compile(checkpointer=saver)
        if args.action == "approve":
            go = Path(args.go)
            while not go.exists():
                await asyncio.sleep(0.02)
            approve = Command(resume={"approve_all": True, "decided_by": "racing"})
            try:
                result = await graph.ainvoke(approve, config, context=ctx, durability="sync")
            except ExecutorBusyError as exc:
                return {"busy": str(exc)}
            return _outcomes(result)
        if args.action == "propose":
            return _outcomes(
                await graph.ainvoke(
                    {"session_date": SESSION_DATE.isoformat(), "tickers": list(TICKERS)},
                    config,
                    context=ctx,
                )
            )
        if args.action == "continue":
            deadline = time.monotonic() + BUSY_RETRY_S
            while True:
                try:
                    result = await graph.ainvoke(None, config, context=ctx, durability="sync")
                except ExecutorBusyError:
                    if time.monotonic() > deadline:
                        raise
                    await asyncio.sleep(0.5)  # the killed process's lease has not lapsed yet
                    continue
                return _outcomes(result)
        first = await graph.ainvoke(
            {"session_date": SESSION_DATE.isoformat(), "tickers": list(TICKERS)},
            config,
            context=ctx,
        )
        proposed = _outcomes(first)
        if "interrupt" not in proposed:
            return {"proposed": [], **proposed}
        resume = Command(resume={"approve_all": True, "decided_by": "crash-test"})
        result = await graph.ainvoke(resume, config, context=ctx, durability="sync")
        return {"proposed": proposed["interrupt"], **_outcomes(result)}


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("action", choices=("run", "continue", "propose", "approve"))
    parser.add_argument("--db", required=True)
    parser.add_argument("--data", required=True)
    parser.add_argument("--thread", required=True)
    parser.add_argument("--epoch", type=float, default=time.time())
    parser.add_argument("--crash", choices=CRASH_POINTS)
    parser.add_argument("--marker", default="crashed")
    parser.add_argument("--fill-timeout", type=float, default=20.0)
    parser.add_argument("--go", default="go")
    parser.add_argument("--hold", type=float, default=0.0)
    return parser.parse_args()


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    print(json.dumps(asyncio.run(main(_parse()))))
