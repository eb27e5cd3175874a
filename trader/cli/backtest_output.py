"""What `trader backtest` prints and writes: loader warnings, the summary table, the outputs."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from rich.table import Table

from evals.backtest.broker import CostMode
from evals.backtest.data import Bars
from evals.backtest.engine import BacktestResult
from evals.backtest.metrics import SHARPE_CONVENTION, benchmark_metrics, compute_metrics
from evals.backtest.orders import Strategy
from evals.backtest.report import (
    write_equity_csv,
    write_html_report,
    write_orders_csv,
    write_trades_csv,
)
from trader.cli.backtest_options import Outputs
from trader.cli.console import console

if TYPE_CHECKING:
    from db.models import SignalStatus

WARNINGS_SHOWN = 3
"""Warnings of one kind for one ticker printed in full; the rest are counted on one line."""


def print_summary(result: BacktestResult) -> None:
    """The strategy's metrics beside buy and hold's, and the Sharpe convention."""
    metrics, bench = compute_metrics(result), benchmark_metrics(result)
    table = Table(title="Backtest", show_header=True)
    table.add_column("")
    table.add_column("strategy", justify="right")
    table.add_column("buy & hold", justify="right")

    def pct(v: float | None) -> str:
        return "n/a" if v is None else f"{v * 100:.2f} %"

    ours, theirs = metrics.curve, bench
    table.add_row("total return", pct(ours.total_return), pct(theirs.total_return))
    table.add_row("CAGR", pct(ours.cagr), pct(theirs.cagr))
    table.add_row("volatility (ann.)", pct(ours.volatility), pct(theirs.volatility))
    sharpe = "n/a" if ours.sharpe is None else f"{ours.sharpe:.4f}"
    b_sharpe = "n/a" if theirs.sharpe is None else f"{theirs.sharpe:.4f}"
    table.add_row("Sharpe", sharpe, b_sharpe)
    table.add_row("max drawdown", pct(ours.max_drawdown), pct(theirs.max_drawdown))
    table.add_row("trades closed / open", f"{metrics.closed_trades} / {metrics.open_trades}", "")
    table.add_row("win rate", pct(metrics.win_rate), "")
    table.add_row("exposure", pct(metrics.exposure), "")
    table.add_row("turnover", f"{metrics.turnover:.2f}", "")
    table.add_row("costs paid (KRW)", f"{metrics.costs_paid:,.2f}", "")
    console.print(table)
    console.print(f"Sharpe convention: {SHARPE_CONVENTION}", style="dim")


def print_warnings(universe: list[Bars]) -> None:
    """Print what the loader repaired or doubts: one line each, a count past a few per kind."""
    for bars in universe:
        by_kind: dict[str, list[str]] = {}
        for warning in bars.warnings:
            by_kind.setdefault(warning.kind, []).append(str(warning))
        for kind, lines in by_kind.items():
            for line in lines[:WARNINGS_SHOWN]:
                console.print(f"warning: {line}", style="yellow", highlight=False, markup=False)
            if len(lines) > WARNINGS_SHOWN:
                console.print(
                    f"warning: ... and {len(lines) - WARNINGS_SHOWN} more {kind} warnings for "
                    f"{bars.ticker}",
                    style="yellow",
                    highlight=False,
                    markup=False,
                )


def print_failed_opinions(strategy: Strategy) -> None:
    """Say how many analyst opinions failed: the days they fell on had fewer voices."""
    failed: Counter[tuple[str, SignalStatus]] | None = getattr(strategy, "failed_opinions", None)
    if not failed:
        return
    table = Table(title="Analyst opinions that failed (those days were decided without them)")
    table.add_column("analyst")
    table.add_column("status")
    table.add_column("opinions", justify="right")
    for (agent, status), count in sorted(failed.items()):
        table.add_row(agent, status.value, f"{count:,}")
    console.print(table)


def write_outputs(result: BacktestResult, outputs: Outputs) -> None:
    """Write each output file asked for, saying where."""
    if outputs.trades_csv is not None:
        write_trades_csv(result, outputs.trades_csv)
        console.print(f"trades written to {outputs.trades_csv}")
    if outputs.equity_csv is not None:
        write_equity_csv(result, outputs.equity_csv)
        console.print(f"equity written to {outputs.equity_csv}")
    if outputs.orders_csv is not None:
        write_orders_csv(result, outputs.orders_csv)
        console.print(f"orders written to {outputs.orders_csv}")
    if outputs.report is not None:
        write_html_report(result, outputs.report)
        console.print(f"report written to {outputs.report}")


def print_final_equity(result: BacktestResult, cost_mode: CostMode) -> None:
    """The last line of every run: the final equity and which costs it paid."""
    mode = "parity" if cost_mode is CostMode.PARITY else "KRX"
    console.print(f"final equity {result.final_equity:,.4f} KRW ({mode} costs)", highlight=False)
