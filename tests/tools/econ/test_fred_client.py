from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from tests.tools.econ.conftest import Clients, make_clients
from tools.econ import (
    EconConfigurationError,
    EconRateLimitError,
    EconRequestError,
    EconUnavailableError,
)
from tools.econ.fred import SortOrder
from tools.econ.simulator import EconSimulator, Service

pytestmark = pytest.mark.anyio


async def test_observations_within_the_requested_window(clients: Clients) -> None:
    obs = await clients.fred.series_observations(
        "CPIAUCSL", start=date(2023, 1, 1), end=date(2023, 12, 31)
    )
    assert [o.date.month for o in obs] == list(range(1, 13))
    assert all(isinstance(o.value, Decimal) for o in obs)
    yoy = obs[-1].value / obs[0].value  # type: ignore[operator]
    assert Decimal("1.01") < yoy < Decimal("1.08")


async def test_dot_on_us_holidays_is_a_missing_value(clients: Clients) -> None:
    obs = await clients.fred.series_observations(
        "DEXKOUS", start=date(2024, 12, 23), end=date(2024, 12, 27)
    )
    by_day = {o.date: o.value for o in obs}
    assert by_day[date(2024, 12, 25)] is None
    assert by_day[date(2024, 12, 24)] is not None


async def test_latest_first_with_a_limit(clients: Clients) -> None:
    obs = await clients.fred.series_observations("FEDFUNDS", sort_order=SortOrder.DESC, limit=3)
    assert [o.date for o in obs] == [date(2026, 5, 1), date(2026, 4, 1), date(2026, 3, 1)]


async def test_realtime_end_hides_what_was_not_yet_published(clients: Clients) -> None:
    obs = await clients.fred.series_observations(
        "CPIAUCSL",
        start=date(2024, 1, 1),
        realtime_start=date(2024, 3, 1),
        realtime_end=date(2024, 3, 1),
    )
    assert [o.date for o in obs] == [date(2024, 1, 1)]  # February's CPI comes out mid-March
    assert obs[0].realtime_start == date(2024, 3, 1)


async def test_upcoming_releases_need_include_no_data(clients: Clients) -> None:
    window = {"start": date(2026, 7, 1), "end": date(2026, 7, 10)}
    assert await clients.fred.releases_dates(**window) == []
    upcoming = await clients.fred.releases_dates(
        **window, include_no_data=True, sort_order=SortOrder.ASC
    )
    names = {(r.release_name, r.date) for r in upcoming}
    assert ("Employment Situation", date(2026, 7, 3)) in names
    assert [r.date for r in upcoming] == sorted(r.date for r in upcoming)


async def test_one_release_dates(clients: Clients) -> None:
    dates = await clients.fred.release_dates(50, start=date(2025, 1, 1), end=date(2025, 6, 30))
    assert [d.date.day for d in dates] == [3, 7, 7, 4, 2, 6]  # first Fridays of 2025
    assert all(d.date.weekday() == 4 and d.release_name is None for d in dates)


async def test_unknown_series_is_a_request_error(clients: Clients) -> None:
    with pytest.raises(EconRequestError, match="series does not exist"):
        await clients.fred.series_observations("NOSUCHSERIES")


async def test_unregistered_key_is_a_configuration_error(simulator: EconSimulator) -> None:
    wrong = make_clients(simulator, fred_key="ffffffffffffffffffffffffffffffff")
    with pytest.raises(EconConfigurationError, match="not registered") as info:
        await wrong.fred.release_dates(10)
    assert "ffffffffffffffffffffffffffffffff" not in str(info.value)


async def test_malformed_key_is_a_configuration_error(simulator: EconSimulator) -> None:
    wrong = make_clients(simulator, fred_key="NOT-A-KEY")
    with pytest.raises(EconConfigurationError, match="32 character"):
        await wrong.fred.release_dates(10)


async def test_rate_limit_and_outage(simulator: EconSimulator, clients: Clients) -> None:
    simulator.state.set_quota(Service.FRED, 0)
    with pytest.raises(EconRateLimitError):
        await clients.fred.release_dates(10)
    simulator.state.set_quota(Service.FRED, None)
    simulator.state.set_outage(Service.FRED, 3)
    with pytest.raises(EconUnavailableError):
        await clients.fred.release_dates(10)
    assert await clients.fred.release_dates(10)
