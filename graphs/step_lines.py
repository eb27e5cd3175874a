"""One line saying what a session node just did, read from its state update.

The terminal (`trader.cli.render`), the scheduler's log and the service's progress stream
(`trader.service.progress`) all describe a step with the same words.
"""

from __future__ import annotations

from typing import Any

from agents.state import SessionStatus


def _count(items: Any) -> int:
    return len(items) if isinstance(items, list) else 0


def describe_update(node: str, update: dict[str, Any]) -> str:
    """One line saying what a node just did, from its state update."""
    if node == "load_context":
        data = update.get("context") or {}
        if update.get("status") == SessionStatus.CLOSED:
            return f"{data.get('session_date', '')} is not a KRX trading day"
        quoted = len(data.get("market") or {})
        unknown = len(data.get("unknown_tickers") or {})
        extra = f", {unknown} not quoted" if unknown else ""
        if update.get("status") == SessionStatus.ANALYSIS_ONLY:
            extra += " (analysis only: not today's session)"
        return f"{quoted} tickers quoted{extra}"
    if node in {"market_analyst", "fundamental"}:
        opinions = update.get("opinions") or []
        failed = sum(1 for o in opinions if o.get("status") != "ok")
        extra = f" ({failed} without an opinion)" if failed else ""
        return f"{len(opinions)} tickers judged{extra}"
    if node == "signals":
        stances = [s.get("stance") or s.get("status") for s in update.get("signals") or []]
        counts = ", ".join(f"{stances.count(k)} {k}" for k in sorted(set(stances)))
        return f"{len(stances)} signals ({counts})" if stances else "no signals"
    if node == "risk_manager":
        report = update.get("risk_report") or {}
        orders = _count(report.get("orders"))
        lines = _count(report.get("decisions"))
        notes = f", {lines} risk notes" if lines else ""
        if update.get("status") == SessionStatus.ANALYSIS_ONLY:
            return f"{orders} orders it would propose, not for trading{notes}"
        return f"{orders} orders proposed{notes}"
    if node == "approval":
        return "answer received"
    if node == "review":
        review = update.get("review") or []
        approved = sum(1 for r in review if r.get("approved"))
        return f"{approved} of {len(review)} orders approved"
    if node == "executor":
        outcomes = update.get("executions") or []
        statuses = [o.get("status") for o in outcomes]
        counts = ", ".join(f"{statuses.count(k)} {k}" for k in sorted(set(map(str, statuses))))
        return f"{len(outcomes)} orders sent ({counts})" if outcomes else "no orders sent"
    if node == "report":
        return "report written"
    return "done"
