"""How fast the collector fills the database, against the KIS rate limit, and with what memory.

Wiring: the KIS simulator in-process (ASGI transport, as `bench/session.py`), its market
widened by synthetic tickers (`SY0001`...; not KRX listings), at 18 requests/s; the KIS client
paced by its own limiter (0.97 x 18/s, the production setting); the collector
(`datastore.collector.Collector`) writing into a fresh SQLite file (or `--database-url`, e.g.
PostgreSQL). The simulator's price histories are generated before the clock starts (a real
server has them stored). Each ticker costs one daily-chart page (`--days` of history) and,
unless `--no-fundamentals`, its financial-ratio and stability-ratio calls.

The simulator runs in the same process, so the memory figures include its share: its cache of
256 minute paths and SQLAlchemy's compiled-statement cache (500 entries) fill up during the
first few hundred tickers and then stay; nothing grows with every ticker.

Prints, per size (default 100 and 1,000 tickers): KIS requests, wall time, requests per second
against the limit (target >= 0.95 x 18 = 17.1/s), EGW00201 answers (target 0) and how far the
peak RSS rose during the collection (flat in the number of tickers); `--trace` also traces
Python allocations with tracemalloc (which slows the run, so its throughput is not the target's).

    uv run python bench/collect.py [--sizes 100,1000] [--days 120] [--concurrency 8] [--trace]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import resource
import tempfile
import time
import tracemalloc
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx

from core.clock import SystemClock, kst_today
from datastore.collector import CollectOptions, Collector
from db import migrate
from db.engine import create_db_engine, session_factory
from tools.kis.client import KISClient
from tools.kis.ratelimit import RateLimiter
from tools.kis.simulator import create_app
from tools.kis.simulator.instruments import SYNTHETIC_PREFIX
from tools.kis.simulator.market import SimMarket
from tools.krx.calendar import krx_calendar
from trader.settings import Settings
from trader.wiring.context import demo_kis_config, demo_simulator_config

KIS_LIMIT_PER_S = 18.0
TARGET_SHARE = 0.95


@dataclass
class Outcome:
    """What one collection did."""

    tickers: int
    requests: int
    wall_s: float
    rate_limited: int
    rss_growth_bytes: int
    """How far the process's peak RSS rose during the collection (the simulator's histories,
    generated before it, are in the baseline)."""
    traced_peak_bytes: int | None
    """Peak Python allocations traced during the collection (`--trace` only)."""
    bars_written: int
    failed: int


def peak_rss_bytes() -> int:
    """The process's peak resident set so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def warm_simulator(market: SimMarket, tickers: list[str], clock: SystemClock) -> None:
    """Generate the simulated histories before timing (~65 ms a ticker; a server has them)."""
    krx_calendar()
    today = kst_today(clock)
    for ticker in tickers:
        market.history(ticker, today)


async def collect(
    count: int,
    *,
    days: int,
    fundamentals: bool,
    concurrency: int,
    database_url: str | None,
    trace: bool = False,
) -> Outcome:
    """Collect `count` synthetic tickers into a fresh database; time and trace it."""
    tickers = [f"{SYNTHETIC_PREFIX}{n:04d}" for n in range(1, count + 1)]
    with tempfile.TemporaryDirectory(prefix="bench-collect-") as tmp:
        url = database_url or f"sqlite:///{Path(tmp) / 'trader.db'}"
        settings = Settings(
            _env_file=None, data_dir=Path(tmp) / "data", database_url=url, trading_mode="paper"
        )
        migrate.upgrade(url)
        clock = SystemClock()
        sim = demo_simulator_config(settings, clock).with_changes(
            rate_limit_per_s=KIS_LIMIT_PER_S,
            synthetic_instruments=count,
            store_path=Path(tmp) / "sim.db",
            always_open=False,
        )
        app = create_app(sim)
        warm_simulator(app.state.sim.market, tickers, clock)
        config = demo_kis_config(settings, sim)
        engine = create_db_engine(url)
        client = KISClient(
            config,
            transport=httpx.ASGITransport(app=app),
            clock=clock,
            limiter=RateLimiter(config.paced_rate),
        )
        try:
            async with client:
                await client.ensure_token()  # the token is not the collector's work
                collector = Collector(
                    client, session_factory(engine), clock=clock, concurrency=concurrency
                )
                since = collector.last_closed() - timedelta(days=days)
                options = CollectOptions(
                    since=since, fundamentals=fundamentals, dart=False, econ=False
                )
                rss_before = peak_rss_bytes()
                if trace:
                    tracemalloc.start()
                started = time.perf_counter()
                report = await collector.run(tickers, options)
                wall = time.perf_counter() - started
                traced = tracemalloc.get_traced_memory()[1] if trace else None
                tracemalloc.stop()
                rss_growth = peak_rss_bytes() - rss_before
        finally:
            engine.dispose()
        return Outcome(
            tickers=count,
            requests=report.requests,
            wall_s=wall,
            rate_limited=app.state.sim.stats.rate_limited,
            rss_growth_bytes=rss_growth,
            traced_peak_bytes=traced,
            bars_written=report.bars_written,
            failed=len(report.failed),
        )


def report(outcome: Outcome) -> None:
    """Print one size's figures."""
    rate = outcome.requests / outcome.wall_s
    share = rate / KIS_LIMIT_PER_S
    ok = share >= TARGET_SHARE and outcome.rate_limited == 0
    print(f"{outcome.tickers} tickers")
    print(f"    KIS requests:       {outcome.requests} ({outcome.bars_written} bars written)")
    print(f"    wall:               {outcome.wall_s:.2f} s")
    print(
        f"    throughput:         {rate:.2f} requests/s = {share:.3f} x {KIS_LIMIT_PER_S:.0f}/s"
        f"  (target >= {TARGET_SHARE}) {'ok' if ok else 'MISSED'}"
    )
    print(f"    EGW00201 answers:   {outcome.rate_limited}  (target 0)")
    print(f"    peak RSS growth:    {outcome.rss_growth_bytes / 2**20:.1f} MiB")
    if outcome.traced_peak_bytes is not None:
        print(
            f"    peak traced memory: {outcome.traced_peak_bytes / 2**20:.1f} MiB "
            "(tracemalloc slows the run: the throughput above is not the target's)"
        )
    if outcome.failed:
        print(f"    failed tickers:     {outcome.failed}")


async def main_async(args: argparse.Namespace) -> None:
    """Collect each size in turn."""
    for size in (int(s) for s in args.sizes.split(",")):
        outcome = await collect(
            size,
            days=args.days,
            fundamentals=not args.no_fundamentals,
            concurrency=args.concurrency,
            database_url=args.database_url,
            trace=args.trace,
        )
        report(outcome)


def main() -> None:
    """Parse the arguments and run the bench."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="100,1000")
    parser.add_argument("--days", type=int, default=120, help="calendar days of bars")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--no-fundamentals", action="store_true")
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    parser.add_argument("--trace", action="store_true", help="also trace Python allocations")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
