"""What an analyst returns per ticker, and how the opinions on one ticker combine into a signal.

An analyst (market, fundamental) returns one `AnalystOpinion` per ticker. A failure is an
explicit status on that opinion (`data_failed`, `llm_failed`, ...), never a made-up HOLD: a
failed opinion carries no stance and no conviction. `combine_opinions` folds the opinions on
one ticker into the `Signal` the risk gate reads.

Combination rule (deterministic, order-independent):

- Only opinions with status `ok` vote. Each vote is ``direction * conviction`` with
  direction +1 for buy, -1 for sell, 0 for hold, so a confident hold pulls the score to zero.
- ``score = mean(votes)``, in [-1, 1].
- ``score >= HOLD_BAND`` is a BUY, ``score <= -HOLD_BAND`` a SELL, anything between a HOLD.
  The signal's conviction is ``|score|``.
- If no opinion is `ok`, the signal has no stance and no conviction and takes the failure
  status of its opinions; when they differ, the most fundamental failure wins
  (data_failed > llm_failed > llm_unparseable > budget_exhausted).
- Agents whose opinion failed while others succeeded are listed in `failed_agents`, so the
  approver sees that the signal rests on fewer voices.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import ROUND_HALF_EVEN, Decimal
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    model_validator,
)

from db.models import SignalStatus, Stance

CONVICTION_PLACES = Decimal("0.00001")
"""Convictions are kept to 5 decimal places, the precision of the `signals.conviction` column."""
HOLD_BAND = Decimal("0.1")
"""Combined scores closer to zero than this are a HOLD."""
COMBINE_RULES_VERSION = "combine-1"
"""Version of `combine_opinions`' rule, recorded as the rules version of each combined signal."""

_FAILURE_PRECEDENCE: tuple[SignalStatus, ...] = (
    SignalStatus.DATA_FAILED,
    SignalStatus.LLM_FAILED,
    SignalStatus.LLM_UNPARSEABLE,
    SignalStatus.BUDGET_EXHAUSTED,
)
_DIRECTION: dict[Stance, int] = {Stance.BUY: 1, Stance.SELL: -1, Stance.HOLD: 0}


class Horizon(StrEnum):
    """How long the analyst expects its view to take to play out."""

    INTRADAY = "intraday"
    DAYS = "days"
    WEEKS = "weeks"
    MONTHS = "months"


def _unit_conviction(value: Decimal) -> Decimal:
    if not value.is_finite():
        raise ValueError("conviction must be a finite number")
    if not Decimal(0) <= value <= Decimal(1):
        raise ValueError(f"conviction must be within [0, 1], got {value}")
    return value.quantize(CONVICTION_PLACES, rounding=ROUND_HALF_EVEN)


def _finite_evidence(value: dict[str, int | Decimal | None]) -> dict[str, int | Decimal | None]:
    bad = [k for k, v in value.items() if isinstance(v, Decimal) and not v.is_finite()]
    if bad:
        raise ValueError(f"evidence values must be finite numbers: {', '.join(sorted(bad))}")
    return value


def _evidence_as_built(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    """Take evidence built in code (exact ints, Decimals and None) without the union validator.

    For such a dict the `int | Decimal | None` union would return every value unchanged, but it
    cost ~10 us per opinion of 22 values (~1 ms a replayed day); checking each value's exact
    type costs ~2 us. Anything else (JSON from a checkpoint, floats, bools, subclasses) goes
    through the full validation.
    """
    if type(value) is dict and all(
        type(k) is str and (v is None or type(v) is int or type(v) is Decimal)
        for k, v in value.items()
    ):
        return _finite_evidence(dict(value))
    return handler(value)


Conviction = Annotated[Decimal, AfterValidator(_unit_conviction)]
"""A conviction in [0, 1]; NaN and infinities are rejected, the value is rounded to 5 places."""
Ticker = Annotated[str, Field(min_length=1, max_length=12, pattern=r"^[0-9A-Za-z]+$")]
Evidence = Annotated[
    dict[str, int | Decimal | None],
    AfterValidator(_finite_evidence),
    WrapValidator(_evidence_as_built),
]
"""The numbers an opinion rests on; ``None`` marks a number that could not be computed."""


class AnalystOpinion(BaseModel):
    """One analyst's view of one ticker.

    The numbers are computed in code, the judgement is the analyst's; a failure is an explicit
    status, with the reason in `rationale`.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    ticker: Ticker
    agent: str = Field(min_length=1, max_length=32)
    status: SignalStatus
    stance: Stance | None = None
    conviction: Conviction | None = None
    horizon: Horizon | None = None
    rationale: str = ""
    evidence: Evidence = Field(default_factory=dict)

    @model_validator(mode="after")
    def _stance_matches_status(self) -> AnalystOpinion:
        if self.status is SignalStatus.OK:
            if self.stance is None or self.conviction is None:
                raise ValueError("an ok opinion needs a stance and a conviction")
        elif self.stance is not None or self.conviction is not None:
            raise ValueError(
                f"a {self.status.value} opinion has no stance or conviction (never a silent HOLD)"
            )
        return self

    @classmethod
    def failed(cls, ticker: str, agent: str, status: SignalStatus, reason: str) -> AnalystOpinion:
        """Build the opinion of an analyst that could not judge this ticker."""
        if status is SignalStatus.OK:
            raise ValueError("a failed opinion needs a failure status")
        return cls(ticker=ticker, agent=agent, status=status, rationale=reason)


class Signal(BaseModel):
    """The combined view on one ticker that the risk gate turns into orders (or not)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    ticker: Ticker
    status: SignalStatus
    stance: Stance | None = None
    conviction: Conviction | None = None
    score: Decimal | None = None
    """Mean of the ok votes, in [-1, 1]; None when no opinion was ok."""
    failed_agents: tuple[str, ...] = ()
    opinions: tuple[AnalystOpinion, ...] = ()
    reason: str = ""

    @model_validator(mode="after")
    def _consistent(self) -> Signal:
        if self.status is SignalStatus.OK:
            if self.stance is None or self.conviction is None:
                raise ValueError("an ok signal needs a stance and a conviction")
        elif self.stance is not None or self.conviction is not None:
            raise ValueError(f"a {self.status.value} signal has no stance or conviction")
        if self.score is not None and not (
            self.score.is_finite() and Decimal(-1) <= self.score <= Decimal(1)
        ):
            raise ValueError("score must be within [-1, 1]")
        if any(o.ticker != self.ticker for o in self.opinions):
            raise ValueError("every opinion of a signal must be about its ticker")
        return self


def combine_opinions(ticker: str, opinions: Sequence[AnalystOpinion]) -> Signal:
    """Fold the opinions on one ticker into its signal (see the module docstring for the rule).

    Raises:
        ValueError: an opinion is about another ticker, or one agent spoke twice.
    """
    agents = [o.agent for o in opinions]
    if len(set(agents)) != len(agents):
        raise ValueError(f"{ticker}: more than one opinion from the same agent")
    if any(o.ticker != ticker for o in opinions):
        raise ValueError(f"{ticker}: an opinion is about another ticker")
    ordered = tuple(sorted(opinions, key=lambda o: o.agent))
    ok = [o for o in ordered if o.status is SignalStatus.OK]
    failed = tuple(o.agent for o in ordered if o.status is not SignalStatus.OK)
    if not ok:
        return _failed_signal(ticker, ordered)
    total = sum(
        (_DIRECTION[o.stance] * o.conviction for o in ok if o.stance and o.conviction is not None),
        start=Decimal(0),
    )
    score = (total / len(ok)).quantize(CONVICTION_PLACES, rounding=ROUND_HALF_EVEN)
    if score >= HOLD_BAND:
        stance = Stance.BUY
    elif score <= -HOLD_BAND:
        stance = Stance.SELL
    else:
        stance = Stance.HOLD
    reason = f"{len(ok)} of {len(ordered)} opinions ok, mean vote {score}"
    if failed:
        reason += f"; failed: {', '.join(failed)}"
    return Signal(
        ticker=ticker,
        status=SignalStatus.OK,
        stance=stance,
        conviction=abs(score),
        score=score,
        failed_agents=failed,
        opinions=ordered,
        reason=reason,
    )


def _failed_signal(ticker: str, ordered: tuple[AnalystOpinion, ...]) -> Signal:
    if not ordered:
        return Signal(
            ticker=ticker, status=SignalStatus.DATA_FAILED, reason="no analyst returned an opinion"
        )
    statuses = {o.status for o in ordered}
    status = next(s for s in _FAILURE_PRECEDENCE if s in statuses)
    details = "; ".join(f"{o.agent}: {o.status.value} {o.rationale}".strip() for o in ordered)
    return Signal(
        ticker=ticker,
        status=status,
        failed_agents=tuple(o.agent for o in ordered),
        opinions=ordered,
        reason=f"every opinion failed ({details})",
    )


def combine_all(opinions: Iterable[AnalystOpinion], tickers: Iterable[str] = ()) -> list[Signal]:
    """Combine opinions per ticker, sorted by ticker.

    Args:
        opinions: every analyst's opinions of this session.
        tickers: the watchlist; a ticker no analyst spoke about gets a `data_failed` signal
            rather than vanishing.
    """
    by_ticker: dict[str, list[AnalystOpinion]] = {ticker: [] for ticker in tickers}
    for opinion in opinions:
        by_ticker.setdefault(opinion.ticker, []).append(opinion)
    return [combine_opinions(t, by_ticker[t]) for t in sorted(by_ticker)]
