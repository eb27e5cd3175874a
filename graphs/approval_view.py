"""Why each order waits for approval: its signal, each analyst's view and the risk decisions.

`order_whys(values)` reads a thread's state (`ThreadView.values`, or any `SessionState`) and
returns one `OrderWhy` per order of the pending approval request, in the request's row order
(row 1 is the first order, as `trader approve` numbers them). It is a pure function of the
state: the CLI prints it before asking (`trader.cli.render`), and a page or an API shows the
same model as JSON (`OrderWhy.model_dump(mode="json")`), so every approver reads the same why.

What an order rests on:

- `signal`: the combined signal on its ticker (stance, conviction, score, how many opinions
  were ok); None for a protective exit of a ticker without a signal.
- `analysts`: each analyst's stance, conviction, horizon, full rationale and evidence; the
  `headline` is the rationale's first line, cut for a table.
- `sizing`: how the gate sized the order (the order's reason without the signal part).
- `risk`: the risk gate's decisions about this ticker and side (clamps, denials, notes), each as
  the line the approver reads; `held_qty`, `cash_krw` and `equity_krw` are the account as the
  gate saw it.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any, cast

from pydantic import BaseModel, ConfigDict, Field

from agents.risk.models import ProposedOrder, RiskDecision
from agents.schemas import AnalystOpinion, Signal
from agents.state import (
    ApprovalRequest,
    SessionState,
    read_context,
    read_risk_report,
    read_signals,
)

HEADLINE_WIDTH = 90
"""Characters of a rationale's first line shown in the approval table."""


def headline(text: str, width: int = HEADLINE_WIDTH) -> str:
    """The first line of `text`, cut to `width` characters (an ellipsis marks the cut)."""
    first = text.strip().splitlines()[0] if text.strip() else ""
    return first if len(first) <= width else first[: width - 1].rstrip() + "…"


class AnalystWhy(BaseModel):
    """One analyst's view of the order's ticker."""

    model_config = ConfigDict(frozen=True)

    agent: str
    status: str
    """`ok`, or why there is no view (`data_failed`, `llm_failed`, ...)."""
    stance: str | None = None
    conviction: Decimal | None = None
    horizon: str | None = None
    rationale: str = ""
    """The full rationale (or the failure's reason)."""
    headline: str = ""
    """The rationale's first line, cut to `HEADLINE_WIDTH`."""
    evidence: dict[str, int | Decimal | None] = Field(default_factory=dict)

    @classmethod
    def of(cls, opinion: AnalystOpinion) -> AnalystWhy:
        """The view of one opinion."""
        return cls(
            agent=opinion.agent,
            status=opinion.status.value,
            stance=opinion.stance.value if opinion.stance else None,
            conviction=opinion.conviction,
            horizon=opinion.horizon.value if opinion.horizon else None,
            rationale=opinion.rationale,
            headline=headline(opinion.rationale),
            evidence=dict(opinion.evidence),
        )


class SignalWhy(BaseModel):
    """The combined signal on the order's ticker."""

    model_config = ConfigDict(frozen=True)

    status: str
    stance: str | None = None
    conviction: Decimal | None = None
    score: Decimal | None = None
    reason: str = ""
    """How it was combined, e.g. ``2 of 2 opinions ok, mean vote 0.45``."""
    failed_agents: tuple[str, ...] = ()


class OrderWhy(BaseModel):
    """Everything behind one proposed order, for the approver."""

    model_config = ConfigDict(frozen=True)

    row: int
    """The order's row number in the approval request (from 1)."""
    order: ProposedOrder
    signal: SignalWhy | None = None
    analysts: tuple[AnalystWhy, ...] = ()
    sizing: str = ""
    """How the gate sized it: the order's reason after its signal part."""
    risk: tuple[str, ...] = ()
    """The risk gate's lines about this ticker and side, in the order they were made."""
    held_qty: int = 0
    """Shares of the ticker held when the gate ran."""
    cash_krw: int | None = None
    equity_krw: int | None = None


def _sizing(order: ProposedOrder, signal: Signal | None) -> str:
    if signal is not None:
        prefix = f"{order.side.value} signal ({signal.reason}); "
        if order.reason.startswith(prefix):
            return order.reason.removeprefix(prefix)
    return order.reason


def _about(decision: RiskDecision, order: ProposedOrder) -> bool:
    if decision.ticker != order.ticker:
        return False
    return decision.side is None or decision.side is order.side


def _orders(state: SessionState) -> list[ProposedOrder]:
    raw = state.get("approval_request")
    if raw:
        return list(ApprovalRequest.model_validate(raw).orders)
    return list(read_risk_report(state).orders)  # analysis only: what it would propose


def order_whys(values: Mapping[str, Any]) -> list[OrderWhy]:
    """One `OrderWhy` per order of the approval request (or of the risk report without one).

    Pieces of state that are absent (a thread that stopped before the gate ran) leave the
    matching fields empty rather than failing.
    """
    state = cast(SessionState, values)
    orders = _orders(state)
    if not orders:
        return []
    signals = {s.ticker: s for s in read_signals(state)}
    decisions = read_risk_report(state).decisions
    positions: Mapping[str, Any] = {}
    cash = equity = None
    if state.get("context"):
        snapshot = read_context(state).portfolio_snapshot
        positions, cash, equity = snapshot.positions, snapshot.cash_krw, snapshot.equity_krw
    whys: list[OrderWhy] = []
    for row, order in enumerate(orders, start=1):
        signal = signals.get(order.ticker)
        holding = positions.get(order.ticker)
        whys.append(
            OrderWhy(
                row=row,
                order=order,
                signal=None
                if signal is None
                else SignalWhy(
                    status=signal.status.value,
                    stance=signal.stance.value if signal.stance else None,
                    conviction=signal.conviction,
                    score=signal.score,
                    reason=signal.reason,
                    failed_agents=signal.failed_agents,
                ),
                analysts=tuple(AnalystWhy.of(o) for o in signal.opinions) if signal else (),
                sizing=_sizing(order, signal),
                risk=tuple(d.describe() for d in decisions if _about(d, order)),
                held_qty=holding.qty if holding is not None else 0,
                cash_krw=cash,
                equity_krw=equity,
            )
        )
    return whys
