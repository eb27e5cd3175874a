import threading
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from core.orders import OrderStatus, OrderType, Side
from db.engine import transaction
from db.models import (
    Fill,
    MarketBar,
    Order,
    Portfolio,
    Position,
    RunStatus,
    Signal,
    SignalStatus,
    Stance,
)
from db.repositories import (
    FillRepository,
    Holding,
    MarketDataRepository,
    OrderRepository,
    PortfolioRepository,
    PositionRepository,
    RunOutcome,
    RunRepository,
    SessionClaimRepository,
    SignalRepository,
)

KST = timezone(timedelta(hours=9))


def _count(factory: sessionmaker[Session], model: type) -> int:
    with factory() as session:
        return int(session.scalar(sa.select(sa.func.count()).select_from(model)) or 0)


def _bar(close: int) -> dict[str, object]:
    return {
        "ticker": "005930",
        "interval": "1d",
        "bar_time": datetime(2023, 11, 8, 9, 0, tzinfo=KST),
        "open_krw": 71_300,
        "high_krw": 71_800,
        "low_krw": 70_900,
        "close_krw": close,
        "volume": 12_345_678,
        "source": "kis",
    }


def test_writing_the_same_bar_twice_leaves_one_row(sessions: sessionmaker[Session]) -> None:
    for close in (71_000, 71_500):
        with transaction(sessions) as session:
            MarketDataRepository(session).save_bars([_bar(close)])
    assert _count(sessions, MarketBar) == 1
    with sessions() as session:
        (bar,) = MarketDataRepository(session).bars("005930")
    assert bar.close_krw == 71_500, "a rewrite corrects the bar"
    assert bar.bar_time == datetime(2023, 11, 8, 0, 0, tzinfo=UTC)


def _run(factory: sessionmaker[Session]) -> int:
    with transaction(factory) as session:
        portfolio = PortfolioRepository(session).ensure("default", "paper", 100_000_000)
        run = RunRepository(session).ensure(
            {
                "thread_id": "default:2026-11-26:regular",
                "portfolio_id": portfolio.id,
                "session_date": date(2026, 11, 26),
                "phase": "regular",
                "status": RunStatus.RUNNING,
            }
        )
        return run.id


def test_writing_the_same_signal_twice_leaves_one_row(sessions: sessionmaker[Session]) -> None:
    run_id = _run(sessions)
    assert _run(sessions) == run_id, "ensuring a run twice returns the same run"
    for conviction in ("0.70000", "0.65000"):
        with transaction(sessions) as session:
            SignalRepository(session).save(
                [
                    {
                        "run_id": run_id,
                        "ticker": "005930",
                        "agent": "market_analyst",
                        "status": SignalStatus.OK,
                        "stance": Stance.BUY,
                        "conviction": Decimal(conviction),
                        "horizon": "swing",
                        "rationale": "golden cross",
                        "evidence": {"rsi_14": 61.2, "sma_20": 70500},
                        "prompt_version": "rules-1",
                    }
                ]
            )
    assert _count(sessions, Signal) == 1
    with sessions() as session:
        (signal,) = SignalRepository(session).for_run(run_id)
    assert signal.conviction == Decimal("0.65000")
    assert signal.evidence == {"rsi_14": 61.2, "sma_20": 70500}


def test_writing_the_same_order_twice_leaves_one_unchanged_row(
    sessions: sessionmaker[Session],
) -> None:
    run_id = _run(sessions)
    order = {
        "client_order_id": "default-20261126-005930-buy-1",
        "run_id": run_id,
        "ticker": "005930",
        "side": Side.BUY,
        "order_type": OrderType.LIMIT,
        "qty": 10,
        "limit_price_krw": 71_300,
        "status": OrderStatus.PROPOSED,
    }
    with transaction(sessions) as session:
        OrderRepository(session).add_if_absent(order)
    with transaction(sessions) as session:
        OrderRepository(session).set_status(
            order["client_order_id"], OrderStatus.SUBMITTED, broker_order_no="0000117057"
        )
    with transaction(sessions) as session:
        stored = OrderRepository(session).add_if_absent({**order, "qty": 99})
    assert _count(sessions, Order) == 1
    assert stored.qty == 10 and stored.status is OrderStatus.SUBMITTED

    fill = {
        "fill_key": "0000117057-1",
        "order_id": stored.id,
        "ticker": "005930",
        "side": Side.BUY,
        "qty": 10,
        "price_krw": 71_300,
        "commission_krw": 106,
        "tax_krw": 0,
        "filled_at": datetime(2026, 11, 26, 9, 0, 3, tzinfo=KST),
    }
    for _ in range(2):
        with transaction(sessions) as session:
            FillRepository(session).add([fill])
    assert _count(sessions, Fill) == 1


def test_constraints_hold(sessions: sessionmaker[Session]) -> None:
    with pytest.raises(sa.exc.IntegrityError), transaction(sessions) as session:
        OrderRepository(session).add_if_absent(
            {
                "client_order_id": "x",
                "ticker": "005930",
                "side": Side.BUY,
                "order_type": OrderType.MARKET,
                "qty": 0,
                "status": OrderStatus.PROPOSED,
            }
        )
    with pytest.raises(sa.exc.StatementError, match="naive"), transaction(sessions) as session:
        MarketDataRepository(session).save_bars([{**_bar(1), "bar_time": datetime(2023, 1, 2)}])


def test_threads_racing_for_one_session_leave_one_holder(
    sessions: sessionmaker[Session],
) -> None:
    with transaction(sessions) as session:
        book = PortfolioRepository(session).ensure("default", "paper", 1_000_000).id
    day = date(2026, 11, 24)
    barrier = threading.Barrier(4)
    holders: dict[str, str] = {}

    def claim(thread_id: str) -> None:
        barrier.wait()
        with transaction(sessions) as session:
            holders[thread_id] = SessionClaimRepository(session).claim(
                book, day, "regular", thread_id, datetime.now(UTC)
            )

    workers = [threading.Thread(target=claim, args=(f"studio-{n}",)) for n in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=30)
    assert len(holders) == 4
    assert len(set(holders.values())) == 1, holders
    with transaction(sessions) as session:
        repo = SessionClaimRepository(session)
        assert repo.claim(book, day, "regular", "late", datetime.now(UTC)) in holders
        assert repo.claim(book, day, "after-market", "late", datetime.now(UTC)) == "late"


def test_a_run_moves_through_its_statuses_and_finishes_with_its_outcome(
    sessions: sessionmaker[Session],
) -> None:
    run_id = _run(sessions)
    thread = "default:2026-11-26:regular"
    with transaction(sessions) as session:
        runs = RunRepository(session)
        assert runs.id_of(thread) == run_id and runs.id_of("nobody") is None
        runs.set_status(thread, RunStatus.AWAITING_APPROVAL)
        runs.set_status("nobody", RunStatus.FAILED)  # no run row: nothing happens
    with sessions() as session:
        assert RunRepository(session).status_of(thread) is RunStatus.AWAITING_APPROVAL
    done = datetime(2026, 11, 26, 15, 40, tzinfo=KST)
    outcome = RunOutcome(RunStatus.COMPLETED, done, 1_200, 300, Decimal("0.0123"), {"n": 2})
    with transaction(sessions) as session:
        RunRepository(session).finish(thread, outcome)
    with sessions() as session:
        run = RunRepository(session).get(thread)
        assert run is not None
        assert (run.status, run.finished_at, run.tokens_in, run.tokens_out, run.summary) == (
            RunStatus.COMPLETED,
            done,
            1_200,
            300,
            {"n": 2},
        )
        assert run.cost_usd == Decimal("0.0123")


def test_the_book_keeps_the_broker_s_cash_its_peak_and_its_positions(
    sessions: sessionmaker[Session],
) -> None:
    with transaction(sessions) as session:
        book = PortfolioRepository(session).ensure("default", "paper", 1_000_000).id
    for cash, equity in ((400_000, 1_100_000), (500_000, 900_000)):
        with transaction(sessions) as session:
            peak = PortfolioRepository(session).reconcile("default", cash, equity)
    assert peak == 1_100_000, "a lower equity leaves the high-water mark where it was"
    for holdings in (
        [Holding("005930", 5, 350_000), Holding("000660", 0, 0)],
        [Holding("000660", 2, 240_000)],
    ):
        with transaction(sessions) as session:
            PositionRepository(session).replace(book, holdings)
    with sessions() as session:
        row = session.get(Portfolio, book)
        assert row is not None and row.cash_krw == 500_000
        held = session.execute(sa.select(Position.ticker, Position.qty)).all()
    assert [tuple(r) for r in held] == [("000660", 2)], "the last mirror replaces the first"
