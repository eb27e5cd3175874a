"""The service's fixtures: settings on a temp folder and database, the demo market, a pinned day.

No KIS account is configured, so the in-process KIS simulator is market and broker; the clock
starts on a trading day on which the seeded market proposes buys of 051910 and 035420 and then
runs at wall-clock speed (fills and polls behave as in real use).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from core.clock import KST, Clock
from tests.trader.clocks import ShiftedClock
from trader.service.app import create_app
from trader.settings import Settings, load_settings

START = datetime(2026, 11, 26, 10, 0, tzinfo=KST)
"""A Thursday on which the seeded market proposes buys of 051910 and 035420."""
THREAD = "default:2026-11-26:demo"
TOKEN = "svc-token-7d1f0c2a"
SECRETS = (
    "FAKE-KIS-APP-SECRET-93c1e5",
    "FAKE-KIS-APP-KEY-5b8e2d",
    "sk-FAKE-LLM-KEY-4a7f19",
    "lsv2-FAKE-LANGSMITH-0e3b",
    "FAKE-ECOS-KEY-c2d4",
)
"""Recognisable fake secrets set in the settings; no response may carry one (or the token)."""
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def service_settings(data_dir: Path, database_url: str, **overrides: Any) -> Settings:
    """Paper settings on the built-in market, with fake secrets that must never be served.

    A KIS key and secret without an account number leave the built-in market in use; an LLM
    key with no provider is never called; one econ key of three keeps the econ twin.
    """
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "database_url": database_url,
        "watchlist": "051910,035420",
        "service_auth_token": TOKEN,
        "kis_app_key": SECRETS[1],
        "kis_app_secret": SECRETS[0],
        "openai_api_key": SECRETS[2],
        "langsmith_api_key": SECRETS[3],
        "ecos_api_key": SECRETS[4],
    }
    values.update(overrides)
    return load_settings(**values)


@pytest.fixture
def clock() -> Callable[[], Clock]:
    return partial(ShiftedClock, START)


@pytest.fixture
def settings(tmp_path: Path, db_url: str) -> Settings:
    """On SQLite and on PostgreSQL (`db_url`)."""
    return service_settings(tmp_path / "data", db_url)


@pytest.fixture
def client(settings: Settings, clock: Callable[[], Clock]) -> Iterator[TestClient]:
    """The app on the demo market (its lifespan migrates the database)."""
    with TestClient(create_app(settings, clock=clock, demo=True)) as test_client:
        yield test_client
