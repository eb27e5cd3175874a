"""The approval shows why, in the terminal, and following fills can be left with Ctrl-C.

Real demo sessions (the in-process KIS simulator, the rules reasoner, a SQLite database per
test) driven through the CLI with a fake terminal, as `tests/trader/test_cli_session.py` does.
"""

from __future__ import annotations

import asyncio
import gc
import io
import os
import re
import signal
from collections.abc import Iterator
from functools import partial

import pytest
import sqlalchemy as sa
from rich.console import Console

from agents.executor import FillProgress
from agents.state import read_risk_report, read_signals
from core.orders import OrderStatus
from db.engine import create_db_engine
from db.models import Fill, Order, Run, RunStatus
from graphs.approval_view import order_whys
from graphs.runner import ThreadView, open_graph, read_thread
from tests.trader.clocks import ShiftedClock
from tests.trader.test_cli_session import START, THREAD, TICKERS, a_terminal, invoke
from trader.cli.approve import FollowLine
from trader.cli.render import describe_fills
from trader.settings import load_settings


@pytest.fixture(autouse=True)
def _pinned_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("trader.cli.clock.session_clock", partial(ShiftedClock, START))


@pytest.fixture
def engine(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[sa.Engine]:
    """The test's database, SQLite or PostgreSQL, as the CLI's DATABASE_URL."""
    monkeypatch.setenv("DATABASE_URL", db_url)
    eng = create_db_engine(db_url)
    yield eng
    eng.dispose()


def _view(thread_id: str = THREAD) -> ThreadView:
    async def read() -> ThreadView:
        async with open_graph(load_settings().resolved_database_url) as graph:
            return await read_thread(graph, thread_id)

    return asyncio.run(read())


PROMPT = "a=approve all, r=reject all, e=edit each, v N=why order N"


def test_why_model_reads_signals_opinions_and_risk_of_each_order() -> None:
    first = invoke("session", "run", "--demo", "--tickers", TICKERS)
    assert first.exit_code == 0, first.output
    view = _view()
    assert view.awaiting_approval and view.request is not None

    whys = order_whys(view.values)
    assert [w.order for w in whys] == view.request.orders
    assert [w.row for w in whys] == [1, 2]
    signals = {s.ticker: s for s in read_signals(view.values)}  # type: ignore[arg-type]
    decisions = read_risk_report(view.values).decisions  # type: ignore[arg-type]
    for why in whys:
        signal = signals[why.order.ticker]
        assert why.signal is not None
        assert (why.signal.stance, why.signal.score) == (signal.stance, signal.score)
        assert why.signal.reason == signal.reason
        assert [a.agent for a in why.analysts] == [o.agent for o in signal.opinions]
        for analyst, opinion in zip(why.analysts, signal.opinions, strict=True):
            assert (analyst.stance, analyst.conviction) == (opinion.stance, opinion.conviction)
            assert analyst.rationale == opinion.rationale and analyst.rationale
            assert analyst.evidence == opinion.evidence and analyst.evidence
            assert analyst.headline and opinion.rationale.startswith(analyst.headline.rstrip("…"))
        # The sizing is the order's reason without the signal part it repeats.
        assert why.sizing.startswith("target ")
        assert why.order.reason.endswith(why.sizing)
        about = [d.describe() for d in decisions if d.ticker == why.order.ticker]
        assert list(why.risk) == about
        assert why.cash_krw is not None and why.cash_krw > 0
    # The model is JSON for a page or an API.
    assert whys[0].model_dump(mode="json")["analysts"][0]["agent"]


def test_approval_shows_why_before_asking_and_v_n_shows_one_order_in_full(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("trader.cli.approve.stdin_is_terminal", a_terminal)
    # A cap on an order's value the first order (over 3,000,000 KRW) runs into.
    monkeypatch.setenv("RISK_MAX_ORDER_KRW", "2000000")
    result = invoke("session", "run", "--demo", "--tickers", TICKERS, input="v 1\nx\nv 9\nq\n")
    assert result.exit_code == 0, result.output
    out = result.output
    whys = order_whys(_view().values)
    clamp = next(line for line in whys[0].risk if line.startswith("CLAMP"))
    assert "[max_order_value]" in clamp, clamp
    cut = re.search(r"qty (\d+)->(\d+) .* at ([\d,]+) KRW", clamp)
    assert cut is not None, clamp
    asked, kept, price = int(cut[1]), int(cut[2]), int(cut[3].replace(",", ""))
    assert asked * price > 2_000_000 >= kept * price > 0, clamp
    first_prompt = out.index(PROMPT)
    before = out[:first_prompt]
    assert "Why each order" in before
    for why in whys:
        order = why.order
        assert f"#{why.row} {order.side.value} {order.ticker}" in before
        assert why.signal is not None and why.signal.reason in before
        for analyst in why.analysts:
            assert analyst.stance is not None and analyst.conviction is not None
            row = next(
                line
                for line in before.splitlines()
                if analyst.agent.replace("_", " ") in line
                and order.ticker not in line
                and analyst.headline[:20] in line
            )
            assert analyst.stance in row and f"{float(analyst.conviction):.2f}" in row
        assert f"size: {why.sizing[:40]}" in before
        for line in why.risk:
            assert f"risk: {line[:40]}" in before
        assert f"held {why.held_qty:,}" in before

    # `v 1`: order 1 in full, each rationale and its evidence, then the same question again.
    after = out[first_prompt + len(PROMPT) :]
    one = whys[0]
    for analyst in one.analysts:
        assert analyst.rationale.splitlines()[-1] in after
        for name in analyst.evidence:
            assert name in after
    assert f"Order reason: {one.order.reason[:40]}" in after
    assert f"risk: {clamp[:40]}" in after
    assert out.count(PROMPT) == 4  # v 1, a wrong answer, v 9 (no such row), then q
    assert "Please answer a, r, e, v N or q" in out
    assert "no row 9: rows are 1..2" in out
    assert f"trader approve {THREAD} --all" in out

    # On an order's own prompt (e = edit each) `v` shows that order; q leaves it waiting.
    each = invoke("session", "run", "--demo", "--tickers", TICKERS, input="e\na\nv\nq\n")
    assert each.exit_code == 0, each.output
    second = whys[1]
    shown = each.output[each.output.index(f"#2 {second.order.side.value} {second.order.ticker}") :]
    assert f"Order reason: {second.order.reason[:40]}" in each.output
    assert second.analysts[0].rationale.splitlines()[-1] in shown
    assert _view().awaiting_approval


def test_ctrl_c_while_following_fills_leaves_the_session_resumable(
    engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = invoke("session", "run", "--demo", "--tickers", TICKERS)
    assert first.exit_code == 0, first.output

    seen: list[FillProgress] = []
    shown = FollowLine.fills

    def ctrl_c_once_placed(self: FollowLine, progress: FillProgress) -> None:
        shown(self, progress)
        seen.append(progress)
        if len(seen) == 2:  # both orders are at the broker: the person presses Ctrl-C
            os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(FollowLine, "fills", ctrl_c_once_placed)
    stopped = invoke("approve", THREAD, "--all")
    assert stopped.exit_code == 130, stopped.output
    assert "Traceback" not in stopped.output
    assert f"trader session resume {THREAD}" in stopped.output
    assert [(p.placed, p.orders) for p in seen] == [(1, 2), (2, 2)]  # one report a send
    assert describe_fills(seen[1]).startswith("following fills: 2/2 placed, 0/2 filled")
    # In a terminal the process ends here; in this test the interrupted run's objects (held
    # by the exception's frames) are dropped the way its exit would drop them.
    del stopped
    gc.collect()
    with engine.begin() as conn:  # nothing holds the database: a write goes through
        conn.execute(sa.update(Run).where(Run.thread_id == "nobody").values(status="failed"))
    view = _view()
    assert view.stopped_part_way and view.next_nodes == ("executor",)
    with engine.connect() as conn:
        statuses = list(conn.scalars(sa.select(Order.status).order_by(Order.id)))
        assert conn.scalar(sa.select(Run.status).where(Run.thread_id == THREAD)) is not (
            RunStatus.COMPLETED
        )
    # Both at the broker (their fills read or not yet: the executor task stops at its next
    # await): what `resume` must pick up, never resend.
    at_broker = {OrderStatus.SUBMITTED, OrderStatus.PARTIALLY_FILLED, OrderStatus.FILLED}
    assert len(statuses) == 2 and set(statuses) <= at_broker, statuses

    # The lease was freed: the documented command continues at once and finishes the session.
    monkeypatch.setattr(FollowLine, "fills", shown)
    resumed = invoke("session", "resume", THREAD)
    assert resumed.exit_code == 0, resumed.output
    with engine.connect() as conn:
        final = list(conn.execute(sa.select(Order.status, Order.qty, Order.filled_qty)).all())
        run_status = conn.scalar(sa.select(Run.status).where(Run.thread_id == THREAD))
    assert len(final) == 2
    assert all(s is OrderStatus.FILLED and q == f for s, q, f in final), final
    with engine.connect() as conn:  # each share booked once, across both processes
        assert conn.scalar(sa.select(sa.func.sum(Fill.qty))) == sum(q for _, q, _ in final)
    assert run_status is RunStatus.COMPLETED
    assert _view().finished


def test_the_live_line_says_orders_placed_and_filled_and_how_to_stop() -> None:
    with Console(file=io.StringIO(), force_terminal=True).status("applying…") as status:
        line = FollowLine(status)
        line.node("review", {"review": []})
        assert str(status.status) == "sending the approved orders…"
        line.fills(FillProgress(orders=3, placed=3, filled=1, filled_qty=12, qty=1_040, open=2))
        text = str(status.status)
    assert text.startswith("following fills: 3/3 placed, 1/3 filled (12/1,040 shares)")
    assert "Ctrl-C" in text and "resumable" in text


def test_a_thread_without_an_approval_explains_the_orders_the_gate_would_propose() -> None:
    assert order_whys({}) == []
    # Another date than today: analysed only, no approval request; the why reads the risk
    # report's orders instead.
    result = invoke("session", "run", "--demo", "--tickers", TICKERS, "--date", "2026-11-27")
    assert result.exit_code == 0, result.output
    view = _view("default:2026-11-27:demo-analysis")
    assert view.finished and "approval_request" not in view.values
    whys = order_whys(view.values)
    assert whys and all(w.analysts and w.signal is not None for w in whys)
    assert [w.order for w in whys] == list(read_risk_report(view.values).orders)  # type: ignore[arg-type]
