"""Economic observations into `econ_events`, with the period each describes and when it was public.

- ECOS (the base rate, KRW/USD, CPI of `tools.econ.snapshot_models.MACRO_SERIES`): ECOS does not
  publish release times, so `scheduled_for` is the first day the value is usable under the
  snapshot's rule (period end + the series' lag) and `published_at` stays empty.
- FRED: the observations of `FRED_SERIES`, dated by `realtime_start` (the day FRED first served
  the value as it is now: its publication), and the release calendar (`releases/dates`).

Incremental: each series is read again from a little before its last stored period (late
revisions land there), never from the beginning.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from db.models import EconEvent
from db.repositories import EconEventRepository
from tools.econ.ecos_models import period_bounds
from tools.econ.fred import SortOrder
from tools.econ.snapshot import EconSnapshots
from tools.econ.snapshot_models import MACRO_SERIES, MacroSeries

FRED_SERIES: dict[str, str] = {"CPIAUCSL": "US CPI (all urban)", "FEDFUNDS": "Fed funds rate"}
"""US series collected besides the release calendar."""
REVISION_WINDOW = timedelta(days=40)
"""How far before its last stored period a series is read again."""
CALENDAR_AHEAD = timedelta(days=30)
"""How far ahead the FRED release calendar is stored."""
EASTERN_MIDNIGHT_UTC = time(5)
"""FRED dates are US Eastern days; 05:00 UTC is their start (or 04:00 in summer: earlier)."""


def _start(sessions: sessionmaker[Session], source: str, prefix: str, since: date) -> date:
    """Where to read a series from: `since` unless stored from then on, else near its end."""
    with sessions() as session:
        first, last = session.execute(
            sa.select(
                sa.func.min(EconEvent.scheduled_for), sa.func.max(EconEvent.scheduled_for)
            ).where(EconEvent.source == source, EconEvent.event_key.startswith(prefix))
        ).one()
    if first is None or last is None or since < first - REVISION_WINDOW:
        return since
    return max(since, last - REVISION_WINDOW)


def _save(sessions: sessionmaker[Session], rows: list[dict[str, Any]]) -> int:
    unique = {(r["source"], r["event_key"], r["scheduled_for"]): r for r in rows}
    if unique:
        with sessions.begin() as session:
            EconEventRepository(session).save(list(unique.values()))
    return len(unique)


def _ecos_row(
    series: MacroSeries, period: str, value: Decimal, unit: str | None, now: datetime
) -> dict[str, Any]:
    _, end = period_bounds(period)
    return {
        "source": "ecos",
        "event_key": f"{series.stat_code}/{series.item_code}",
        "name": series.name,
        "country": "KR",
        "scheduled_for": end + timedelta(days=series.lag_days),
        "value": value,
        "unit": unit,
        "published_at": None,
        "period": period,
        "fetched_at": now,
    }


async def collect_ecos(
    econ: EconSnapshots, sessions: sessionmaker[Session], *, since: date, today: date, now: datetime
) -> int:
    """Store the ECOS macro series' values from `since` (or the last stored) to `today`."""
    written = 0
    for series in MACRO_SERIES.values():
        key = f"{series.stat_code}/{series.item_code}"
        start = _start(sessions, "ecos", key, since)
        rows = await econ.ecos.statistic_search(
            series.stat_code, series.cycle, start, today, [series.item_code]
        )
        out = []
        for row in rows:
            if row.value is None:
                continue
            try:
                out.append(_ecos_row(series, row.time, row.value, row.unit_name, now))
            except ValueError:
                continue  # a period ECOS wrote in another form cannot be dated
        written += _save(sessions, out)
    return written


def _eastern_day_start(day: date) -> datetime:
    return datetime.combine(day, EASTERN_MIDNIGHT_UTC, UTC)


async def collect_fred(
    econ: EconSnapshots, sessions: sessionmaker[Session], *, since: date, today: date, now: datetime
) -> int:
    """Store FRED observations (with their publication day) and the release calendar."""
    written = 0
    for series_id, name in FRED_SERIES.items():
        start = _start(sessions, "fred", f"{series_id}:", since)
        observations = await econ.fred.series_observations(series_id, start=start, end=today)
        rows = [
            {
                "source": "fred",
                "event_key": f"{series_id}:{o.date.isoformat()}",
                "name": name,
                "country": "US",
                "scheduled_for": o.realtime_start,
                "value": o.value,
                "unit": None,
                "published_at": _eastern_day_start(o.realtime_start),
                "period": o.date.strftime("%Y%m%d"),
                "fetched_at": now,
            }
            for o in observations
            if o.value is not None
        ]
        written += _save(sessions, rows)
    start = min(_start(sessions, "fred", "release:", since), today)
    releases = await econ.fred.releases_dates(
        start=start, end=today + CALENDAR_AHEAD, include_no_data=True, sort_order=SortOrder.ASC
    )
    rows = [
        {
            "source": "fred",
            "event_key": f"release:{r.release_id}",
            "name": (r.release_name or f"release {r.release_id}")[:200],
            "country": "US",
            "scheduled_for": r.date,
            "value": None,
            "unit": None,
            "published_at": None,
            "period": None,
            "fetched_at": now,
        }
        for r in releases
    ]
    return written + _save(sessions, rows)
