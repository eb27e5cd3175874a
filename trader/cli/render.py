"""How sessions look in the terminal: progress lines, the approval request, the report, runs.

Shared by `trader session ...`, `trader approve` and `trader demo`, so a session reads the same
whichever command shows it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from rich import box
from rich.markup import escape
from rich.table import Table

from agents.executor import FillProgress, OrderOutcome, average_price
from agents.risk.models import ProposedOrder, RiskReport
from agents.schemas import AnalystOpinion
from agents.state import ApprovalRequest, SessionStatus
from core.clock import KST
from graphs.approval_view import OrderWhy, order_whys
from graphs.nodes.approval import ReviewLine
from graphs.nodes.report import SessionReport
from graphs.runner import RunRow, ThreadView
from graphs.step_lines import describe_update
from trader.cli.console import console

ID_PREFIX = "mat-"
SHORT_ID = 8
"""Characters of a client order id shown after its `mat-` prefix."""


def short_id(client_order_id: str) -> str:
    """Return the short form of a client order id, as tables show it."""
    body = client_order_id.removeprefix(ID_PREFIX)
    return body[:SHORT_ID]


def krw(value: int | None) -> str:
    """Format a KRW amount with thousands separators (or `market` for no price)."""
    return "market" if value is None else f"{value:,}"


def approve_command(thread_id: str) -> str:
    """The exact command that approves every order of a waiting thread."""
    return f"trader approve {thread_id} --all"


# --- progress --------------------------------------------------------------------------------


def describe_fills(progress: FillProgress) -> str:
    """The live line while fills are followed: orders placed, filled, shares filled."""
    n = progress.orders
    return (
        f"following fills: {progress.placed}/{n} placed, {progress.filled}/{n} filled "
        f"({progress.filled_qty:,}/{progress.qty:,} shares) · Ctrl-C stops following; "
        "the session stays resumable"
    )


def resume_command(thread_id: str) -> str:
    """The exact command that continues a thread that stopped part-way."""
    return f"trader session resume {thread_id}"


def print_interrupted_while_executing(thread_id: str) -> None:
    """Say what Ctrl-C while executing left behind, and the exact command that continues."""
    console.print(
        f"Interrupted. Session {thread_id} stopped before its executor finished: orders already "
        "sent stay at the broker and are never sent twice. To continue following them:",
        highlight=False,
        markup=False,
    )
    console.print(f"  {resume_command(thread_id)}", highlight=False, markup=False)


def print_progress(node: str, update: dict[str, Any]) -> None:
    """Print one progress line for a finished node."""
    console.print(f"  [green]✓[/] {node}: {describe_update(node, update)}", highlight=False)


# --- approval --------------------------------------------------------------------------------


def _order_row(index: int, order: ProposedOrder) -> list[str]:
    return [
        str(index),
        short_id(order.client_order_id),
        order.ticker,
        order.side.value,
        f"{order.qty:,}",
        krw(order.limit_price_krw),
        krw(order.qty * order.limit_price_krw) if order.limit_price_krw else "",
        headline(order.reason),
    ]


REASON_WIDTH = 28


def headline(reason: str) -> str:
    """The start of a reason's first clause (the full text is in the database and Studio)."""
    first = reason.split("; ", 1)[0]
    return first if len(first) <= REASON_WIDTH else first[: REASON_WIDTH - 1] + "…"


def orders_table(orders: Sequence[ProposedOrder], title: str = "Proposed orders") -> Table:
    """The proposed orders with the row numbers and short ids `trader approve` accepts."""
    table = Table(title=title, title_justify="left")
    for name, justify in (
        ("#", "right"),
        ("id", "left"),
        ("ticker", "left"),
        ("side", "left"),
        ("qty", "right"),
        ("price", "right"),
        ("value", "right"),
    ):
        table.add_column(name, justify=justify, no_wrap=True)  # type: ignore[arg-type]
    table.add_column("reason")  # the only column that wraps, so the numbers never shrink
    for index, order in enumerate(orders, start=1):
        table.add_row(*_order_row(index, order))
    return table


def _local(iso: str) -> str:
    try:
        return datetime.fromisoformat(iso).astimezone(KST).strftime("%Y-%m-%d %H:%M KST")
    except ValueError:
        return iso


def _num(value: Decimal | None, sign: bool = False) -> str:
    if value is None:
        return "-"
    return f"{float(value):+.2f}" if sign else f"{float(value):.2f}"


def _signal_text(why: OrderWhy) -> str:
    signal = why.signal
    if signal is None:
        return f"no signal ({why.order.origin.value})"
    if signal.stance is None:
        return f"signal {signal.status}"
    return (
        f"signal {signal.stance} {_num(signal.conviction)} (score {_num(signal.score, True)}; "
        f"{signal.reason})"
    )


def _account_text(why: OrderWhy) -> str:
    parts = [f"held {why.held_qty:,}"]
    if why.cash_krw is not None:
        parts.append(f"cash {why.cash_krw:,} KRW")
    if why.equity_krw is not None:
        parts.append(f"equity {why.equity_krw:,} KRW")
    return " · ".join(parts)


def order_why_table(why: OrderWhy) -> Table:
    """One order's why: the signal, each analyst's stance, conviction and rationale line."""
    order = why.order
    title = (
        f"#{why.row} {order.side.value} {order.ticker} "
        f"{_at_price(order.qty, order.limit_price_krw)} · {_signal_text(why)}"
    )
    table = Table(title=escape(title), title_justify="left", box=box.SIMPLE_HEAD)
    table.add_column("analyst", no_wrap=True)
    table.add_column("stance", no_wrap=True)
    table.add_column("conviction", justify="right", no_wrap=True)
    table.add_column("rationale", overflow="fold")
    for analyst in why.analysts:
        table.add_row(
            analyst.agent.replace("_", " "),
            analyst.stance or analyst.status,
            _num(analyst.conviction),
            escape(analyst.headline),
        )
    return table


def _at_price(qty: int, price: int | None) -> str:
    return f"{qty:,} @ {krw(price)}"


def print_order_why(why: OrderWhy) -> None:
    """One order's why, in brief: the analysts' table, the sizing and the risk decisions."""
    console.print(order_why_table(why))
    console.print(f"  size: {why.sizing}", highlight=False, markup=False)
    console.print(f"  account: {_account_text(why)}", highlight=False, markup=False)
    for line in why.risk or ("no clamp, denial or note on this order",):
        console.print(f"  risk: {line}", highlight=False, markup=False)


def print_order_detail(why: OrderWhy) -> None:
    """One order's full why (`v N` at the prompt): every rationale and its evidence."""
    order = why.order
    at = _at_price(order.qty, order.limit_price_krw)
    console.rule(escape(f"#{why.row} {order.side.value} {order.ticker} {at}"), style="dim")
    console.print(_signal_text(why), highlight=False, markup=False)
    for analyst in why.analysts:
        head = f"{analyst.agent.replace('_', ' ')}: {analyst.stance or analyst.status}"
        if analyst.conviction is not None:
            head += f" {_num(analyst.conviction)}"
        if analyst.horizon:
            head += f" ({analyst.horizon})"
        console.print(f"[bold]{escape(head)}[/]", highlight=False)
        for line in (analyst.rationale or "(no rationale)").splitlines():
            console.print(f"  {line}", highlight=False, markup=False)
        if analyst.evidence:
            evidence = Table(box=box.SIMPLE, show_header=False, padding=(0, 1))
            evidence.add_column("name")
            evidence.add_column("value", justify="right")
            for name, value in analyst.evidence.items():
                evidence.add_row(escape(name), "n/a" if value is None else str(value))
            console.print(evidence)
    console.print(f"Order reason: {order.reason}", highlight=False, markup=False)
    console.print(f"Account: {_account_text(why)}", highlight=False, markup=False)
    for line in why.risk or ("no clamp, denial or note on this order",):
        console.print(f"  risk: {line}", highlight=False, markup=False)


def print_approval_request(request: ApprovalRequest, whys: Sequence[OrderWhy] = ()) -> None:
    """Show what waits for approval: the orders, why each, the risk lines, the expiry.

    `whys` (`graphs.approval_view.order_whys` of the thread's state) adds, per order, the
    signal, each analyst's stance, conviction and rationale, and the risk decisions behind
    its size.
    """
    console.print(orders_table(request.orders))
    if whys:
        console.print("[bold]Why each order[/] (v N at the prompt shows order N in full)")
        for why in whys:
            print_order_why(why)
    if request.risk_report:
        console.print("[bold]Risk report[/]")
        for line in request.risk_report:
            console.print(f"  - {line}", highlight=False, markup=False)
    console.print(f"Approval expires at {_local(request.expires_at)}.", highlight=False)


def print_how_to_continue(thread_id: str) -> None:
    """Print the thread id and the commands that continue it."""
    console.print(
        f"Session [bold]{thread_id}[/] is waiting for approval. To continue:", highlight=False
    )
    console.print(f"  {approve_command(thread_id)}", highlight=False, markup=False)
    console.print(
        f"  (or: trader approve {thread_id} --reject ID / --edit ID=QTY@PRICE; "
        f"trader session status {thread_id})",
        highlight=False,
        markup=False,
    )


# --- report ----------------------------------------------------------------------------------


def _opinion_text(opinion: AnalystOpinion) -> str:
    if opinion.stance is None or opinion.conviction is None:
        return opinion.status.value
    return f"{opinion.stance.value} {float(opinion.conviction):.2f}"


def signals_table(report: SessionReport, opinions: Sequence[AnalystOpinion] = ()) -> Table:
    """One row per ticker: the combined signal and, when known, each analyst's view."""
    table = Table(title="Signals", title_justify="left")
    table.add_column("ticker", no_wrap=True)
    table.add_column("signal", no_wrap=True)
    agents = sorted({o.agent for o in opinions})
    views = {(o.ticker, o.agent): _opinion_text(o) for o in opinions}
    for agent in agents:
        table.add_column(agent.replace("_", " "), no_wrap=True)
    notes = {s.ticker: s.reason for s in report.signals if s.status != "ok" or not agents}
    if notes:
        table.add_column("note", overflow="fold")
    for s in report.signals:
        if s.stance is not None and s.conviction is not None:
            signal = f"{s.stance} {float(s.conviction):.2f}"
        else:
            signal = s.status
        cells = [s.ticker, signal, *(views.get((s.ticker, a), "") for a in agents)]
        table.add_row(*cells, *([notes.get(s.ticker, "")] if notes else []))
    return table


def _order_text(side: str, qty: int, price: int | None) -> str:
    return f"{side} {qty:,} @ {krw(price)}"


def _result(outcome: OrderOutcome | None) -> str:
    if outcome is None:
        return "not sent"
    avg = average_price(outcome)
    fill = f" {outcome.filled_qty:,}/{outcome.qty:,}" if outcome.filled_qty else ""
    at = f" @ {int(avg):,}" if avg is not None else ""
    status = outcome.status.value.replace("_", " ")
    return f"{status}{fill}{at}"


def executions_table(report: SessionReport, proposed: Sequence[ProposedOrder] = ()) -> Table:
    """Each proposed order: what the approver decided, and where it ended at the broker.

    `proposed` (the approval request's orders) shows what a rejected order would have been.
    """
    table = Table(title="Orders", title_justify="left")
    table.add_column("#", justify="right")
    table.add_column("ticker", no_wrap=True)
    table.add_column("order", no_wrap=True)
    table.add_column("decision", no_wrap=True)
    table.add_column("result", no_wrap=True)
    table.add_column("note", overflow="fold")
    outcomes = {o.client_order_id: o for o in report.executions}
    asked = {o.client_order_id: o for o in proposed}
    reviewed: list[ReviewLine] = [r for r in report.review if r.ticker]
    for index, line in enumerate(reviewed, start=1):
        outcome = outcomes.pop(line.client_order_id, None)
        order = line.approved or asked.get(line.client_order_id)
        table.add_row(
            str(index),
            line.ticker,
            _order_text(order.side.value, order.qty, order.limit_price_krw) if order else "",
            line.decision.value,
            _result(outcome) if line.approved else "",
            "; ".join(n for n in (line.note, outcome.note if outcome else "") if n),
        )
    for outcome in outcomes.values():  # executed without a review line (should not happen)
        table.add_row(
            "",
            outcome.ticker,
            _order_text(outcome.side.value, outcome.qty, outcome.limit_price_krw),
            "",
            _result(outcome),
            outcome.note,
        )
    return table


def holdings_table(report: SessionReport) -> Table:
    """The positions after the session."""
    table = Table(title="Holdings", title_justify="left")
    for name in ("ticker", "qty", "avg price", "last", "value", "unrealised P&L"):
        table.add_column(name, justify="left" if name == "ticker" else "right")
    for h in report.holdings:
        table.add_row(
            h.ticker,
            f"{h.qty:,}",
            f"{h.avg_price_krw:,}",
            f"{h.last_price_krw:,}",
            f"{h.market_value_krw:,}",
            f"{h.unrealized_pnl_krw:+,}",
        )
    return table


def print_report(
    report: SessionReport,
    proposed: Sequence[ProposedOrder] = (),
    opinions: Sequence[AnalystOpinion] = (),
) -> None:
    """The whole session report: signals, orders, risk, portfolio, LLM use, unknown tickers.

    `proposed` and `opinions` (from the thread's state) add what the report itself leaves out:
    the orders as proposed, and each analyst's view behind a signal.
    """
    console.rule(f"Session {report.thread_id}", style="dim")
    console.print(
        f"date {report.session_date} · venue {report.venue} · status [bold]{report.status}[/]",
        highlight=False,
    )
    if report.signals:
        console.print(signals_table(report, opinions))
    if report.note:
        console.print(f"[bold]{escape(report.note)}[/]", highlight=False)
    if report.review or report.executions:
        console.print(executions_table(report, proposed))
    elif report.status == SessionStatus.ANALYSIS_ONLY and proposed:
        console.print(orders_table(proposed, title="Orders the risk gate would propose (not sent)"))
    else:
        console.print("No orders.")
    if report.needs_review:
        # Orders nobody may resend or forget: a person must check them at the broker.
        console.print("[bold red]Needs review[/]")
        for line in report.needs_review:
            console.print(f"  - needs review: {line}", highlight=False, markup=False)
    if report.risk_lines:
        console.print("[bold]Risk report[/]")
        for line in report.risk_lines:
            console.print(f"  - {line}", highlight=False, markup=False)
    if report.unknown_tickers:
        console.print("[bold]Not analysed[/]")
        for ticker, reason in report.unknown_tickers.items():
            console.print(f"  - {ticker}: {reason}", highlight=False, markup=False)
    if report.holdings:
        console.print(holdings_table(report))
    console.print(
        f"Portfolio: cash {report.cash_krw:,} KRW · equity {report.equity_krw:,} KRW",
        highlight=False,
    )
    usage = report.llm
    if usage.calls:
        unpriced = (
            f" (no price for {', '.join(usage.unpriced_models)})" if usage.unpriced_models else ""
        )
        console.print(
            f"LLM: {usage.calls} calls, {usage.input_tokens:,} in + {usage.output_tokens:,} out "
            f"tokens, ${usage.cost_usd:.4f}{unpriced}",
            highlight=False,
        )
    else:
        console.print("LLM: none (rules reasoner)", highlight=False)


def print_view(view: ThreadView) -> None:
    """Show a thread as it stands: its report, its pending approval, or its next step."""
    if (
        view.status is SessionStatus.DUPLICATE
    ):  # another thread (e.g. a Studio thread) holds the session
        console.print(view.values.get("notice", "session held by another thread"), markup=False)
    elif view.report is not None and view.finished:
        asked = view.values.get("approval_request")
        proposed = ApprovalRequest.model_validate(asked).orders if asked else []
        if view.report.status == SessionStatus.ANALYSIS_ONLY:
            proposed = list(RiskReport.model_validate(view.values.get("risk_report") or {}).orders)
        opinions = [AnalystOpinion.model_validate(o) for o in view.values.get("opinions", [])]
        print_report(view.report, proposed, opinions)
    elif view.awaiting_approval and view.request is not None:
        print_approval_request(view.request, order_whys(view.values))
        print_how_to_continue(view.thread_id)
    elif view.exists:
        nodes = ", ".join(view.next_nodes) or "nothing"
        console.print(
            f"Session {view.thread_id} stopped part-way (status {view.status}, next: {nodes}). "
            f"Continue it with: trader session resume {view.thread_id}",
            highlight=False,
            markup=False,
        )


def runs_table(rows: Sequence[RunRow]) -> Table:
    """Recent runs, newest first (the thread id holds the portfolio, date and phase)."""
    table = Table(title="Recent sessions", title_justify="left", box=box.SIMPLE_HEAD)
    table.add_column("thread", overflow="fold")
    table.add_column("venue", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("orders", justify="right", no_wrap=True)
    table.add_column("tokens", justify="right", no_wrap=True)
    table.add_column("cost $", justify="right", no_wrap=True)
    for row in rows:
        table.add_row(
            row.thread_id,
            row.venue or "",
            row.status,
            str(row.orders),
            f"{row.tokens:,}",
            f"{row.cost_usd:.4f}",
        )
    return table
