"""Analyst opinions are validated, and combine into one explicit signal per ticker."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from agents.schemas import AnalystOpinion, Horizon, Signal, combine_all, combine_opinions
from db.models import SignalStatus, Stance

T = "005930"


def opinion(agent: str, stance: Stance, conviction: str) -> AnalystOpinion:
    return AnalystOpinion(
        ticker=T,
        agent=agent,
        status=SignalStatus.OK,
        stance=stance,
        conviction=Decimal(conviction),
        horizon=Horizon.WEEKS,
        rationale="numbers say so",
        evidence={"rsi_14": Decimal("28.4"), "volume": 1_200_000, "per": None},
    )


@pytest.mark.parametrize("bad", ["NaN", "Infinity", "-0.01", "1.00001", "sNaN"])
def test_conviction_outside_the_unit_interval_or_not_a_number_is_rejected(bad: str) -> None:
    with pytest.raises(ValidationError):
        opinion("market", Stance.BUY, bad)


def test_conviction_is_kept_to_five_places_and_floats_convert_exactly() -> None:
    assert opinion("market", Stance.BUY, "0.123456").conviction == Decimal("0.12346")
    parsed = AnalystOpinion.model_validate(
        {"ticker": T, "agent": "m", "status": "ok", "stance": "buy", "conviction": 0.1}
    )
    assert parsed.conviction == Decimal("0.1")


def test_non_finite_evidence_is_rejected() -> None:
    with pytest.raises(ValidationError):
        AnalystOpinion(
            ticker=T,
            agent="m",
            status=SignalStatus.OK,
            stance=Stance.HOLD,
            conviction=Decimal(0),
            evidence={"rsi": Decimal("NaN")},
        )


def test_a_failed_opinion_carries_no_stance() -> None:
    failed = AnalystOpinion.failed(T, "market", SignalStatus.DATA_FAILED, "KIS timed out")
    assert (failed.stance, failed.conviction, failed.rationale) == (None, None, "KIS timed out")
    with pytest.raises(ValidationError, match="never a silent HOLD"):
        AnalystOpinion(ticker=T, agent="m", status=SignalStatus.LLM_FAILED, stance=Stance.HOLD)
    with pytest.raises(ValidationError, match="needs a stance"):
        AnalystOpinion(ticker=T, agent="m", status=SignalStatus.OK)


def test_mean_vote_decides_the_stance() -> None:
    # (+0.8 - 0.2) / 2 = 0.3 -> BUY, conviction 0.3
    signal = combine_opinions(
        T, [opinion("market", Stance.BUY, "0.8"), opinion("fundamental", Stance.SELL, "0.2")]
    )
    assert (signal.status, signal.stance, signal.conviction, signal.score) == (
        SignalStatus.OK,
        Stance.BUY,
        Decimal("0.3"),
        Decimal("0.3"),
    )
    # a confident hold dilutes: (0.15 + 0) / 2 = 0.075 < 0.1 -> HOLD
    signal = combine_opinions(
        T, [opinion("market", Stance.BUY, "0.15"), opinion("fundamental", Stance.HOLD, "0.9")]
    )
    assert signal.stance is Stance.HOLD
    # -0.1 exactly is a SELL
    signal = combine_opinions(T, [opinion("market", Stance.SELL, "0.1")])
    assert (signal.stance, signal.conviction) == (Stance.SELL, Decimal("0.1"))


def test_partly_failed_opinions_are_named() -> None:
    failed = AnalystOpinion.failed(T, "fundamental", SignalStatus.LLM_UNPARSEABLE, "bad json")
    signal = combine_opinions(T, [opinion("market", Stance.BUY, "0.6"), failed])
    assert (signal.status, signal.stance, signal.failed_agents) == (
        SignalStatus.OK,
        Stance.BUY,
        ("fundamental",),
    )
    assert "failed: fundamental" in signal.reason


def test_all_failed_is_a_failed_signal_never_a_hold() -> None:
    signal = combine_opinions(
        T,
        [
            AnalystOpinion.failed(T, "market", SignalStatus.BUDGET_EXHAUSTED, "budget"),
            AnalystOpinion.failed(T, "fundamental", SignalStatus.LLM_FAILED, "HTTP 500"),
        ],
    )
    assert (signal.status, signal.stance, signal.conviction) == (
        SignalStatus.LLM_FAILED,
        None,
        None,
    )
    assert "HTTP 500" in signal.reason


def test_watchlist_ticker_without_opinions_is_data_failed() -> None:
    signals = combine_all([opinion("market", Stance.BUY, "1")], tickers=["000660", T])
    assert [(s.ticker, s.status) for s in signals] == [
        ("000660", SignalStatus.DATA_FAILED),
        (T, SignalStatus.OK),
    ]


def test_signals_survive_json_for_checkpoints() -> None:
    signal = combine_opinions(T, [opinion("market", Stance.BUY, "0.8")])
    assert Signal.model_validate_json(signal.model_dump_json()) == signal


def test_inconsistent_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="same agent"):
        combine_opinions(T, [opinion("m", Stance.BUY, "1"), opinion("m", Stance.SELL, "1")])
    with pytest.raises(ValueError, match="another ticker"):
        combine_opinions("000660", [opinion("m", Stance.BUY, "1")])
    with pytest.raises(ValidationError):
        Signal(ticker=T, status=SignalStatus.DATA_FAILED, stance=Stance.HOLD)


def _any_opinion(
    agent: str, status: SignalStatus, stance: Stance, conviction: Decimal
) -> AnalystOpinion:
    if status is not SignalStatus.OK:
        return AnalystOpinion.failed(T, agent, status, "failed")
    return AnalystOpinion(
        ticker=T, agent=agent, status=status, stance=stance, conviction=conviction
    )


def _agent_of(o: AnalystOpinion) -> str:
    return o.agent


opinions = st.builds(
    _any_opinion,
    agent=st.sampled_from(["market", "fundamental", "news", "macro"]),
    status=st.sampled_from(list(SignalStatus)),
    stance=st.sampled_from(list(Stance)),
    conviction=st.one_of(
        st.sampled_from([Decimal(0), Decimal(1)]),
        st.decimals(min_value=0, max_value=1, places=5),
    ),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(opinions, max_size=4, unique_by=_agent_of))
def test_any_opinions_combine_into_a_valid_signal(ops: list[AnalystOpinion]) -> None:
    signal = combine_opinions(T, ops)
    if any(o.status is SignalStatus.OK for o in ops):
        assert signal.status is SignalStatus.OK
        assert signal.conviction is not None and 0 <= signal.conviction <= 1
        assert combine_opinions(T, list(reversed(ops))) == signal
    else:
        assert signal.status is not SignalStatus.OK
        assert signal.stance is None
