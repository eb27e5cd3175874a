"""Whatever the analysts return and whatever the approver types, no order breaks a risk limit."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis import strategies as st

from agents.risk import propose_orders, recheck_edit
from agents.risk.models import DecisionKind
from core.orders import OrderType, Side
from db.models import SignalStatus, Stance
from tests.agents.risk.invariants import assert_orders_respect_limits, buys_halted
from tests.agents.risk.strategies import Scenario, plausible_scenarios, wild_scenarios

THREAD = "prop:2025-03-04:open"
BOUNDED = settings(
    # RISK_PROPERTY_EXAMPLES=20000 for a long hunt; the default keeps the suite at seconds
    max_examples=int(os.environ.get("RISK_PROPERTY_EXAMPLES", "300")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


scenarios = st.one_of(plausible_scenarios(), wild_scenarios())


@BOUNDED
@given(scenarios)
def test_no_proposed_order_breaks_a_limit(scenario: Scenario) -> None:
    sigs, portfolio, market, limits = scenario
    report = propose_orders(sigs, portfolio, market, limits, thread_id=THREAD)
    assert_orders_respect_limits(report.orders, portfolio, market, limits)
    assert report.buys_halted == buys_halted(portfolio, limits)

    # every actionable signal that produced no order was denied, with a reason, on the record
    ordered = {o.ticker for o in report.orders}
    for signal in sigs:
        wants_trade = signal.status is not SignalStatus.OK or signal.stance is not Stance.HOLD
        if wants_trade and signal.ticker not in ordered:
            denials = [
                d
                for d in report.decisions_for(signal.ticker)
                if d.kind is DecisionKind.DENY and d.reason
            ]
            assert denials, f"{signal.ticker}: no order and no denial"

    # the gate is a pure function
    assert propose_orders(sigs, portfolio, market, limits, thread_id=THREAD) == report


edits = st.tuples(
    st.one_of(
        st.none(),
        st.integers(min_value=-10, max_value=10**9),
        st.sampled_from([0, 1, 10**12]),
    ),
    st.one_of(
        st.none(),
        st.integers(min_value=-10, max_value=10**10),
        st.integers(min_value=1, max_value=300_000),
    ),
    st.sampled_from([None, OrderType.LIMIT, OrderType.MARKET]),
)


@BOUNDED
@given(scenario=scenarios, change=edits, data=st.data())
def test_no_edited_order_breaks_a_limit(
    scenario: Scenario,
    change: tuple[int | None, int | None, OrderType | None],
    data: st.DataObject,
) -> None:
    sigs, portfolio, market, limits = scenario
    report = propose_orders(sigs, portfolio, market, limits, thread_id=THREAD)
    if not report.orders:
        return
    index = data.draw(st.integers(min_value=0, max_value=len(report.orders) - 1))
    original = report.orders[index]
    new_qty, new_price, new_type = change
    result = recheck_edit(
        original,
        new_qty,
        new_price,
        portfolio=portfolio,
        market=market,
        limits=limits,
        other_orders=report.orders,
        new_order_type=new_type,
    )
    others = [o for o in report.orders if o is not original]
    if result.order is None:
        assert any(d.kind is DecisionKind.DENY for d in result.decisions)
        assert_orders_respect_limits(others, portfolio, market, limits)
        return
    edited = result.order
    assert (edited.client_order_id, edited.ticker, edited.side, edited.origin) == (
        original.client_order_id,
        original.ticker,
        original.side,
        original.origin,
    )
    if new_qty is not None and edited.qty != new_qty:
        assert any(d.field == "qty" and d.after == edited.qty for d in result.decisions)
    assert_orders_respect_limits([*others, edited], portfolio, market, limits)


def _trades_in_earnest(scenario: Scenario) -> bool:
    sigs, portfolio, market, limits = scenario
    report = propose_orders(sigs, portfolio, market, limits, thread_id=THREAD)
    buys = [o for o in report.orders if o.side is Side.BUY]
    clamped = any(d.kind is DecisionKind.CLAMP and d.field == "qty" for d in report.decisions)
    return len(buys) >= 2 and clamped


def test_the_plausible_sessions_really_trade() -> None:
    """Guards the properties against vacuity: sessions with several buys and a cut quantity."""
    found = find(
        plausible_scenarios(),
        _trades_in_earnest,
        settings=settings(max_examples=3000, database=None, phases=[Phase.generate]),
    )
    assert _trades_in_earnest(found)
