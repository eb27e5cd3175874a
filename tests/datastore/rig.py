"""A collector wired to the KIS simulator over real HTTP (loopback) and a migrated database."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from pydantic import SecretStr
from sqlalchemy.orm import Session, sessionmaker

from core.clock import KST, FixedClock
from datastore.collector import Collector
from datastore.collector.bars import DAILY
from db import migrate
from db.engine import create_db_engine, session_factory
from db.models import MarketBar
from tools.kis.client import KISClient
from tools.kis.config import KISConfig
from tools.kis.endpoints import Mode
from tools.kis.ratelimit import RateLimiter
from tools.kis.simulator import SimulatorConfig, SimulatorServer

CHART = "/uapi/domestic-stock/v1/quotations/inquire-daily-itemchartprice"
FINANCE = "/uapi/domestic-stock/v1/finance/"
TUESDAY_1030 = datetime(2026, 3, 10, 10, 30, tzinfo=KST)
"""A KRX trading day (the last closed session is Monday 2026-03-09)."""


@dataclass
class Rig:
    """The running pieces of one test."""

    sim: SimulatorServer
    clock: FixedClock
    sessions: sessionmaker[Session]
    tmp: Path

    def client(self) -> KISClient:
        """A fresh KIS client on the simulator (close it after use)."""
        cfg = self.sim.cfg
        config = KISConfig(
            mode=Mode.REAL,
            app_key=SecretStr(cfg.app_key),
            app_secret=SecretStr(cfg.app_secret),
            account_no=SecretStr(cfg.account_no),
            base_url=self.sim.base_url,
            token_cache_dir=self.tmp / "tokens",
            retry_wait_s=0.01,
        )
        return KISClient(config, clock=self.clock, limiter=RateLimiter(10_000))

    def collector(self, client: KISClient, **kwargs: Any) -> Collector:
        """A collector through `client` into the test's database."""
        return Collector(client, self.sessions, clock=self.clock, **kwargs)

    def chart_calls(self) -> int:
        """Daily-chart requests the simulator has answered so far."""
        return self.sim.stats.requests_by_path[CHART]

    def finance_calls(self) -> int:
        """Finance requests the simulator has answered so far."""
        return sum(n for p, n in self.sim.stats.requests_by_path.items() if p.startswith(FINANCE))

    def closes(self, ticker: str) -> dict[date, int]:
        """The stored adjusted closes of a ticker by KST day."""
        with self.sessions() as session:
            rows = session.execute(
                sa.select(MarketBar.bar_time, MarketBar.close_krw).where(
                    MarketBar.ticker == ticker, MarketBar.interval == DAILY
                )
            ).all()
        return {t.astimezone(KST).date(): int(c) for t, c in rows}

    def row_count(self) -> tuple[int, int]:
        """(rows, distinct (ticker, bar_time)) of market_data: equal when nothing is doubled."""
        with self.sessions() as session:
            rows = session.scalar(sa.select(sa.func.count()).select_from(MarketBar)) or 0
            distinct = session.scalar(
                sa.select(sa.func.count()).select_from(
                    sa.select(MarketBar.ticker, MarketBar.bar_time).distinct().subquery()
                )
            )
        return int(rows), int(distinct or 0)


@contextmanager
def running_rig(db_url: str, tmp: Path, **sim_overrides: Any) -> Iterator[Rig]:
    """Migrate the database and serve the simulator at `TUESDAY_1030` (the clock can move)."""
    migrate.upgrade(db_url)
    clock = FixedClock(TUESDAY_1030)
    values: dict[str, Any] = {"clock": clock, "rate_limit_per_s": 1e6, "store_path": None}
    values.update(sim_overrides)
    engine = create_db_engine(db_url)
    try:
        with SimulatorServer(SimulatorConfig(**values), port=0) as sim:
            yield Rig(sim, clock, session_factory(engine), tmp)
    finally:
        engine.dispose()
