"""Run outputs a person reads: trade and equity CSVs, and a self-contained HTML report.

The HTML has no scripts and loads nothing: the charts are inline SVG drawn here, so the file
can be mailed or archived and opens the same way in ten years.
"""

from __future__ import annotations

import csv
import html
from collections import Counter
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import numpy as np

from evals.backtest.data import FloatArray
from evals.backtest.engine import BacktestResult
from evals.backtest.metrics import (
    SHARPE_CONVENTION,
    CurveMetrics,
    Metrics,
    benchmark_metrics,
    compute_metrics,
    drawdown,
)

TRADE_COLUMNS = ("ticker", "entry_fill_date", "qty", "entry_price", "exit_fill_date", "exit_price")


def write_trades_csv(result: BacktestResult, path: Path) -> None:
    """Write the closed trades with `TRADE_COLUMNS` (ISO dates), oldest entry first."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(TRADE_COLUMNS)
        for t in result.trades:
            exit_day = t.exit_day.isoformat() if t.exit_day else ""
            writer.writerow(
                [t.ticker, t.entry_day.isoformat(), t.qty, t.entry_price, exit_day, t.exit_price]
            )


ORDER_COLUMNS = (
    "decided_on", "ticker", "side", "qty_asked", "limit_price", "status", "fill_date",
    "qty", "price", "commission", "tax", "why_not_filled", "reason",
)  # fmt: skip


def write_orders_csv(result: BacktestResult, path: Path) -> None:
    """Write every order the strategy decided, what became of it, and the strategy's reason.

    One row per order, by decision day: `filled` with the fill's date, quantity, price and
    costs, or `rejected` with why it did not fill (limit not reached, no cash, halted...).
    `qty_asked` is empty for a sized buy or a whole-position sell; `limit_price` is empty for
    a market order. The audit trail of an agents replay: the reason is the risk manager's.
    """
    rows: list[tuple[date, int, list[object]]] = []
    for fill in result.fills:
        intent = fill.intent
        rows.append((fill.decided_on, len(rows), [
            fill.decided_on.isoformat(), fill.ticker, fill.side.value,
            "" if intent is None or intent.qty is None else intent.qty,
            "" if intent is None or intent.limit_price is None else intent.limit_price,
            "filled", fill.day.isoformat(), fill.qty, fill.price, f"{fill.commission:.4f}",
            f"{fill.tax:.4f}", "", "" if intent is None else intent.reason,
        ]))  # fmt: skip
    for rej in result.rejections:
        intent = rej.intent
        rows.append((rej.decided_on, len(rows), [
            rej.decided_on.isoformat(), rej.ticker, rej.side.value,
            "" if intent is None or intent.qty is None else intent.qty,
            "" if intent is None or intent.limit_price is None else intent.limit_price,
            "rejected", "" if rej.day is None else rej.day.isoformat(), "", "", "", "",
            rej.reason, "" if intent is None else intent.reason,
        ]))  # fmt: skip
    rows.sort(key=lambda r: (r[0], r[1]))
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(ORDER_COLUMNS)
        writer.writerows(r[2] for r in rows)


def write_equity_csv(result: BacktestResult, path: Path) -> None:
    """Write `date,equity,cash,drawdown_pct,benchmark` per day."""
    path.parent.mkdir(parents=True, exist_ok=True)
    dd = drawdown(result.equity)
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["date", "equity", "cash", "drawdown_pct", "benchmark"])
        for i, day in enumerate(result.days):
            writer.writerow(
                [
                    day.isoformat(),
                    f"{result.equity[i]:.4f}",
                    f"{result.cash[i]:.4f}",
                    f"{dd[i] * 100:.6f}",
                    f"{result.benchmark[i]:.4f}",
                ]
            )


# --- SVG -----------------------------------------------------------------------------------

_W, _H, _PAD_L, _PAD_R, _PAD_T, _PAD_B = 900, 260, 90, 20, 20, 30


def _points(values: FloatArray, lo: float, hi: float) -> str:
    n = len(values)
    span = hi - lo or 1.0
    xs = _PAD_L + np.arange(n) * ((_W - _PAD_L - _PAD_R) / max(n - 1, 1))
    ys = _PAD_T + (hi - values) / span * (_H - _PAD_T - _PAD_B)
    return " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(xs, ys, strict=True))


def _year_ticks(days: Sequence[date]) -> str:
    n = len(days)
    out = []
    for i in range(1, n):
        if days[i].year != days[i - 1].year:
            x = _PAD_L + i * ((_W - _PAD_L - _PAD_R) / max(n - 1, 1))
            out.append(
                f'<line x1="{x:.1f}" y1="{_PAD_T}" x2="{x:.1f}" y2="{_H - _PAD_B}" class="grid"/>'
                f'<text x="{x:.1f}" y="{_H - 10}" class="axis">{days[i].year}</text>'
            )
    return "".join(out)


def svg_chart(
    days: Sequence[date],
    series: Sequence[tuple[str, FloatArray, str]],
    fmt: str = "{:,.0f}",
    fill_to_zero: bool = False,
) -> str:
    """Return an inline SVG line chart of one or more series (label, values, colour)."""
    finite = np.concatenate([v[np.isfinite(v)] for _, v, _ in series])
    lo, hi = (float(finite.min()), float(finite.max())) if len(finite) else (0.0, 1.0)
    if fill_to_zero:
        hi = max(hi, 0.0)
    parts = [
        f'<svg viewBox="0 0 {_W} {_H}" width="100%" role="img" xmlns="http://www.w3.org/2000/svg">',
        f'<text x="{_PAD_L - 6}" y="{_PAD_T + 4}" class="axis" text-anchor="end">'
        f"{html.escape(fmt.format(hi))}</text>",
        f'<text x="{_PAD_L - 6}" y="{_H - _PAD_B}" class="axis" text-anchor="end">'
        f"{html.escape(fmt.format(lo))}</text>",
        f'<rect x="{_PAD_L}" y="{_PAD_T}" width="{_W - _PAD_L - _PAD_R}" '
        f'height="{_H - _PAD_T - _PAD_B}" class="frame"/>',
        _year_ticks(days),
    ]
    for k, (label, values, colour) in enumerate(series):
        pts = _points(np.nan_to_num(values, nan=lo), lo, hi)
        if fill_to_zero:
            x_end = _W - _PAD_R
            parts.append(
                f'<polygon points="{_PAD_L},{_PAD_T} {pts} {x_end},{_PAD_T}" '
                f'fill="{colour}" fill-opacity="0.35" stroke="{colour}"/>'
            )
        else:
            parts.append(f'<polyline points="{pts}" fill="none" stroke="{colour}"/>')
        parts.append(
            f'<text x="{_PAD_L + 8 + 160 * k}" y="{_PAD_T + 14}" fill="{colour}" class="legend">'
            f"{html.escape(label)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


# --- HTML ----------------------------------------------------------------------------------


def _pct(v: float | None) -> str:
    return "n/a" if v is None else f"{v * 100:,.2f} %"


def _num(v: float | None, digits: int = 2) -> str:
    return "n/a" if v is None else f"{v:,.{digits}f}"


def _curve_rows(m: CurveMetrics) -> list[tuple[str, str]]:
    return [
        ("Final equity (KRW)", _num(m.final_equity, 4)),
        ("Total return", _pct(m.total_return)),
        ("CAGR", _pct(m.cagr)),
        ("Volatility (ann.)", _pct(m.volatility)),
        ("Sharpe", _num(m.sharpe, 4)),
        ("Max drawdown", _pct(m.max_drawdown)),
    ]


_CSS = """
body{font-family:system-ui,sans-serif;margin:2em;color:#222;max-width:1000px}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px}
td.n{text-align:right;font-variant-numeric:tabular-nums}th{background:#f3f3f3}
.axis{font-size:11px;fill:#555}.legend{font-size:12px}.grid{stroke:#eee}
.frame{fill:none;stroke:#bbb}polyline{stroke-width:1.3}
"""


def _rejection_table(result: BacktestResult) -> str:
    """Count the orders that did not fill, by reason (`--orders-csv` lists each one)."""
    if not result.rejections:
        if not result.fills:
            return "<p>The strategy placed no order.</p>"
        return f"<p>Every one of the {len(result.fills)} orders filled.</p>"
    counts = Counter((r.side.value, r.reason) for r in result.rejections)
    rows = "".join(
        f"<tr><td>{side}</td><td>{html.escape(reason)}</td><td class=n>{n:,}</td></tr>"
        for (side, reason), n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    )
    return (
        f"<p>{len(result.rejections)} of {len(result.rejections) + len(result.fills)} orders "
        "did not fill; day orders lapse, nothing carries over.</p>"
        f"<table><tr><th>side</th><th>why</th><th>orders</th></tr>{rows}</table>"
    )


def render_html(result: BacktestResult, metrics: Metrics, bench: CurveMetrics) -> str:
    """Return the report as one HTML document."""
    ours = _curve_rows(metrics.curve)
    theirs = _curve_rows(bench)
    rows = [
        f"<tr><th>{html.escape(k)}</th><td class=n>{a}</td><td class=n>{b}</td></tr>"
        for (k, a), (_, b) in zip(ours, theirs, strict=True)
    ]
    extra = [
        ("Closed / open trades", f"{metrics.closed_trades} / {metrics.open_trades}"),
        ("Win rate", _pct(metrics.win_rate)),
        ("Exposure", _pct(metrics.exposure)),
        ("Turnover", _num(metrics.turnover)),
        ("Commission (KRW)", _num(metrics.commission_paid)),
        ("Transaction tax (KRW)", _num(metrics.tax_paid)),
        ("Costs paid (KRW)", _num(metrics.costs_paid)),
    ]
    rows += [f"<tr><th>{k}</th><td class=n>{v}</td><td></td></tr>" for k, v in extra]
    trades = [
        f"<tr><td>{html.escape(t.ticker)}</td><td>{t.entry_day}</td><td class=n>{t.qty:,}</td>"
        f"<td class=n>{t.entry_price:,}</td><td>{t.exit_day or 'open'}</td>"
        f"<td class=n>{'' if t.exit_price is None else f'{t.exit_price:,}'}</td>"
        f"<td class=n>{'' if t.pnl is None else f'{float(t.pnl):,.2f}'}</td></tr>"
        for t in [*result.trades, *result.open_trades]
    ]
    cfg = result.config
    title = f"Backtest: {result.strategy} on {', '.join(result.tickers)}"
    equity_svg = svg_chart(
        result.days,
        [("strategy", result.equity, "#1f5fbf"), ("buy & hold", result.benchmark, "#999")],
    )
    dd_svg = svg_chart(
        result.days, [("drawdown", -drawdown(result.equity) * 100, "#c0392b")], "{:.1f} %", True
    )
    params = ", ".join(f"{k}={v}" for k, v in result.params.items())
    missing = result.params.get("fundamental_no_data") or []
    no_data = (
        f"<p>The fundamental analyst had no data for {html.escape(', '.join(missing))}: the "
        "market analyst alone decided them.</p>"
        if missing
        else ""
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>{_CSS}</style></head><body>
<h1>{html.escape(title)}</h1>
<p>{result.days[0]} to {result.days[-1]} ({len(result.days)} trading days); strategy parameters:
{html.escape(params or "none")}; starting cash {cfg.cash:,} KRW; cost mode
{cfg.broker.cost_mode.value}, commission {cfg.broker.commission_rate * 100} % per side,
transaction tax {"on" if cfg.broker.charge_tax else "off"}. Fills at the next day's open.</p>
{no_data}<h2>Equity</h2>{equity_svg}
<h2>Drawdown</h2>{dd_svg}
<h2>Metrics</h2>
<table><tr><th></th><th>strategy</th><th>buy &amp; hold (equal weight)</th></tr>
{"".join(rows)}</table>
<p>Sharpe: {html.escape(SHARPE_CONVENTION)}. Volatility: std of daily returns × √252.
CAGR over calendar days (365.25 a year). Turnover: (bought + sold) / 2 / mean equity.
Buy &amp; hold: cash split equally, invested at each ticker's first close, no costs.</p>
<h2>Trades</h2>
<table><tr><th>ticker</th><th>entry fill</th><th>qty</th><th>entry price</th><th>exit fill</th>
<th>exit price</th><th>net PnL (KRW)</th></tr>{"".join(trades)}</table>
<h2>Orders that did not fill</h2>
{_rejection_table(result)}
</body></html>
"""


def write_html_report(result: BacktestResult, path: Path) -> None:
    """Compute the metrics and write the HTML report to `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = render_html(result, compute_metrics(result), benchmark_metrics(result))
    path.write_text(text, encoding="utf-8")
