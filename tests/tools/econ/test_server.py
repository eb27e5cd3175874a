"""The clients against the simulator over real HTTP on 127.0.0.1, configured from Settings."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import pytest

from tools.econ import EconConfigurationError
from tools.econ.ecos_models import EcosCycle
from tools.econ.simulator import (
    DART_SIM_KEY,
    ECOS_SIM_KEY,
    FRED_SIM_KEY,
    EconSimulatorServer,
)
from trader.settings import Settings
from trader.wiring.configs import dart_client, ecos_client, fred_client


@pytest.fixture(scope="module")
def server() -> Iterator[EconSimulatorServer]:
    with EconSimulatorServer() as running:
        yield running


def _settings(server: EconSimulatorServer, **overrides: str) -> Settings:
    urls = server.base_urls
    values = {
        "ecos_api_key": ECOS_SIM_KEY,
        "fred_api_key": FRED_SIM_KEY,
        "dart_api_key": DART_SIM_KEY,
        "ecos_base_url": urls.ecos,
        "fred_base_url": urls.fred,
        "dart_base_url": urls.dart,
    }
    return Settings(**(values | overrides))  # type: ignore[arg-type]


@pytest.mark.anyio
async def test_three_clients_over_loopback(
    server: EconSimulatorServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    settings = _settings(server)
    async with (
        ecos_client(settings) as ecos,
        fred_client(settings) as fred,
        dart_client(settings) as dart,
    ):
        rates = await ecos.statistic_search(
            "722Y001", EcosCycle.MONTHLY, date(2025, 1, 1), date(2025, 6, 1), ["0101000"]
        )
        assert [r.value for r in rates] == [
            Decimal(v) for v in ["3.00", "2.75", "2.75", "2.75", "2.50", "2.50"]
        ]
        releases = await fred.release_dates(10, start=date(2026, 1, 1), end=date(2026, 3, 31))
        assert len(releases) == 3
        directory = await dart.corp_codes()
        assert directory.corp_code_for("005930") == "00126380"
    assert str(server.port) in caplog.text  # the requests really went over the socket
    for key in (ECOS_SIM_KEY, FRED_SIM_KEY, DART_SIM_KEY):
        assert key not in caplog.text


@pytest.mark.anyio
async def test_the_server_rejects_a_wrong_key(server: EconSimulatorServer) -> None:
    settings = _settings(server, ecos_api_key="WRONGKEY000000000000")
    async with ecos_client(settings) as ecos:
        with pytest.raises(EconConfigurationError) as info:
            await ecos.key_statistics()
    assert info.value.code == "INFO-100"


def test_missing_key_is_a_configuration_error() -> None:
    with pytest.raises(EconConfigurationError, match="DART_API_KEY"):
        dart_client(Settings())
