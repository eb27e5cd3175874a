from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from tests.tools.econ.conftest import Clients, make_clients
from tools.econ import EconConfigurationError
from tools.econ.dart_models import FsDiv
from tools.econ.ecos_models import EcosCycle
from tools.econ.simulator import EconSimulator, Service
from tools.econ.snapshot import EconSnapshots, fundamentals_snapshot, macro_snapshot

pytestmark = pytest.mark.anyio


async def test_base_rate_cut_is_not_seen_on_its_own_day(clients: Clients) -> None:
    on_the_day = await macro_snapshot(clients.ecos, clients.fred, date(2025, 5, 29))
    assert on_the_day.base_rate is not None
    assert on_the_day.base_rate.value == Decimal("2.75")
    day_after = await macro_snapshot(clients.ecos, clients.fred, date(2025, 5, 30))
    assert day_after.base_rate is not None
    assert (day_after.base_rate.value, day_after.base_rate.period) == (Decimal("2.50"), "20250529")
    assert day_after.base_rate.available_on == date(2025, 5, 30)


async def test_exchange_rate_on_a_monday_is_fridays(clients: Clients) -> None:
    snap = await macro_snapshot(clients.ecos, clients.fred, date(2024, 3, 4))
    assert snap.krw_usd is not None
    assert snap.krw_usd.period_end == date(2024, 3, 1)
    assert snap.krw_usd.source == "ECOS 731Y001/0000001"


async def test_cpi_waits_for_publication_and_has_yoy(clients: Clients) -> None:
    before = await macro_snapshot(clients.ecos, clients.fred, date(2024, 3, 6))
    after = await macro_snapshot(clients.ecos, clients.fred, date(2024, 3, 7))
    assert before.cpi is not None and after.cpi is not None
    assert (before.cpi.period, after.cpi.period) == ("202401", "202402")
    year_before = await clients.ecos.statistic_search(
        "901Y009", EcosCycle.MONTHLY, "202302", "202302", ["0"]
    )
    base = year_before[0].value
    assert base is not None
    expected = ((after.cpi.value / base - 1) * 100).quantize(Decimal("0.01"))
    assert after.cpi_yoy_pct == expected
    assert Decimal("1") < expected < Decimal("5")


async def test_upcoming_us_releases_within_the_horizon(clients: Clients) -> None:
    as_of = date(2026, 7, 1)  # after the simulator's last data day: all scheduled, no data
    snap = await macro_snapshot(clients.ecos, clients.fred, as_of, horizon_days=7)
    assert ("Employment Situation", date(2026, 7, 3)) in {
        (r.name, r.date) for r in snap.upcoming_us_releases
    }
    assert all(as_of <= r.date <= as_of + timedelta(days=7) for r in snap.upcoming_us_releases)
    assert snap.problems == {}


async def test_an_ecos_outage_leaves_named_gaps(simulator: EconSimulator, clients: Clients) -> None:
    simulator.state.set_outage(Service.ECOS, 100)
    snap = await macro_snapshot(clients.ecos, clients.fred, date(2025, 1, 10))
    assert (snap.base_rate, snap.krw_usd, snap.cpi, snap.cpi_yoy_pct) == (None, None, None, None)
    assert set(snap.problems) == {"base_rate", "krw_usd", "cpi"}
    assert "ERROR-600" in snap.problems["cpi"]
    assert snap.upcoming_us_releases


async def test_a_bad_key_stops_the_snapshot(simulator: EconSimulator) -> None:
    wrong = make_clients(simulator, ecos_key="WRONGKEY000000000001")
    with pytest.raises(EconConfigurationError):
        await macro_snapshot(wrong.ecos, wrong.fred, date(2025, 1, 10))


async def test_fundamentals_use_only_reports_filed_before_as_of(clients: Clients) -> None:
    filing_day = await fundamentals_snapshot(clients.dart, "00126380", date(2024, 3, 12))
    assert filing_day is not None
    assert (filing_day.fiscal_year, filing_day.published_on) == (2022, date(2023, 3, 7))
    next_day = await fundamentals_snapshot(clients.dart, "00126380", date(2024, 3, 13))
    assert next_day is not None
    assert next_day.fiscal_year == 2023
    assert next_day.fs_div is FsDiv.CONSOLIDATED
    assert next_day.revenue == 258_935_000_000_000
    assert next_day.operating_income == 6_567_000_000_000
    assert next_day.net_income == 15_487_000_000_000
    assert next_day.total_assets == next_day.total_liabilities + next_day.total_equity  # type: ignore[operator]


async def test_fundamentals_by_ticker(clients: Clients) -> None:
    snapshots = EconSnapshots(clients.ecos, clients.fred, clients.dart)
    hynix = await snapshots.fundamentals("000660", date(2025, 1, 2))
    assert hynix is not None
    assert (hynix.corp_code, hynix.stock_code, hynix.fiscal_year) == ("00164779", "000660", 2023)
    assert hynix.operating_income is not None and hynix.operating_income < 0
    assert await snapshots.fundamentals("999999", date(2025, 1, 2)) is None
    assert await snapshots.fundamentals("035420", date(2022, 1, 2)) is None  # nothing filed yet
    macro = await snapshots.macro(date(2025, 1, 2))
    assert macro.base_rate is not None
