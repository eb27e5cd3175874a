"""One line saying what a session node just did, read from its state update.

The terminal (`trader.cli.render`), the scheduler's log and the service's progress stream
(`trader.service.progress`) all describe a step with the same words.
"""

from __future__ import annotations

from typing import Any

from agents.executor.models import OUTSIDE_ORDER_HOURS
from agents.state import SessionStatus
from core.orders import OrderStatus


def _count(items: Any) -> int:
    return len(items) if isinstance(items, list) else 0


def _held_back(outcome: dict[str, Any]) -> bool:
    """Refused by the executor for its time: KIS was not taking orders, so it was never sent."""
    return outcome.get("status") == OrderStatus.REJECTED.value and str(
        outcome.get("note") or ""
    ).startswith(OUTSIDE_ORDER_HOURS)


def describe_executions(outcomes: list[dict[str, Any]]) -> str:
    """``2 orders sent (1 filled, 1 rejected); 1 held back outside order hours``.

    Only orders that went to the broker count as sent, so `rejected` in the brackets is the
    broker's refusal; an order the executor held back because the venue took no orders then,
    or that expired before it could be sent, is said apart.
    """
    held = [o for o in outcomes if _held_back(o)]
    expired = [o for o in outcomes if o.get("status") == OrderStatus.EXPIRED.value]
    sent = [
        o for o in outcomes if not _held_back(o) and o.get("status") != OrderStatus.EXPIRED.value
    ]
    statuses = [str(o.get("status")) for o in sent]
    counts = ", ".join(f"{statuses.count(k)} {k}" for k in sorted(set(statuses)))
    noun = "order" if len(sent) == 1 else "orders"
    parts = [f"{len(sent)} {noun} sent ({counts})" if sent else "no orders sent"]
    if held:
        parts.append(f"{len(held)} held back outside order hours")
    if expired:
        parts.append(f"{len(expired)} not sent (expired)")
    return "; ".join(parts)


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
        return describe_executions(update.get("executions") or [])
    if node == "report":
        return "report written"
    return "done"
