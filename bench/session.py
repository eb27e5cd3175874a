"""How fast a trading session analyses its watchlist, against the rate limit and with an LLM.

Wiring: the demo venue of `trader.wiring.context.open_session_context` (the KIS simulator
in-process as market and broker, the econ twin, SQLite), in a fresh temporary data folder, with the
simulator's market widened by synthetic tickers (`SY0001`...; not KRX listings) where the
watchlist needs more than its 11 real ones. The simulator's price histories are generated before
the clock starts (a real server has them stored). Timed: the graph from its start to the approval
interrupt (load_context, both analysts, signals, risk manager), i.e. everything that scales
with the watchlist; KIS calls are counted by the simulator.

Prints three scenarios:

(a) 100 tickers, rules mode, KIS at 18 requests/s, on an empty database (cold): KIS calls, the
    rate-limit floor (calls / 18), wall time and wall / floor (target <= 1.15; the wall no
    slower than 28.6 s, the session before the data layer); then (a') a second session the
    same day on the same database (warm): KIS calls per ticker (target <= 1.2) and wall /
    floor (target <= 1.15). Sessions read history and ratios from the database first
    (`datastore.readers`), so the cold one collects and the warm one finds it stored;
(b) the same with the limiter off (client and simulator at 10,000/s): wall (target < 5 s);
(c) 20 tickers with the scripted LLM (agents/fake_llm.py) answering in 1 s, 8 tickers at a
    time per analyst, limiter off so the LLM is what is measured: wall (target <= 8 s) and
    LLM calls per ticker and analyst (target <= 2); also shown at 18 requests/s.

    uv run python bench/session.py [--tickers 100] [--llm-tickers 20] [--execute]

`--execute` also approves and executes scenario (a)'s orders and prints that phase's time
(dominated by the executor's fill polling, not by the watchlist).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from langgraph.types import Command

from agents.fake_llm import ScriptedChatModel
from agents.llm import UsageMeter
from core.clock import SystemClock, kst_today
from datastore.collector import Collector
from datastore.readers import StoredCompanyFigures, StoredMarketData
from db import migrate
from db.checkpointer import open_async_checkpointer
from graphs.trading_session import build_graph
from tools.kis.broker import KISBroker
from tools.kis.client import KISClient
from tools.kis.ratelimit import RateLimiter
from tools.kis.simulator import create_app
from tools.kis.simulator.instruments import DEFAULT_UNIVERSE, SYNTHETIC_PREFIX
from tools.kis.simulator.market import SimMarket, session_point
from tools.krx.calendar import krx_calendar
from tools.market_data import KISMarketData
from trader.settings import Settings
from trader.wiring.context import demo_kis_config, demo_simulator_config, open_session_context

KIS_LIMIT_PER_S = 18.0
COLD_TARGET_S = 28.6
"""A 100-ticker session's wall before the data layer (498 KIS calls at 18/s)."""
UNLIMITED_PER_S = 10_000.0


@dataclass
class Outcome:
    """What one timed session did."""

    tickers: int
    rate_per_s: float
    wall_s: float
    kis_calls: int
    calls_by_path: Counter[str]
    rate_limited: int
    statuses: Counter[str]
    llm_calls: Counter[tuple[str, str]]
    execute_s: float | None = None
    orders: int = 0


def warm_simulator(market: SimMarket, tickers: tuple[str, ...], clock: SystemClock) -> None:
    """Generate the simulated price histories before timing (a real server has them stored).

    The simulator draws each ticker's daily path since 2012 on first use (~65 ms a ticker);
    left in, that would be the simulator's cost, not the session's. The KRX calendar, built
    once per process, is loaded here too.
    """
    krx_calendar()
    today = kst_today(clock)
    for ticker in tickers:
        market.history(ticker, today)
        market.minute_bars(ticker, session_point(clock.now(), market.always_open).day)


def watchlist(count: int) -> tuple[tuple[str, ...], int]:
    """The first `count` tickers: the real ones of the default universe, then synthetic ones."""
    real = tuple(i.ticker for i in DEFAULT_UNIVERSE)[:count]
    synthetic = max(count - len(real), 0)
    return real + tuple(f"{SYNTHETIC_PREFIX}{n:04d}" for n in range(1, synthetic + 1)), synthetic


async def run_session(
    count: int,
    *,
    rate_per_s: float,
    llm: ScriptedChatModel | None = None,
    concurrency: int = 8,
    execute: bool = False,
    workdir: Path | None = None,
    phase: str = "regular",
) -> Outcome:
    """Run one session on a demo venue; time it up to the approval interrupt.

    A fresh temporary folder (empty database) unless `workdir` is given: a second session in
    the same folder reads what the first stored (the warm session).
    """
    if workdir is not None:
        return await _run_session_in(
            workdir, count, rate_per_s=rate_per_s, llm=llm, concurrency=concurrency,
            execute=execute, phase=phase,
        )  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="bench-session-") as tmp:
        return await _run_session_in(
            Path(tmp), count, rate_per_s=rate_per_s, llm=llm, concurrency=concurrency,
            execute=execute, phase=phase,
        )  # fmt: skip


async def _run_session_in(
    tmp: Path,
    count: int,
    *,
    rate_per_s: float,
    llm: ScriptedChatModel | None,
    concurrency: int,
    execute: bool,
    phase: str,
) -> Outcome:
    tickers, synthetic = watchlist(count)
    data_dir = Path(tmp) / "data"
    url = f"sqlite:///{Path(tmp) / 'trader.db'}"
    settings = Settings(
        _env_file=None,  # a developer's .env must not leak in
        data_dir=data_dir,
        database_url=url,
        trading_mode="paper",
        llm_provider="none",
        watchlist=tickers,
        llm_max_concurrency=concurrency,
    )
    migrate.upgrade(url)
    clock = SystemClock()
    sim = demo_simulator_config(settings, clock).with_changes(
        rate_limit_per_s=rate_per_s,
        synthetic_instruments=synthetic,
        store_path=data_dir / "bench-kis-sim.db",
    )
    app = create_app(sim)
    stats = app.state.sim.stats
    warm_simulator(app.state.sim.market, tickers, clock)
    config = demo_kis_config(settings, sim)
    client = KISClient(
        config,
        transport=httpx.ASGITransport(app=app),
        clock=clock,
        limiter=RateLimiter(config.paced_rate),
    )
    async with (
        open_session_context(settings, demo=True, clock=clock) as base,
        open_async_checkpointer(url) as saver,
        client,
    ):
        # The session's own wiring, on the bench's paced client: history and ratios from
        # the database first, brought up to date by the collector.
        collector = Collector(client, base.sessions, clock=clock)
        figures = StoredCompanyFigures(collector)
        ctx = dataclasses.replace(
            base,
            kis=client,
            market=StoredMarketData(KISMarketData(client), collector, on_quote=(figures.prepare,)),
            company_figures=figures,
            broker=KISBroker(client),
            llm=llm,
            usage=UsageMeter(model_name="fake-model"),
            analyst_concurrency=concurrency,
            fill_poll_interval_s=0.5,
        )
        graph: Any = build_graph().compile(checkpointer=saver)
        cfg: Any = {"configurable": {"thread_id": f"bench-{phase}"}}
        started = time.perf_counter()
        session_input = {"tickers": list(tickers), "phase": phase}
        out = await graph.ainvoke(session_input, cfg, context=ctx)
        wall = time.perf_counter() - started
        by_path = Counter(stats.requests_by_path)
        outcome = Outcome(
            tickers=len(tickers),
            rate_per_s=rate_per_s,
            wall_s=wall,
            kis_calls=sum(by_path.values()),
            calls_by_path=by_path,
            rate_limited=stats.rate_limited,
            statuses=Counter(o["status"] for o in out.get("opinions", [])),
            llm_calls=Counter((c.agent, c.ticker) for c in llm.calls) if llm else Counter(),
            orders=len(out.get("risk_report", {}).get("orders", [])),
        )
        if execute and "__interrupt__" in out:
            started = time.perf_counter()
            await graph.ainvoke(
                Command(resume={"approve_all": True, "decided_by": "bench"}),
                cfg,
                context=ctx,
                durability="sync",
            )
            outcome.execute_s = time.perf_counter() - started
    return outcome


def _paths(outcome: Outcome) -> str:
    return ", ".join(
        f"{path.rsplit('/', 1)[-1]} {n}" for path, n in outcome.calls_by_path.most_common()
    )


def report_rate_limited(outcome: Outcome, label: str = "(a)", note: str = "") -> None:
    """Print scenario (a) (or the warm session after it)."""
    floor = outcome.kis_calls / KIS_LIMIT_PER_S
    ratio = outcome.wall_s / floor
    print(
        f"{label} {outcome.tickers} tickers, rules mode, KIS at {KIS_LIMIT_PER_S:.0f} "
        f"requests/s{note}"
    )
    per_ticker = outcome.kis_calls / outcome.tickers
    print(f"    KIS calls:          {outcome.kis_calls} ({per_ticker:.2f} per ticker)")
    print(f"      by endpoint:      {_paths(outcome)}")
    print(f"    rate-limit floor:   {floor:.2f} s (calls / {KIS_LIMIT_PER_S:.0f})")
    print(f"    wall:               {outcome.wall_s:.2f} s")
    print(f"    wall / floor:       {ratio:.3f}  (target <= 1.15) {_verdict(ratio <= 1.15)}")
    print(f"    EGW00201 answers:   {outcome.rate_limited}")
    print(f"    opinions:           {dict(outcome.statuses)}; orders proposed: {outcome.orders}")
    if outcome.execute_s is not None:
        print(f"    approve + execute:  {outcome.execute_s:.2f} s (fill polling; not in wall)")


def report_unlimited(outcome: Outcome) -> None:
    """Print scenario (b)."""
    print(f"(b) {outcome.tickers} tickers, rules mode, limiter off")
    print(f"    KIS calls:          {outcome.kis_calls}")
    verdict = _verdict(outcome.wall_s < 5)
    print(f"    wall:               {outcome.wall_s:.2f} s  (target < 5 s) {verdict}")
    print(f"    opinions:           {dict(outcome.statuses)}")


def report_llm(outcome: Outcome, limited: Outcome, latency: float, concurrency: int) -> None:
    """Print scenario (c)."""
    per = outcome.llm_calls
    tickers = {t for _, t in per}
    per_ticker = Counter[str]()
    for (_, ticker), n in per.items():
        per_ticker[ticker] += n
    worst = max(per.values(), default=0)
    print(
        f"(c) {outcome.tickers} tickers, scripted LLM at {latency:.0f} s a call, "
        f"concurrency {concurrency} per analyst, limiter off"
    )
    verdict = _verdict(outcome.wall_s <= 8)
    print(f"    wall:               {outcome.wall_s:.2f} s  (target <= 8 s) {verdict}")
    print(f"    LLM calls:          {sum(per.values())} over {len(tickers)} tickers, two analysts")
    print(
        f"    per ticker/analyst: max {worst}, mean {sum(per.values()) / max(len(per), 1):.2f}"
        f"  (target <= 2) {_verdict(worst <= 2)}"
    )
    print(
        f"    per ticker (both):  max {max(per_ticker.values(), default=0)}"
        " (one data-tool round, then submit_opinion, per analyst)"
    )
    print(f"    opinions:           {dict(outcome.statuses)}")
    print(
        f"    at {KIS_LIMIT_PER_S:.0f} requests/s:    wall {limited.wall_s:.2f} s with "
        f"{limited.kis_calls} KIS calls (floor {limited.kis_calls / KIS_LIMIT_PER_S:.2f} s)"
    )


def _verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def report_warm(cold: Outcome, warm: Outcome) -> None:
    """Print the warm session's targets next to the cold one's."""
    per_ticker = warm.kis_calls / warm.tickers
    ratio = warm.wall_s / (warm.kis_calls / KIS_LIMIT_PER_S)
    print(
        f"    calls per ticker:   cold {cold.kis_calls / cold.tickers:.2f}, warm {per_ticker:.2f}"
        f"  (warm target <= 1.2) {_verdict(per_ticker <= 1.2)}"
    )
    print(f"    warm wall / floor:  {ratio:.3f}  (target <= 1.15) {_verdict(ratio <= 1.15)}")
    print(
        f"    cold wall:          {cold.wall_s:.2f} s  (target <= {COLD_TARGET_S} s, the "
        f"session before the data layer) {_verdict(cold.wall_s <= COLD_TARGET_S)}"
    )


async def main_async(args: argparse.Namespace) -> None:
    """Run the scenarios one after the other."""
    with tempfile.TemporaryDirectory(prefix="bench-session-") as tmp:
        a = await run_session(
            args.tickers,
            rate_per_s=KIS_LIMIT_PER_S,
            execute=args.execute,
            workdir=Path(tmp),
        )
        report_rate_limited(a, note=", cold: empty database")
        warm = await run_session(
            args.tickers, rate_per_s=KIS_LIMIT_PER_S, workdir=Path(tmp), phase="afternoon"
        )
        report_rate_limited(warm, "(a')", ", warm: the same day, the same database")
        report_warm(a, warm)
    b = await run_session(args.tickers, rate_per_s=UNLIMITED_PER_S)
    report_unlimited(b)

    def fake() -> ScriptedChatModel:
        return ScriptedChatModel(latency_s=args.llm_latency)

    c = await run_session(
        args.llm_tickers, rate_per_s=UNLIMITED_PER_S, llm=fake(), concurrency=args.concurrency
    )
    c18 = await run_session(
        args.llm_tickers, rate_per_s=KIS_LIMIT_PER_S, llm=fake(), concurrency=args.concurrency
    )
    report_llm(c, c18, args.llm_latency, args.concurrency)


def main() -> None:
    """Parse the arguments and run the bench."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tickers", type=int, default=100)
    parser.add_argument("--llm-tickers", type=int, default=20)
    parser.add_argument("--llm-latency", type=float, default=1.0)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--execute", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
