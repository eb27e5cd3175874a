"""OpenDART reports and ECOS/FRED series into the database, from the econ twin, on both engines."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from pydantic import SecretStr

from datastore.collector import CollectOptions
from db.fundamentals import FundamentalsRepository
from db.models import EconEvent, Fundamental
from tests.datastore.rig import running_rig
from tools.econ.dart import DartClient
from tools.econ.ecos import EcosClient
from tools.econ.fred import FredClient
from tools.econ.simulator.app import EconSimulator
from tools.econ.simulator.state import SimulatorKeys, SimulatorState
from tools.econ.snapshot import EconSnapshots

pytestmark = pytest.mark.anyio

TODAY = date(2026, 3, 10)
ECON_ONLY = CollectOptions(since=date(2022, 1, 3), bars=False, fundamentals=False)


@pytest.fixture
async def econ() -> AsyncIterator[EconSnapshots]:
    twin = EconSimulator(SimulatorState(SimulatorKeys(), today=TODAY))
    urls, transport, keys = EconSimulator.base_urls(), twin.transport(), SimulatorKeys()
    clients = (
        EcosClient(SecretStr(keys.ecos), transport=transport, base_url=urls.ecos),
        FredClient(SecretStr(keys.fred), transport=transport, base_url=urls.fred),
        DartClient(SecretStr(keys.dart), transport=transport, base_url=urls.dart),
    )
    yield EconSnapshots(*clients)
    for client in clients:
        await client.aclose()


async def test_annual_reports_are_known_the_day_after_filing(
    db_url: str, tmp_path: Path, econ: EconSnapshots
) -> None:
    with running_rig(db_url, tmp_path) as rig:
        async with rig.client() as client:
            collector = rig.collector(client, econ=econ)
            first = await collector.run(["005930"], ECON_ONLY)
            with rig.sessions() as session:
                reports = list(
                    session.scalars(sa.select(Fundamental).where(Fundamental.source == "dart"))
                )
                events = session.scalar(sa.select(sa.func.count()).select_from(EconEvent))
            again = await collector.run(["005930"], ECON_ONLY)
    assert first.failed == {} and reports
    assert again.fundamentals_written == 0  # stored years are not asked for again
    for report in reports:
        published = date.fromisoformat(report.figures["published_on"])
        assert report.known_on == published + timedelta(days=1)
        assert report.known_basis == "published"
        assert published.year == int(report.period) + 1
    newest = max(reports, key=lambda r: r.period)
    with rig.sessions() as session:
        repo = FundamentalsRepository(session)
        on_filing_day = {
            r.source: r.period for r in repo.known_by("005930", newest.known_on - timedelta(days=1))
        }
        next_day = {r.source: r.period for r in repo.known_by("005930", newest.known_on)}
    assert on_filing_day.get("dart") != newest.period
    assert next_day["dart"] == newest.period
    assert events


async def test_macro_series_keep_their_period_and_publication(
    db_url: str, tmp_path: Path, econ: EconSnapshots
) -> None:
    with running_rig(db_url, tmp_path) as rig:
        async with rig.client() as client:
            await rig.collector(client, econ=econ).run([], ECON_ONLY)
        with rig.sessions() as session:
            rows = list(session.scalars(sa.select(EconEvent)))
    ecos = [r for r in rows if r.source == "ecos"]
    fred = [r for r in rows if r.source == "fred" and not r.event_key.startswith("release:")]
    releases = [r for r in rows if r.event_key.startswith("release:")]
    assert ecos and fred and releases
    cpi = [r for r in ecos if r.name == "cpi"]
    assert cpi and all(r.period and len(r.period) == 6 for r in cpi)
    # Monthly CPI is usable from the 7th of the next month (the snapshot's rule).
    for row in cpi:
        year, month = int(row.period[:4]), int(row.period[4:])  # type: ignore[index]
        first_next = date(year + month // 12, month % 12 + 1, 1)
        assert row.scheduled_for == first_next + timedelta(days=6)
    assert all(r.published_at is not None and r.period for r in fred)
    assert all(r.published_at is None for r in ecos)
