"""Fixtures for the paper broker: a fixed clock inside a KRX session, set-by-hand quotes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import pytest

from core.clock import KST, FixedClock
from tests.tools.paper.fake_market import FakeMarket
from tools.krx.costs import CostModel
from tools.krx.rules import Market
from tools.paper import PaperBroker, PaperStore

START_CASH = 10_000_000
SAMSUNG = "005930"
KODEX200 = "069500"
MakeBroker = Callable[..., PaperBroker]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def clock() -> FixedClock:
    # A Friday session whose sales settle on 2025-01-02 (12-30 trades, 12-31 is closed).
    return FixedClock(datetime(2024, 12, 27, 10, 0, tzinfo=KST))


@pytest.fixture
def market() -> FakeMarket:
    fake = FakeMarket()
    fake.set(SAMSUNG, 53_600, name="삼성전자")
    fake.set(KODEX200, 35_005, market=Market.ETF, name="KODEX 200")
    return fake


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "paper.db"


@pytest.fixture
def store(store_path: Path) -> Iterator[PaperStore]:
    books = PaperStore(store_path)
    yield books
    books.close()


@pytest.fixture
def make_broker(market: FakeMarket, store: PaperStore, clock: FixedClock) -> MakeBroker:
    def make(**overrides: object) -> PaperBroker:
        kwargs: dict[str, object] = {
            "store": store,
            "clock": clock,
            "cost_model": CostModel(),
            "starting_cash_krw": START_CASH,
        }
        kwargs.update(overrides)
        return PaperBroker(market, **kwargs)  # type: ignore[arg-type]

    return make


@pytest.fixture
def broker(make_broker: MakeBroker) -> PaperBroker:
    return make_broker()
