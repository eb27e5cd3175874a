"""Typed answers of the FRED API (series observations, release dates).

FRED writes every value as a string and ``"."`` for a missing observation; dates are ISO. Release
dates are the sources' announced dates (with ``include_release_dates_with_no_data=true`` also
scheduled future ones), not the moment the data appears on FRED.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, field_validator

from tools.econ.wire_values import parse_decimal


class _FredModel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class FredObservation(_FredModel):
    """One observation of a series; `value` is None where FRED writes ``"."``."""

    realtime_start: date
    realtime_end: date
    date: date
    value: Decimal | None

    @field_validator("value", mode="before")
    @classmethod
    def _decimal(cls, raw: object) -> Decimal | None:
        return parse_decimal(raw)


class FredObservationPage(_FredModel):
    """The body of ``fred/series/observations`` (one page)."""

    realtime_start: date
    realtime_end: date
    observation_start: date
    observation_end: date
    units: str
    output_type: int
    file_type: str
    order_by: str
    sort_order: str
    count: int
    offset: int
    limit: int
    observations: list[FredObservation]


class FredReleaseDate(_FredModel):
    """A release date; `release_name` is present in ``releases/dates``, not ``release/dates``."""

    release_id: int
    release_name: str | None = None
    date: date


class FredReleaseDatePage(_FredModel):
    """The body of ``fred/releases/dates`` and ``fred/release/dates`` (one page)."""

    realtime_start: date
    realtime_end: date
    order_by: str
    sort_order: str
    count: int
    offset: int
    limit: int
    release_dates: list[FredReleaseDate]


class FredErrorBody(_FredModel):
    """FRED's error body: ``{"error_code": 400, "error_message": "Bad Request. ..."}``."""

    error_code: int
    error_message: str
