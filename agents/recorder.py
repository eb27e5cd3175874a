"""What a session records as it goes, as one object the context carries (`SessionContext.recorder`).

The roles and nodes say what happened (signals combined, orders proposed, a review decided, the
book reconciled, the run's status moved); the recorder decides where that goes. Live sessions
write to our database through `graphs.recorder.DatabaseRecorder`; backtests carry the
`NullRecorder`, which keeps nothing, so no node asks whether it should write.

Every method may be called again with the same arguments (LangGraph re-runs a node from its
first line when it resumes or retries): a recorder must leave the same records either way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from agents.llm import LLMUsage
from agents.risk.models import ProposedOrder
from agents.schemas import AnalystOpinion, Signal
from core.orders import OrderStatus, OrderType
from db.models import ApprovalDecision, RunStatus
from tools.broker import AccountSnapshot


@dataclass(frozen=True)
class SessionHolder:
    """Another thread that holds the session a thread was started for."""

    thread_id: str
    status: RunStatus | None
    """Its run's status (None before its run row exists)."""


@dataclass(frozen=True)
class RecordedDecision:
    """An approval decision as it was recorded, with the order as it was approved."""

    decision: ApprovalDecision
    decided_by: str
    decided_at: datetime
    qty: int
    """The order's quantity (the edited one after an edit)."""
    limit_price_krw: int | None
    order_type: OrderType
    status: OrderStatus
    """The order's status now (an edit the risk rules denied left it `rejected`)."""

    @property
    def approved(self) -> bool:
        """True when the order went ahead: approved (or edited) and not rejected or expired."""
        return self.decision in (
            ApprovalDecision.APPROVE,
            ApprovalDecision.EDIT,
        ) and self.status not in (OrderStatus.PROPOSED, OrderStatus.REJECTED, OrderStatus.EXPIRED)


ReviewEntry = tuple[ProposedOrder, ApprovalDecision, ProposedOrder | None, str]
"""One reviewed order: (the order as proposed, the decision, the order as approved or None,
the note)."""


class Recorder(Protocol):
    """Where a session's records go; `DatabaseRecorder` live, `NullRecorder` in backtests."""

    async def claim_session(
        self, *, thread_id: str, portfolio: str, session_date: date, phase: str
    ) -> SessionHolder | None:
        """Claim (portfolio, date, phase) for this thread; return the holder if another.

        One session, one thread: a second thread of the same session (Studio gives every
        thread a random id) must never propose and execute a second set of orders.
        """
        ...

    async def ensure_run(
        self, *, thread_id: str, portfolio: str, session_date: date, phase: str
    ) -> int:
        """Create (or find) the portfolio and the run of this thread; return the run id."""
        ...

    async def run_id(self, thread_id: str) -> int | None:
        """The id of the thread's recorded run (None: no run recorded, nothing to lease)."""
        ...

    async def reconcile_book(self, portfolio: str, cash_krw: int, equity_krw: int) -> int:
        """Keep the broker's cash and raise the book's high-water mark; return the peak."""
        ...

    async def mirror_positions(self, portfolio: str, account: AccountSnapshot) -> None:
        """Replace the book's positions with the broker's (the broker is the truth)."""
        ...

    async def record_signals(
        self,
        run_id: int,
        opinions: Sequence[AnalystOpinion],
        signals: Sequence[Signal],
        prompt_versions: Mapping[str, str],
        rules_versions: Mapping[str, str],
    ) -> None:
        """Keep each analyst's opinion and each ticker's combined signal.

        `prompt_versions` and `rules_versions` map an agent to the versions it judged with;
        both are kept on its rows, so a change of decisions can be traced to its cause.
        """
        ...

    async def record_proposals(self, run_id: int, orders: Sequence[ProposedOrder]) -> None:
        """Keep the proposed orders (status `proposed`) unless they are kept already."""
        ...

    async def recorded_decisions(
        self, client_order_ids: Sequence[str]
    ) -> dict[str, RecordedDecision]:
        """The approval decisions recorded for these orders (those that have one)."""
        ...

    async def record_review(
        self,
        run_id: int,
        entries: Sequence[ReviewEntry],
        *,
        decided_by: str,
        decided_at: datetime,
    ) -> dict[str, RecordedDecision]:
        """Keep each decision and move the orders on; return the decisions that stand.

        The first decision recorded for an order stands: the ones returned are what the
        executor must carry out, which differ from `entries` when an earlier answer was
        recorded (a re-run after a crash that lost the checkpoints). Empty: nothing is kept,
        and the entries themselves are the decisions.
        """
        ...

    async def set_run_status(self, thread_id: str, status: RunStatus) -> None:
        """Move the thread's run to `status` (awaiting approval, running, failed)."""
        ...

    async def finish_run(
        self, thread_id: str, status: RunStatus, usage: LLMUsage, summary: dict[str, Any]
    ) -> None:
        """Close the thread's run with its status, token use, cost and summary."""
        ...


class NullRecorder:
    """Keeps nothing: the recorder of backtests, which replay thousands of sessions.

    Its answers are those of an empty database: no other thread holds a session, every run is
    run 0, the peak equity is today's, and no decision was recorded before.
    """

    async def claim_session(
        self, *, thread_id: str, portfolio: str, session_date: date, phase: str
    ) -> SessionHolder | None:
        """Nobody else holds the session."""
        return None

    async def ensure_run(
        self, *, thread_id: str, portfolio: str, session_date: date, phase: str
    ) -> int:
        """Every run is run 0."""
        return 0

    async def run_id(self, thread_id: str) -> int | None:
        """No run is recorded."""
        return None

    async def reconcile_book(self, portfolio: str, cash_krw: int, equity_krw: int) -> int:
        """Today's equity is the peak (the context may know a higher one)."""
        return equity_krw

    async def mirror_positions(self, portfolio: str, account: AccountSnapshot) -> None:
        """Keep nothing."""

    async def record_signals(
        self,
        run_id: int,
        opinions: Sequence[AnalystOpinion],
        signals: Sequence[Signal],
        prompt_versions: Mapping[str, str],
        rules_versions: Mapping[str, str],
    ) -> None:
        """Keep nothing."""

    async def record_proposals(self, run_id: int, orders: Sequence[ProposedOrder]) -> None:
        """Keep nothing."""

    async def recorded_decisions(
        self, client_order_ids: Sequence[str]
    ) -> dict[str, RecordedDecision]:
        """No decision was recorded."""
        return {}

    async def record_review(
        self,
        run_id: int,
        entries: Sequence[ReviewEntry],
        *,
        decided_by: str,
        decided_at: datetime,
    ) -> dict[str, RecordedDecision]:
        """Keep nothing: the entries given are the decisions."""
        return {}

    async def set_run_status(self, thread_id: str, status: RunStatus) -> None:
        """Keep nothing."""

    async def finish_run(
        self, thread_id: str, status: RunStatus, usage: LLMUsage, summary: dict[str, Any]
    ) -> None:
        """Keep nothing."""
