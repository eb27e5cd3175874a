from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from pydantic import SecretStr

from tools.econ import DartClient, EcosClient, FredClient, RetryPolicy
from tools.econ.simulator import (
    DART_SIM_KEY,
    ECOS_SIM_KEY,
    FRED_SIM_KEY,
    EconSimulator,
)

NO_WAIT = RetryPolicy(attempts=3, initial_wait_s=0, max_wait_s=0)


@dataclass
class Clients:
    ecos: EcosClient
    fred: FredClient
    dart: DartClient


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def simulator() -> EconSimulator:
    return EconSimulator()


def make_clients(
    simulator: EconSimulator,
    *,
    ecos_key: str = ECOS_SIM_KEY,
    fred_key: str = FRED_SIM_KEY,
    dart_key: str = DART_SIM_KEY,
    page_size: int = 1000,
) -> Clients:
    urls = simulator.base_urls()
    return Clients(
        ecos=EcosClient(
            SecretStr(ecos_key),
            transport=simulator.transport(),
            base_url=urls.ecos,
            retry=NO_WAIT,
            page_size=page_size,
        ),
        fred=FredClient(
            SecretStr(fred_key), transport=simulator.transport(), base_url=urls.fred, retry=NO_WAIT
        ),
        dart=DartClient(
            SecretStr(dart_key), transport=simulator.transport(), base_url=urls.dart, retry=NO_WAIT
        ),
    )


@pytest.fixture
async def clients(simulator: EconSimulator) -> AsyncIterator[Clients]:
    made = make_clients(simulator)
    yield made
    for client in (made.ecos, made.fred, made.dart):
        await client.aclose()
