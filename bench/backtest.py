"""Speed and memory of the backtest engine against backtesting.py, in one process.

Usage: uv run python bench/backtest.py [SHARED_DIR]   (default ../shared)

Data: 100 series x 1,250 daily bars cut from the real ../shared/market-data files as in
backtest-anchors.md §4.2 (series k comes from file k mod 4 and starts at bar (k div 4) x 150;
Samsung and SK hynix from 1999 on). Both engines run the long-only SMA(10/30) crossover, one
series at a time, with backtesting.py's settings (parity cost mode). A second pass runs the 100
series as one 100-ticker portfolio (re-dated onto one calendar) through our engine in KRX cost
mode.

Agents mode: the same 100 series x 1,250 days as one portfolio, replayed through the session
graph's decision part (evals/backtest/twin.py: load_context, market analyst, fundamental, signals,
risk manager; rules reasoner; one graph run per day for all 100 tickers), KRX costs. Its wall
time is compared with backtesting.py's SMA time on the same bars (target ratio <= 2.0). One-time
costs (building the XKRX calendar, compiling the graph) are paid before the clock starts;
computing the indicators once per ticker is inside the timed run, which runs with the heap
frozen (`evals.backtest.engine.heap_frozen`), as `trader backtest` runs it.
"""

from __future__ import annotations

import asyncio
import resource
import sys
import time
import tracemalloc
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any, TypedDict
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler
from langgraph.graph import END, START, StateGraph

from agents.risk.limits import RiskLimits
from evals.backtest.anchor import run_sma_anchor
from evals.backtest.broker import BrokerConfig
from evals.backtest.data import Bars, CsvBarSource
from evals.backtest.engine import BacktestConfig, heap_frozen, run_backtest
from evals.backtest.metrics import compute_metrics
from evals.backtest.strategies import SmaCrossover
from evals.backtest.view import MarketData
from tools.krx.costs import CostModel

N_SERIES, N_BARS, STEP = 100, 1_250, 150
BREAKDOWN_DAYS = 250
FIXED: dict[str, Any] = {"limits": RiskLimits(), "cost_model": CostModel()}
"""The built-in risk limits and commission, not this machine's RISK_* settings: figures that
other machines can reproduce."""
FILES = (("005930", date(1999, 1, 1)), ("000660", date(1999, 1, 1)),
         ("035420", date(1990, 1, 1)), ("069500", date(1990, 1, 1)))  # fmt: skip


def synthesise(shared: Path) -> list[Bars]:
    source = CsvBarSource(shared / "market-data")
    full = [source.daily_bars(t, start, date(2023, 12, 31)) for t, start in FILES]
    out: list[Bars] = []
    k = 0
    while len(out) < N_SERIES:
        src = full[k % 4]
        lo = (k // 4) * STEP
        k += 1
        if lo + N_BARS > len(src):
            if all(((j // 4) * STEP + N_BARS) > len(full[j % 4]) for j in range(k, k + 4)):
                raise SystemExit("not enough data for 100 series")
            continue
        sel = slice(lo, lo + N_BARS)
        out.append(
            Bars(ticker=f"S{len(out):03d}", dates=src.dates[sel].copy(), open=src.open[sel].copy(),
                 high=src.high[sel].copy(), low=src.low[sel].copy(), close=src.close[sel].copy(),
                 volume=src.volume[sel].copy())
        )  # fmt: skip
    return out


def ours_one(bars: Bars) -> float:
    data = MarketData([bars])
    result = run_backtest(data, SmaCrossover(10, 30), BacktestConfig(broker=BrokerConfig.parity()))
    compute_metrics(result)
    return float(result.final_equity)


def main() -> None:
    shared = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("../shared")
    series = synthesise(shared)
    print(f"data: {len(series)} series x {N_BARS} bars from {shared / 'market-data'}")
    print("strategy: SMA(10/30) long-only, both engines; then ours in agents mode (the graph).")

    run_sma_anchor(series[0])  # warm both paths (imports, first-call costs)
    ours_one(series[0])

    t0 = time.perf_counter()
    theirs = [run_sma_anchor(b).final_equity for b in series]
    t_theirs = time.perf_counter() - t0

    t0 = time.perf_counter()
    ours = [ours_one(b) for b in series]
    t_ours = time.perf_counter() - t0

    same = sum(1 for a, b in zip(ours, theirs, strict=True) if abs(a - b) < 0.01)
    print(f"backtesting.py  : {t_theirs:7.3f} s  ({t_theirs / N_SERIES * 1e3:.1f} ms/series)")
    print(f"ours            : {t_ours:7.3f} s  ({t_ours / N_SERIES * 1e3:.1f} ms/series, "
          f"{t_ours / (N_SERIES * N_BARS) * 1e6:.1f} us/bar)")  # fmt: skip
    ratio = t_ours / t_theirs
    print(f"ratio ours/theirs: {ratio:.2f}  (target <= 2.0: {'met' if ratio <= 2.0 else 'MISSED'})")
    note = "" if same == N_SERIES else " (we refuse fills on zero-volume halt bars; it does not)"
    print(f"final equity equal (to 0.01 KRW) on {same}/{N_SERIES} series{note}")

    calendar = series[0].dates
    redated = [
        Bars(ticker=b.ticker, dates=calendar.copy(), open=b.open.copy(), high=b.high.copy(),
             low=b.low.copy(), close=b.close.copy(), volume=b.volume.copy())
        for b in series
    ]  # fmt: skip
    t0 = time.perf_counter()
    book = run_backtest(
        MarketData(redated), SmaCrossover(10, 30), BacktestConfig(cash=1_000_000_000)
    )
    t_port = time.perf_counter() - t0
    print(f"ours, one 100-ticker portfolio, KRX costs: {t_port:.3f} s, {len(book.trades)} "
          f"closed trades, final equity {book.final_equity:,.0f} KRW")  # fmt: skip

    agents(redated, t_theirs)

    tracemalloc.start()
    for b in series:
        ours_one(b)
    run_backtest(MarketData(redated), SmaCrossover(10, 30), BacktestConfig(cash=1_000_000_000))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"our peak traced memory: {peak / 2**20:.1f} MiB; process max RSS {rss:.0f} MiB "
        "(includes pandas, backtesting.py and bokeh)"
    )


def agents(redated: list[Bars], t_theirs: float) -> None:
    from evals.backtest.twin import AgentsStrategy, decision_graph
    from tools.krx.calendar import krx_calendar

    bars = [replace(b, ticker=f"Q{k:05d}") for k, b in enumerate(redated)]  # 6-char KRX codes
    krx_calendar()
    decision_graph()
    warm = MarketData([b.between(end=b.dates[80].item()) for b in bars[:5]])
    with AgentsStrategy(warm, **FIXED) as strategy:
        run_backtest(warm, strategy, BacktestConfig(cash=1_000_000_000))

    data = MarketData(bars)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t0, c0 = time.perf_counter(), time.process_time()
    with heap_frozen(), AgentsStrategy(data, **FIXED) as strategy:
        book = run_backtest(data, strategy, BacktestConfig(cash=1_000_000_000))
    t_agents, cpu = time.perf_counter() - t0, time.process_time() - c0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    acting = sum(1 for d in book.decisions if d.intents)
    print(f"ours, agents graph (rules), one 100-ticker portfolio x {len(data)} days, KRX costs: "
          f"{t_agents:.3f} s wall ({cpu:.3f} s CPU), {t_agents / len(data) * 1e3:.1f} ms/day, "
          f"{t_agents / (len(data) * len(bars)) * 1e6:.0f} us/ticker-day")  # fmt: skip
    print(f"  {len(book.fills)} fills, {len(book.trades)} closed trades, orders on {acting} days, "
          f"final equity {book.final_equity:,.0f} KRW")  # fmt: skip
    ratio = t_agents / t_theirs
    print(
        f"ratio agents/backtesting.py SMA: {ratio:.2f}  "
        f"(target <= 2.0: {'met' if ratio <= 2.0 else f'MISSED by {ratio / 2.0:.1f}x'})"
    )
    print(f"process max RSS {rss:.0f} MiB after the agents run ({rss - rss_before:+.0f} MiB "
          "during it)")  # fmt: skip
    breakdown(bars, t_theirs)


class NodeTimer(BaseCallbackHandler):
    """When each named graph node ran (callbacks run inline, on the loop)."""

    run_inline = True

    def __init__(self, names: tuple[str, ...]) -> None:
        self.names = set(names)
        self.started: dict[UUID, tuple[str, float]] = {}
        self.intervals: dict[str, list[tuple[float, float]]] = {}

    def on_chain_start(
        self, serialized: dict[str, Any] | None, inputs: Any, *, run_id: UUID, **kw: Any
    ) -> None:
        name = kw.get("name")
        if name in self.names:
            self.started[run_id] = (name, time.perf_counter())

    def on_chain_end(self, outputs: Any, *, run_id: UUID, **kw: Any) -> None:
        hit = self.started.pop(run_id, None)
        if hit is not None:
            self.intervals.setdefault(hit[0], []).append((hit[1], time.perf_counter()))

    def wall(self, *names: str) -> float:
        """Seconds during which any of `names` was running (parallel nodes overlap)."""
        spans = sorted(span for name in names for span in self.intervals.get(name, []))
        total, end = 0.0, float("-inf")
        for lo, hi in spans:
            if hi > end:
                total += hi - max(lo, end)
                end = hi
        return total


class _Empty(TypedDict, total=False):
    x: int


def graph_floor(days: int) -> float:
    """Seconds per invoke of the decision graph's shape (1 -> 2 parallel -> 1 -> 1), no work."""

    async def nothing(state: _Empty) -> dict[str, Any]:
        return {}

    b = StateGraph(_Empty)
    for name in ("load", "left", "right", "join", "last"):
        b.add_node(name, nothing)
    b.add_edge(START, "load")
    b.add_edge("load", "left")
    b.add_edge("load", "right")
    b.add_edge(["left", "right"], "join")
    b.add_edge("join", "last")
    b.add_edge("last", END)
    graph = b.compile()
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(graph.ainvoke({"x": 0}))
        t0 = time.perf_counter()
        for _ in range(days):
            loop.run_until_complete(graph.ainvoke({"x": 0}))
        return (time.perf_counter() - t0) / days
    finally:
        loop.close()


def opinion_round_trip() -> float:
    """Median seconds to build an analyst opinion, dump it as state does, and read it back."""
    from decimal import Decimal
    from statistics import median

    from agents.schemas import AnalystOpinion, Horizon
    from db.models import SignalStatus, Stance

    evidence: dict[str, int | Decimal | None] = {f"e{i}": Decimal("1.234567") for i in range(14)}

    def trip() -> None:
        opinion = AnalystOpinion(
            ticker="005930",
            agent="market_analyst",
            status=SignalStatus.OK,
            stance=Stance.BUY,
            conviction=Decimal("0.5"),
            horizon=Horizon.DAYS,
            rationale="r" * 200,
            evidence=evidence,
        )
        AnalystOpinion.model_validate(opinion.model_dump(mode="json"))

    n, runs = 2_000, []
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(n):
            trip()
        runs.append((time.perf_counter() - t0) / n)
    return median(runs)


def breakdown(bars: list[Bars], t_theirs: float) -> None:
    from evals.backtest.twin import AgentsStrategy
    from graphs.trading_session import NODES

    cut = [b.between(end=b.dates[BREAKDOWN_DAYS - 1].item()) for b in bars]
    data = MarketData(cut)
    timer = NodeTimer(NODES)
    t0 = time.perf_counter()
    with heap_frozen(), AgentsStrategy(data, callbacks=[timer], **FIXED) as strategy:
        run_backtest(data, strategy, BacktestConfig(cash=1_000_000_000))
    per_day = (time.perf_counter() - t0) / len(data)
    print(f"where a replayed day goes (first {len(data)} days, node timer on, "
          f"{per_day * 1e3:.1f} ms/day):")  # fmt: skip
    parts = {
        "load_context": timer.wall("load_context"),
        "market_analyst || fundamental": timer.wall("market_analyst", "fundamental"),
        "signals": timer.wall("signals"),
        "risk_manager": timer.wall("risk_manager"),
    }
    for name, spent in parts.items():
        print(f"  {name:30s} {spent / len(data) * 1e3:6.2f} ms/day")
    rest = per_day - sum(parts.values()) / len(data)
    print(f"  {'rest (LangGraph, engine, timer)':30s} {rest * 1e3:6.2f} ms/day")
    per_opinion = opinion_round_trip()
    print(
        "one typed opinion's trip through state (build, dump to JSON, read back): "
        f"{per_opinion * 1e6:.1f} us; a ticker-day makes two opinions, a signal and a quote"
    )
    floor = graph_floor(N_BARS)
    budget = 2.0 * t_theirs / N_BARS
    print(f"LangGraph alone, same graph shape with empty nodes: {floor * 1e3:.2f} ms/day = "
          f"ratio {floor * N_BARS / t_theirs:.2f} before any agent works; the 2.0 target leaves "
          f"{(budget - floor) * 1e3:.2f} ms/day, {(budget - floor) / len(bars) * 1e6:.0f} us "
          "per ticker-day, for both analysts, signals and the risk gate")  # fmt: skip


if __name__ == "__main__":
    main()
