"""Parsers of two economic-calendar feeds that have no client yet: BEA and FMP.

- BEA's keyless ``release_dates.json``: an object keyed by release name, each with ISO datetimes,
  plus ``file_last_updated``. A candidate source of US release times (FRED gives dates only).
- FMP's ``economic-calendar`` (paid plan): a list of events with previous/estimate/actual.

They are parsed here so the shapes are pinned by tests; the snapshot uses FRED's calendar.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator

from tools.econ.wire_values import parse_decimal


class ScheduledRelease(BaseModel):
    """One scheduled release time (BEA)."""

    model_config = ConfigDict(frozen=True)

    name: str
    at: datetime


def parse_bea_release_dates(body: dict[str, Any]) -> list[ScheduledRelease]:
    """Flatten BEA's ``{name: {"release_dates": [...]}}`` into releases sorted by time."""
    releases = [
        ScheduledRelease(name=name, at=datetime.fromisoformat(when))
        for name, entry in body.items()
        if isinstance(entry, dict)
        for when in entry.get("release_dates", [])
    ]
    return sorted(releases, key=lambda r: (r.at, r.name))


class CalendarEvent(BaseModel):
    """One FMP economic-calendar row; numbers are Decimal (FMP sends JSON floats)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    date: datetime
    country: str
    currency: str | None = None
    event: str
    impact: str | None = None
    previous: Decimal | None = None
    estimate: Decimal | None = None
    actual: Decimal | None = None

    @field_validator("date", mode="before")
    @classmethod
    def _utc(cls, raw: object) -> object:
        if isinstance(raw, str):
            parsed = datetime.fromisoformat(raw)
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
        return raw

    @field_validator("previous", "estimate", "actual", mode="before")
    @classmethod
    def _decimal(cls, raw: object) -> Decimal | None:
        return parse_decimal(None if raw is None else str(raw))


def parse_fmp_calendar(body: list[dict[str, Any]]) -> list[CalendarEvent]:
    """Parse FMP's economic-calendar list."""
    return [CalendarEvent.model_validate(row) for row in body]
