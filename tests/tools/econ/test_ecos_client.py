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
from tools.econ.ecos_models import EcosCycle
from tools.econ.simulator import EconSimulator, Service

pytestmark = pytest.mark.anyio


async def test_base_rate_daily_follows_the_january_2023_decision(clients: Clients) -> None:
    rows = await clients.ecos.statistic_search(
        "722Y001", EcosCycle.DAILY, date(2023, 1, 1), date(2023, 1, 31), ["0101000"]
    )
    assert len(rows) == 31
    assert rows[0].time == "20230101" and rows[0].period_start == date(2023, 1, 1)
    by_day = {r.period_start: r.value for r in rows}
    assert by_day[date(2023, 1, 12)] == Decimal("3.25")
    assert by_day[date(2023, 1, 13)] == Decimal("3.50")
    assert rows[0].unit_name == "연%"


async def test_exchange_rate_values_with_separators_become_decimals(clients: Clients) -> None:
    rows = await clients.ecos.statistic_search(
        "731Y001", EcosCycle.DAILY, "20240101", "20240131", ["0000001"]
    )
    assert rows, "the simulator has KRW/USD for January 2024"
    assert all(r.period_start.weekday() < 5 for r in rows)
    assert all(isinstance(r.value, Decimal) and r.value > 1000 for r in rows)


async def test_monthly_cpi_periods_span_the_month(clients: Clients) -> None:
    rows = await clients.ecos.statistic_search(
        "901Y009", EcosCycle.MONTHLY, date(2024, 1, 1), date(2024, 12, 1), ["0"]
    )
    assert [r.time for r in rows][:2] == ["202401", "202402"]
    assert (rows[1].period_start, rows[1].period_end) == (date(2024, 2, 1), date(2024, 2, 29))


async def test_paging_returns_the_same_rows(simulator: EconSimulator) -> None:
    small = make_clients(simulator, page_size=7)
    big = make_clients(simulator)
    args = ("722Y001", EcosCycle.DAILY, date(2024, 3, 1), date(2024, 3, 31), ["0101000"])
    before = simulator.state.requests[Service.ECOS]
    paged = await small.ecos.statistic_search(*args)
    assert simulator.state.requests[Service.ECOS] - before == 5  # 31 rows, 7 per page
    assert paged == await big.ecos.statistic_search(*args)


async def test_no_data_is_an_empty_list(clients: Clients) -> None:
    rows = await clients.ecos.statistic_search(
        "722Y001", EcosCycle.DAILY, date(2010, 1, 1), date(2010, 1, 31), ["0101000"]
    )
    assert rows == []


async def test_key_statistics_are_the_latest_values(clients: Clients) -> None:
    stats = {s.name: s for s in await clients.ecos.key_statistics()}
    base = stats["한국은행 기준금리"]
    assert base.value == Decimal("2.50")
    assert base.reference_period == (date(2026, 6, 30), date(2026, 6, 30))
    assert stats["소비자물가지수"].cycle == "202605"  # June's CPI is not out on June 30


async def test_period_in_the_wrong_format_is_a_request_error(clients: Clients) -> None:
    with pytest.raises(EconRequestError) as info:
        await clients.ecos.statistic_search("722Y001", EcosCycle.DAILY, "202301", "202302")
    assert info.value.code == "ERROR-101"


async def test_wrong_key_is_a_configuration_error(simulator: EconSimulator) -> None:
    wrong = make_clients(simulator, ecos_key="WRONGKEY000000000001")
    with pytest.raises(EconConfigurationError) as info:
        await wrong.ecos.key_statistics()
    assert info.value.code == "INFO-100"
    assert "WRONGKEY000000000001" not in str(info.value)


async def test_outage_is_retried_then_succeeds(simulator: EconSimulator, clients: Clients) -> None:
    simulator.state.set_outage(Service.ECOS, 2)
    assert await clients.ecos.key_statistics()
    assert simulator.state.requests[Service.ECOS] == 3


async def test_long_outage_surfaces_as_unavailable(
    simulator: EconSimulator, clients: Clients
) -> None:
    simulator.state.set_outage(Service.ECOS, 10)
    with pytest.raises(EconUnavailableError) as info:
        await clients.ecos.key_statistics()
    assert info.value.code == "ERROR-600"
    assert simulator.state.requests[Service.ECOS] == 3


async def test_exhausted_quota_is_a_rate_limit(simulator: EconSimulator, clients: Clients) -> None:
    simulator.state.set_quota(Service.ECOS, 0)
    with pytest.raises(EconRateLimitError) as info:
        await clients.ecos.key_statistics()
    assert info.value.code == "ERROR-602"


async def test_request_errors_are_not_retried(simulator: EconSimulator, clients: Clients) -> None:
    with pytest.raises(EconRequestError):
        await clients.ecos.statistic_search("722Y001", EcosCycle.MONTHLY, "2023", "2024")
    assert simulator.state.requests[Service.ECOS] == 1
