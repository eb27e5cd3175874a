"""The state of one trading session, and the session's thread id.

State holds data only, as JSON (the `model_dump(mode="json")` of the typed models named on each
field): that keeps checkpoints portable and readable in Studio, lets interrupts carry state
pieces as they are, and means a checkpoint never needs our classes to load. Nodes read the
pieces they need through the typed accessors below and write them back dumped. Clients,
the clock and settings never enter state: they come through the runtime context
(`agents/context.py`).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, TypedDict, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from agents.llm import LLMUsage
from agents.risk.models import MarketSnapshot, PortfolioSnapshot, ProposedOrder, RiskReport
from agents.schemas import AnalystOpinion, Signal

Json = dict[str, Any]

PHASES = ("pre_open", "regular")
"""Session phases a day can have, each its own thread and claim: `regular` (the trading day's
session) and `pre_open` (a run before the open, e.g. the scheduler's 08:40 analysis, whose
approval can be given before 09:00). The graph treats both alike."""


def thread_id_for(portfolio: str, session_date: date, phase: str = "regular") -> str:
    """Return the thread id of a session: the same session always maps to the same thread.

    Triggering a session twice therefore resumes (or re-reads) the first run instead of
    trading twice.
    """
    return f"{portfolio}:{session_date.isoformat()}:{phase}"


class SessionStatus(StrEnum):
    """Where a session is; routers branch on it.

    State stores the plain value (`SessionStatus.DONE.value`): an enum member in state would be
    written into the checkpoint by class name, and a checkpoint must load without our classes.
    Read it back with `read_status`. A step that fails writes no status: the thread keeps its
    last checkpoint, so the session can continue from it, and the runs table records the
    failure (`RunStatus.FAILED`).
    """

    RUNNING = "running"
    """Loaded on today's trading day; analysing (or failed before it proposed anything)."""
    CLOSED = "closed"
    """KRX is closed that day: nothing to analyse."""
    ANALYSIS_ONLY = "analysis_only"
    """Another date than today: analysed, never approved or sent."""
    NO_ORDERS = "no_orders"
    """The risk gate proposed nothing, or the approver approved nothing."""
    AWAITING_APPROVAL = "awaiting_approval"
    """Orders are proposed; the approval interrupt waits for a person."""
    EXECUTING = "executing"
    """Orders are approved; the executor sends them and follows their fills."""
    DONE = "done"
    """The executor finished (or the report closed the session)."""
    DUPLICATE = "duplicate"
    """Another thread holds this session: nothing was proposed on this one."""


RESET_OPINIONS: Json = {"reset": True}
"""Put first in an `opinions` update to drop the opinions of an earlier attempt on the thread."""


def merge_opinions(left: list[Json] | None, right: list[Json] | None) -> list[Json]:
    """Reducer: one opinion per (ticker, agent), the latest write winning.

    Both analysts append in parallel; keying by (ticker, agent) means that analysing a ticker
    again (a retried node, a session re-triggered after a failure) replaces its opinion instead
    of adding a second one. `RESET_OPINIONS` at the head of an update starts from empty.
    """
    merged: dict[tuple[str, str], Json] = {}
    for item in left or []:
        merged[(item["ticker"], item["agent"])] = item
    for item in right or []:
        if item == RESET_OPINIONS:
            merged.clear()
            continue
        merged[(item["ticker"], item["agent"])] = item
    return list(merged.values())


def add_usage(left: Json | None, right: Json | None) -> Json:
    """Reducer: sum the LLM usage reported by parallel analysts."""
    total = LLMUsage.model_validate(left or {}) + LLMUsage.model_validate(right or {})
    return total.model_dump(mode="json")


class SessionInput(TypedDict, total=False):
    """What a trigger passes (all optional)."""

    portfolio: str
    """Defaults to the PORTFOLIO setting."""
    session_date: str
    """ISO date; defaults to today in KRX time."""
    phase: str
    tickers: list[str]
    """Defaults to the WATCHLIST setting."""


class Valuation(BaseModel):
    """PER and PBR from today's quote, when the market-data source gives them (KIS does)."""

    model_config = ConfigDict(frozen=True)

    per: Decimal | None = None
    pbr: Decimal | None = None


class SessionContextData(BaseModel):
    """What `load_context` found: the day, the account and today's market."""

    model_config = ConfigDict(frozen=True)

    thread_id: str
    run_id: int
    portfolio: str
    session_date: date
    phase: str
    tickers: tuple[str, ...]
    trading_day: bool
    portfolio_snapshot: PortfolioSnapshot
    executable: bool = True
    """The session is today's (the clock's KRX date): only then may its orders be approved and
    sent. Another date is analysed only (status `analysis_only`)."""
    market: dict[str, MarketSnapshot] = Field(default_factory=dict)
    """Today's snapshot per ticker that could be quoted (held tickers included)."""
    unknown_tickers: dict[str, str] = Field(default_factory=dict)
    """Tickers that could not be quoted, with the reason (a typo, a delisting, an outage)."""
    econ_events: tuple[str, ...] = ()
    """Economic releases due today, as short descriptions."""
    valuations: dict[str, Valuation] = Field(default_factory=dict)
    """PER/PBR per ticker from the quotes above, so the fundamental analyst need not quote again."""


class ApprovalRequest(BaseModel):
    """The interrupt payload: what the approver sees."""

    thread_id: str
    orders: list[ProposedOrder]
    risk_report: list[str]
    """The risk gate's clamps, denials, halts and notes, one sentence each."""
    expires_at: str
    """ISO datetime (UTC) after which the approval cancels every order."""
    resume_schema: str = (
        '{"decisions": [{"client_order_id": ..., "action": "approve|reject|edit", '
        '"qty": int?, "limit_price_krw": int?}], "approve_all": bool, "decided_by": str}'
    )


class SessionState(SessionInput, total=False):
    """The whole session; each field documents the model its JSON holds."""

    context: Json
    """`SessionContextData`."""
    opinions: Annotated[list[Json], merge_opinions]
    """`AnalystOpinion` per (ticker, analyst); both analysts write in parallel."""
    signals: list[Json]
    """`Signal` per ticker."""
    risk_report: Json
    """`RiskReport`."""
    approval_request: Json
    """`ApprovalRequest`: what the approval interrupt shows (expiry fixed when proposed)."""
    approval: Json
    """`ApprovalResponse` (graphs/nodes/approval.py): the resume value as given."""
    approved_orders: list[Json]
    """`ProposedOrder`s that survived review (edits applied and rechecked)."""
    review: list[Json]
    """`ReviewLine` per proposed order: what happened to it at approval."""
    executions: list[Json]
    """`OrderOutcome` per approved order (`agents.executor`)."""
    llm_usage: Annotated[Json, add_usage]
    """`LLMUsage` summed over the run."""
    report: Json
    """`SessionReport` (graphs/nodes/report.py)."""
    status: str
    """Where the session is: a `SessionStatus` value, as a plain string (see `read_status`)."""
    duplicate_of: str
    """The thread that holds this session (status duplicate)."""
    notice: str
    """Why the thread stopped early, for Studio and the SDK (status duplicate)."""


# --- typed accessors ------------------------------------------------------------------------
#
# State payloads are never edited in place (a node returns new payloads), so a payload this
# process dumped, or already parsed, maps back to its model without validating it again: `dump`
# and the readers remember the last few thousand (payload, model) pairs by the payload's
# identity. A backtest reads the same payloads in several nodes every replayed day; a payload
# from a checkpoint or a resume is simply validated.

_M = TypeVar("_M", bound=BaseModel)
_MEMO_SIZE = 4_096
_memo: OrderedDict[int, tuple[Json, BaseModel]] = OrderedDict()
_memo_lock = threading.Lock()


def _remember(payload: Json, model: BaseModel) -> None:
    with _memo_lock:
        _memo[id(payload)] = (payload, model)
        if len(_memo) > _MEMO_SIZE:
            _memo.popitem(last=False)


def _parse(cls: type[_M], payload: Json) -> _M:
    hit = _memo.get(id(payload))
    if hit is not None and hit[0] is payload and type(hit[1]) is cls:
        return hit[1]
    model = cls.model_validate(payload)
    _remember(payload, model)
    return model


def read_status(state: SessionState) -> SessionStatus | None:
    """Return the session's status, or None before `load_context` set one."""
    raw = state.get("status")
    return SessionStatus(raw) if raw else None


def read_context(state: SessionState) -> SessionContextData:
    """Return the loaded context; raises KeyError before `load_context` ran."""
    return _parse(SessionContextData, state["context"])


def read_opinions(state: SessionState) -> list[AnalystOpinion]:
    """Return every analyst opinion of the session."""
    return [_parse(AnalystOpinion, o) for o in state.get("opinions", [])]


def read_signals(state: SessionState) -> list[Signal]:
    """Return the combined signals."""
    return [_parse(Signal, s) for s in state.get("signals", [])]


def read_risk_report(state: SessionState) -> RiskReport:
    """Return the risk report (empty before the gate ran)."""
    return _parse(RiskReport, state.get("risk_report") or {})


def read_approved_orders(state: SessionState) -> list[ProposedOrder]:
    """Return the orders the approver let through."""
    return [_parse(ProposedOrder, o) for o in state.get("approved_orders", [])]


def dump(model: BaseModel) -> Json:
    """Dump a model the way state stores it (and remember which model the payload is)."""
    payload = model.model_dump(mode="json")
    _remember(payload, model)
    return payload


def opinion_payloads(state: SessionState, opinions: list[AnalystOpinion]) -> dict[int, Json]:
    """Map each opinion `read_opinions(state)` returned (by identity) to its payload in state."""
    return {id(o): p for o, p in zip(opinions, state.get("opinions", []), strict=True)}


def dump_signal(signal: Signal, payloads: Mapping[int, Json]) -> Json:
    """Dump a signal as `dump` does, reusing its opinions' payloads already in state.

    A signal nests its opinions, and the analysts have already dumped them into state:
    serialising them again took ~10 of the ~13 us a signal's dump cost (~1 ms of a replayed
    day of 100 tickers). `payloads` comes from `opinion_payloads`; an opinion not in it is
    dumped. The payload equals `dump(signal)`, key order included.
    """
    head = signal.model_dump(mode="json", exclude={"opinions"})
    nested = [payloads.get(id(o)) or o.model_dump(mode="json") for o in signal.opinions]
    payload = {name: nested if name == "opinions" else head[name] for name in Signal.model_fields}
    _remember(payload, signal)
    return payload
