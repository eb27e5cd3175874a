"""The fault soak: many sessions against a misbehaving KIS, runners killed, books checked.

    uv run python bench/soak.py [--sessions 100] [--kills 30] [--seed 1] [--db-url URL]
        [--workdir DIR] [--fill-timeout 6] [--poll 0.5]

Wiring. The KIS simulator runs in this process (uvicorn in a thread, on 127.0.0.1) with its
books in a store file, so they outlive every runner. Each session runs in a runner process
(`bench.soak_runner`, forked from a fork server that imported the application once) on the
venue `kis-real` with `KIS_BASE_URL` pointed at the simulator, two or three tickers, and the
soak's database (SQLite in the work folder by default; `--db-url` for PostgreSQL: give an empty
database). Every three consecutive sessions trade one account with one portfolio, so a day's
list holds earlier sessions' orders (look-alikes for the reconciler) and inquiries have pages;
each account's books, at the broker and ours, are compared one to one.

Faults. Before and during each session a few faults are armed at the simulator's wire: HTTP
500 and timeouts on order-cash before and after the simulator took the order (the answer is
lost), malformed bodies, 5xx on the daily executions and quotes, the daily executions lagging a
new order for seconds and lookups, SYDB0050 "query again" on a continuation page of the
executions or balance (the simulator pages 1 row at a time so queries have pages), EGW00201
bursts, tokens revoked as at KIS's maintenance (EGW00121; a new token is still refused within
the issuance interval) and tokens expired (EGW00123). Time is compressed: the token issuance
interval is `--token-interval` seconds (60 at KIS), the client times out after 5 s, the
simulator holds a timed-out answer for 7 s, and a killed runner's executor lease lapses after
3 s (60 live); a resume refused while it holds waits it out and tries again.

Kills. `--kills` runners are SIGKILLed after a random delay (a share of the typical session
time, so kills land in analysis, at the approval, in the executor and while fills are
followed); each is followed by a resume: one process, two processes at once (concurrent
resumes), or one on the next trading day (the simulator's clock and the runner's move to the
next trading day; later sessions trade on that day). A session whose runner stopped on an
error is resumed again, as a person would (at most `MAX_RETRIES` times).

Invariants, checked after each session against the simulator's books (its store):
1. every approved order exists at the broker at most once;
2. no order exists at the broker that was not approved;
3. every approved order is filled, cancelled, rejected, expired or needs_review with a reason,
   and none is still working at the broker (unless handed to a person);
4. the portfolio's positions in our database equal the broker's balance;
5. fills are booked once: per order, our fills sum to our filled quantity and to the broker's
   (an order handed to a person: to no more than the broker's; that person books the rest).

Prints sessions, faults armed and fired by kind, kills and resumes (concurrent, next-day),
runner outcomes, each invariant's count of violations with the first examples, and wall time.
Exits 1 when any invariant is violated.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bench.soak_books import INVARIANTS, check_account
from bench.soak_runner import APP_KEY, APP_SECRET, BUSY, ForkServer, SoakClock
from db import migrate
from db.engine import create_db_engine, session_factory
from db.models import Run
from tools.kis.simulator import SimulatorConfig, SimulatorServer
from tools.kis.simulator.faults import FaultKind
from tools.krx.calendar import is_trading_day, next_trading_day

FIRST_DAY = date(2025, 6, 10)
"""A Tuesday; every next-day resume moves the soak on by one KRX trading day."""
TICKERS = ("051910", "035420", "069500", "005380", "005930", "000660", "035720", "105560")
"""The pool each session draws 2-3 tickers from (real KRX listings the simulator quotes)."""
MAX_RETRIES = 2
"""Extra resumes of a session whose runner stopped on an error (or hung)."""


@dataclass(frozen=True)
class FaultSpec:
    """One fault the soak may arm: a label for the report and how to arm it."""

    label: str
    kind: FaultKind
    path: str | None = None
    after: bool = False
    count: tuple[int, int] = (1, 1)
    mid_session: bool = False
    """Armed after a random delay rather than at the session's start."""
    lagging: bool = False
    """The order list also lags the next order taken (a slow ledger often comes with a lost
    answer: the gateway timed out because the back end was slow)."""


FAULTS = (
    FaultSpec("order 5xx, not taken", "http_500", "/trading/order-cash"),
    FaultSpec("order 5xx, taken", "http_500", "/trading/order-cash", after=True),
    FaultSpec("order timeout, not taken", "timeout", "/trading/order-cash"),
    FaultSpec("order timeout, taken", "timeout", "/trading/order-cash", after=True),
    FaultSpec("order malformed body, taken", "malformed_json", "/trading/order-cash", after=True),
    FaultSpec("order list lag", "order_list_lag", "/trading/order-cash", count=(1, 2)),
    FaultSpec(
        "order timeout, taken, list lag", "timeout", "/trading/order-cash", after=True, lagging=True
    ),
    FaultSpec(
        "order 5xx, taken, list lag", "http_500", "/trading/order-cash", after=True, lagging=True
    ),
    FaultSpec("cancel 5xx, taken", "http_500", "/trading/order-rvsecncl", after=True),
    FaultSpec("executions 5xx", "http_500", "/trading/inquire-daily-ccld", count=(1, 2)),
    FaultSpec("executions malformed body", "malformed_json", "/trading/inquire-daily-ccld"),
    FaultSpec("executions query again", "query_again", "/trading/inquire-daily-ccld", count=(1, 2)),
    FaultSpec("balance query again", "query_again", "/trading/inquire-balance"),
    FaultSpec("quote 5xx", "http_500", "/quotations/inquire-price", count=(1, 2), mid_session=True),
    FaultSpec("rate-limit burst", "rate_limit_burst", count=(3, 6), mid_session=True),
    FaultSpec("token revoked (maintenance)", "invalidate_tokens", mid_session=True),
    FaultSpec("token expired", "revoke_tokens", mid_session=True),
)


@dataclass
class SoakOptions:
    """How big and how nasty the soak is."""

    sessions: int = 100
    kills: int = 30
    seed: int = 1
    db_url: str | None = None
    workdir: Path | None = None
    faults_per_session: tuple[int, int] = (1, 4)
    sessions_per_account: int = 3
    """Consecutive sessions that trade one account (and portfolio): its books grow, so the
    daily list holds earlier sessions' orders and inquiries have pages."""
    fill_timeout_s: float = 6.0
    poll_s: float = 0.5
    token_interval_s: float = 5.0
    lease_ttl_s: float = 3.0
    """The executor lease's time-to-live (60 s live): how long a killed runner blocks a resume."""
    kis_timeout_s: float = 5.0
    concurrent_share: float = 0.3
    next_day_share: float = 0.2
    double_kill_share: float = 0.15
    runner_timeout_s: float = 150.0
    log: Callable[[str], None] = print


@dataclass
class SoakReport:
    """What the soak did and found."""

    sessions: int = 0
    sessions_finished: int = 0
    orders_approved: int = 0
    faults_armed: Counter[str] = field(default_factory=Counter)
    faults_fired: Counter[str] = field(default_factory=Counter)
    kills: int = 0
    kills_missed: int = 0
    resumes: int = 0
    concurrent_resumes: int = 0
    next_day_resumes: int = 0
    retries: int = 0
    runner_exits: Counter[str] = field(default_factory=Counter)
    order_statuses: Counter[str] = field(default_factory=Counter)
    violations: dict[str, list[str]] = field(
        default_factory=lambda: {name: [] for name in INVARIANTS}
    )
    wall_s: float = 0.0
    kis_requests: Counter[str] = field(default_factory=Counter)
    session_s: list[float] = field(default_factory=list)
    unfinished: list[str] = field(default_factory=list)

    @property
    def violation_count(self) -> int:
        """Return the number of invariant violations."""
        return sum(len(v) for v in self.violations.values())

    def lines(self) -> list[str]:
        """Render the report for printing."""
        out = [
            f"sessions: {self.sessions} ({self.sessions_finished} finished), "
            f"approved orders: {self.orders_approved}, wall {self.wall_s:.0f} s",
            f"kills: {self.kills} (missed: {self.kills_missed}, the runner had ended), "
            f"resumes: {self.resumes} (concurrent pairs: {self.concurrent_resumes}, "
            f"next-day: {self.next_day_resumes}), retries after an error: {self.retries}",
            f"KIS requests: {sum(self.kis_requests.values())} "
            f"(EGW00201 answers included), runner time per whole run: median "
            f"{statistics.median(self.session_s) if self.session_s else 0:.1f} s",
            "sessions that never completed: " + (", ".join(self.unfinished) or "none"),
            "runner exits: " + ", ".join(f"{k} {v}" for k, v in sorted(self.runner_exits.items())),
            "our order statuses: "
            + ", ".join(f"{k} {v}" for k, v in sorted(self.order_statuses.items())),
            "faults (fired / armed):",
        ]
        for label in sorted(self.faults_armed):
            out.append(f"  {label:32} {self.faults_fired[label]:4} / {self.faults_armed[label]}")
        out.append("invariant violations:")
        for name, found in self.violations.items():
            out.append(f"  {name:50} {len(found)}")
            out += [f"      {example}" for example in found[:5]]
        return out


# --- the soak ----------------------------------------------------------------------------------


@dataclass
class _Session:
    index: int
    thread: str
    portfolio: str
    account: str
    tickers: tuple[str, ...]
    armed: list[tuple[FaultSpec, int]] = field(default_factory=list)


class Soak:
    """Runs the soak (see the module docstring)."""

    def __init__(self, options: SoakOptions) -> None:
        """Prepare the work folder, the database, the simulator and the fork server."""
        self.opts = options
        self.rng = random.Random(options.seed)
        self.report = SoakReport()
        self.workdir = options.workdir or Path(tempfile.mkdtemp(prefix="soak-"))
        self.workdir.mkdir(parents=True, exist_ok=True)
        (self.workdir / "runs").mkdir(exist_ok=True)
        self.db_url = options.db_url or f"sqlite:///{self.workdir / 'soak.db'}"
        migrate.upgrade(self.db_url)
        self.engine = create_db_engine(self.db_url)
        self.epoch = time.time()
        self.day = FIRST_DAY
        self.clock = SoakClock(self.day, self.epoch)
        self.sim = SimulatorServer(
            SimulatorConfig(
                mode="real",
                app_key=APP_KEY,
                app_secret=APP_SECRET,
                account_no="50000000",
                store_path=self.workdir / "kis-sim.db",
                clock=self.clock,
                always_open=True,
                page_size=1,
                token_min_interval_s=options.token_interval_s,
                timeout_delay_s=options.kis_timeout_s + 2.0,
                rate_limit_burst=2.0,
                seed=options.seed,
            )
        )
        self.durations: list[float] = []
        self.runs = 0
        self.kills_owed = options.kills
        self.forks: ForkServer | None = None
        self.seen: set[tuple[int, str]] = set()

    # --- running ------------------------------------------------------------------------------

    def run(self) -> SoakReport:
        """Run every session; return the report."""
        started = time.monotonic()
        for ticker in TICKERS:  # a real server has its price histories stored: build them now
            self.sim.state.market.history(ticker, self.day)
            self.sim.state.market.minute_bars(ticker, self.day)
        self.sim.start()
        try:
            self.forks = ForkServer(self.workdir)
            for index in range(self.opts.sessions):
                self._session(index)
                if (index + 1) % 10 == 0 or index + 1 == self.opts.sessions:
                    self.opts.log(
                        f"  {index + 1}/{self.opts.sessions} sessions, {self.report.kills} kills, "
                        f"{self.report.violation_count} violations, "
                        f"{time.monotonic() - started:.0f} s"
                    )
        finally:
            if self.forks is not None:
                self.forks.close()
            self.report.kis_requests.update(self.sim.stats.requests_by_path)
            self.sim.stop()
            self.engine.dispose()
        self.report.wall_s = time.monotonic() - started
        return self.report

    def _new_session(self, index: int) -> _Session:
        tickers = tuple(sorted(self.rng.sample(TICKERS, self.rng.choice((2, 3)))))
        book = index // self.opts.sessions_per_account
        session = _Session(
            index=index,
            thread=f"soak-{index:04d}",
            portfolio=f"soak-book-{book:03d}",
            account=f"{60_000_000 + book:08d}",
            tickers=tickers,
        )
        self.sim.state.store.open_account(session.account, "01", 100_000_000)
        return session

    def _argv(self, s: _Session) -> list[str]:
        o = self.opts
        return [
            *("--db", self.db_url, "--data", str(self.workdir / "data")),
            *("--base-url", self.sim.base_url, "--thread", s.thread),
            *("--portfolio", s.portfolio, "--account", s.account),
            *("--tickers", ",".join(s.tickers), "--day", self.day.isoformat()),
            *("--epoch", repr(self.epoch), "--token-interval", str(o.token_interval_s)),
            *("--lease-ttl", str(o.lease_ttl_s)),
            *("--kis-timeout", str(o.kis_timeout_s), "--fill-timeout", str(o.fill_timeout_s)),
            *("--poll", str(o.poll_s)),
        ]

    def _spawn(self, s: _Session) -> tuple[str, int]:
        assert self.forks is not None
        self.runs += 1
        ident = f"{s.thread}-{self.runs}"
        base = self.workdir / "runs" / ident
        pid = self.forks.spawn(
            ident, self._argv(s), base.with_suffix(".json"), base.with_suffix(".log")
        )
        return ident, pid

    def _wait(self, ident: str, pid: int, kill_after: float | None = None) -> str:
        """Wait for a runner (killing it after `kill_after` s); return how it ended."""
        assert self.forks is not None
        started = time.monotonic()
        if kill_after is not None:
            code = self.forks.wait(ident, kill_after)
            if code is None:
                os.kill(pid, signal.SIGKILL)
                self.forks.wait(ident, 30)
                self.report.kills += 1
                self.kills_owed -= 1
                return "killed"
            self.report.kills_missed += 1
        else:
            code = self.forks.wait(ident, self.opts.runner_timeout_s)
            if code is None:
                os.kill(pid, signal.SIGKILL)
                self.forks.wait(ident, 30)
                return "hung (killed)"
        if code == 0:  # a whole run (a missed kill too): what the next kill delays scale by
            self.durations.append(time.monotonic() - started)
            self.report.session_s.append(self.durations[-1])
        return {0: "ok", 1: "stopped on an error", 3: "crashed", BUSY: "refused (busy)"}.get(
            code or 0, f"exit {code}"
        )

    def _kill_delay(self) -> float:
        typical = statistics.median(self.durations[-20:]) if self.durations else 4.0
        # Half the kills anywhere, half late in the session (the executor and its follow-up);
        # when the kills owed catch up with the sessions left, early enough not to miss.
        low = 0.1 if self.rng.random() < 0.5 else 0.55
        high = 0.95
        if self.kills_owed >= self.opts.sessions - self.report.sessions:
            low, high = 0.1, 0.5
        return self.rng.uniform(low, high) * typical

    def _plan_kills(self, index: int) -> int:
        left = self.opts.sessions - index
        if self.kills_owed <= 0:
            return 0
        if self.kills_owed >= left or self.rng.random() < self.kills_owed / left:
            extra = self.kills_owed > left or self.rng.random() < self.opts.double_kill_share
            return 2 if extra and self.kills_owed > 1 else 1
        return 0

    def _session(self, index: int) -> None:
        s = self._new_session(index)
        timers = self._arm_faults(s)
        kills = self._plan_kills(index)
        ident, pid = self._spawn(s)
        outcome = self._wait(ident, pid, self._kill_delay() if kills else None)
        self.report.runner_exits[outcome] += 1
        while outcome == "killed":
            kills -= 1
            outcome = self._resume(s, kill=kills > 0)
        retries = 0
        while not self._finished(s.thread) and retries < MAX_RETRIES:
            retries += 1
            self.report.retries += 1
            if outcome.endswith("(busy)"):
                # A killed runner's executor lease still holds the session: wait it out, as a
                # person told "another process is executing" would.
                time.sleep(self.opts.lease_ttl_s + 0.5)
            ident, pid = self._spawn(s)
            outcome = self._wait(ident, pid)
            self.report.runner_exits["retry " + outcome] += 1
        for timer in timers:
            timer.cancel()
        self._count_fired(s)
        self.sim.faults.clear()
        self.report.sessions += 1
        if self._finished(s.thread):
            self.report.sessions_finished += 1
        else:
            self.report.unfinished.append(s.thread)
        self._check(s)

    def _resume(self, s: _Session, *, kill: bool) -> str:
        """Resume a killed session: one runner, two at once, or one on the next trading day."""
        self.report.resumes += 1
        draw = self.rng.random()
        if self.report.resumes == 1:
            draw = 0.0  # the first resume is always a concurrent pair
        elif self.report.resumes == 2:
            draw = self.opts.concurrent_share  # the second is on the next day
        if draw < self.opts.concurrent_share:
            self.report.concurrent_resumes += 1
            first, second = self._spawn(s), self._spawn(s)
            outcome = self._wait(*first, self._kill_delay() if kill else None)
            other = self._wait(*second)
            self.report.runner_exits["concurrent " + outcome] += 1
            self.report.runner_exits["concurrent " + other] += 1
            return outcome
        if draw < self.opts.concurrent_share + self.opts.next_day_share:
            self.report.next_day_resumes += 1
            self._next_day()
        outcome = self._wait(*self._spawn(s), self._kill_delay() if kill else None)
        self.report.runner_exits["resume " + outcome] += 1
        return outcome

    def _next_day(self) -> None:
        day = next_trading_day(self.day)
        while not is_trading_day(day):
            day = next_trading_day(day)
        self.day = day
        self.clock.day = day

    # --- faults -------------------------------------------------------------------------------

    def _arm_faults(self, s: _Session) -> list[threading.Timer]:
        low, high = self.opts.faults_per_session
        timers = []
        for spec in self.rng.sample(FAULTS, self.rng.randint(low, high)):
            count = self.rng.randint(*spec.count)
            s.armed.append((spec, count))
            self.report.faults_armed[spec.label] += count
            extra: dict[str, Any] = {}
            if spec.kind == "order_list_lag":
                extra = {"lag_s": self.rng.uniform(2, 8), "lag_lookups": self.rng.randint(1, 4)}

            lag = {"lag_s": self.rng.uniform(2, 8), "lag_lookups": self.rng.randint(1, 4)}

            def arm(
                spec: FaultSpec = spec,
                count: int = count,
                extra: dict[str, Any] = extra,
                lag: dict[str, Any] = lag,
            ) -> None:
                self.sim.faults.inject(spec.kind, spec.path, count, spec.after, **extra)
                if spec.lagging:
                    self.sim.faults.inject("order_list_lag", spec.path, count, **lag)

            if spec.mid_session:
                timer = threading.Timer(self._kill_delay(), arm)
                timer.daemon = True
                timer.start()
                timers.append(timer)
            else:
                arm()
        return timers

    def _count_fired(self, s: _Session) -> None:
        left = Counter(
            (f.kind, f.path, f.after_processing)
            for f in self.sim.faults.armed()
            for _ in range(f.remaining)
        )
        for spec, count in s.armed:
            key = (spec.kind, spec.path, spec.after)
            unfired = min(left[key], count)
            left[key] -= unfired
            self.report.faults_fired[spec.label] += count - unfired

    # --- invariants ---------------------------------------------------------------------------

    def _finished(self, thread: str) -> bool:
        with session_factory(self.engine)() as db:
            run = db.scalar(sa.select(Run).where(Run.thread_id == thread))
            return run is not None and run.status.value == "completed"

    def _note(self, invariant: int, key: str, text: str) -> None:
        """Record a violation once (a later check of the same account may find it again)."""
        if (invariant, key) not in self.seen:
            self.seen.add((invariant, key))
            self.report.violations[INVARIANTS[invariant]].append(text)

    def _check(self, s: _Session) -> None:
        """Compare the account's books at the broker with ours (every session it has had)."""
        found = check_account(
            self.engine, self.sim.state.store, account=s.account, portfolio=s.portfolio
        )
        for r in found.orders:
            if r.thread == s.thread:
                self.report.orders_approved += 1
                self.report.order_statuses[r.status] += 1
        for invariant, key, text in found.violations:
            self._note(invariant, key, text)


def parse() -> SoakOptions:
    """Read the command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=100)
    parser.add_argument("--kills", type=int, default=30)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--db-url", help="an empty database (default: SQLite in the work folder)")
    parser.add_argument("--workdir", type=Path, help="default: a new temporary folder")
    parser.add_argument("--fill-timeout", type=float, default=6.0)
    parser.add_argument("--poll", type=float, default=0.5)
    parser.add_argument("--token-interval", type=float, default=5.0)
    args = parser.parse_args()
    return SoakOptions(
        sessions=args.sessions,
        kills=args.kills,
        seed=args.seed,
        db_url=args.db_url,
        workdir=args.workdir,
        fill_timeout_s=args.fill_timeout,
        poll_s=args.poll,
        token_interval_s=args.token_interval,
    )


def main() -> int:
    """Run the soak, print the report; 1 when an invariant was violated."""
    options = parse()
    soak = Soak(options)
    print(
        f"soak: {options.sessions} sessions, {options.kills} kills, seed {options.seed}, "
        f"work folder {soak.workdir}, database {soak.db_url.split('@')[-1]}"
    )
    report = soak.run()
    for line in report.lines():
        print(line)
    return 1 if report.violation_count else 0


if __name__ == "__main__":
    sys.exit(main())
