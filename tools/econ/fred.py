"""Async client of the FRED API (Federal Reserve Bank of St. Louis).

Every call is ``GET {base}/<path>?api_key=...&file_type=json&...``. Errors come as HTTP 4xx with
``{"error_code", "error_message"}``; a message about ``api_key`` means the key is wrong.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from functools import partial
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from tools.econ.errors import (
    EconConfigurationError,
    EconError,
    EconRateLimitError,
    EconRequestError,
    EconResponseError,
    EconUnavailableError,
)
from tools.econ.fred_models import (
    FredErrorBody,
    FredObservation,
    FredObservationPage,
    FredReleaseDate,
    FredReleaseDatePage,
)
from tools.econ.http import ServiceClient

SERVICE = "FRED"
FRED_BASE_URL = "https://api.stlouisfed.org/fred"
MAX_OBSERVATIONS_PER_PAGE = 100_000
MAX_RELEASE_DATES_PER_PAGE = 1_000

_Page = TypeVar("_Page", bound=BaseModel)


class SortOrder(StrEnum):
    """FRED sort orders."""

    ASC = "asc"
    DESC = "desc"


def fred_error(code: int, message: str) -> EconError:
    """Return the error for a FRED ``error_code`` / ``error_message`` pair."""
    tag = str(code)
    if "api_key" in message:
        return EconConfigurationError(SERVICE, tag, message)
    if code == 429:
        return EconRateLimitError(SERVICE, tag, message)
    if code >= 500:
        return EconUnavailableError(SERVICE, tag, message)
    if 400 <= code < 500:
        return EconRequestError(SERVICE, tag, message)
    return EconResponseError(SERVICE, tag, message)


def read_fred_body(body: Any, model: type[_Page]) -> _Page:
    """Validate a decoded FRED JSON answer as `model`, or raise the error it reports."""
    if isinstance(body, dict) and "error_code" in body:
        try:
            error = FredErrorBody.model_validate(body)
        except ValidationError:
            raise EconResponseError(SERVICE, "malformed", "unreadable error body") from None
        raise fred_error(error.error_code, error.error_message)
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        detail = f"unreadable {model.__name__}: {exc.error_count()} problem(s)"
        raise EconResponseError(SERVICE, "malformed", detail) from None


class FredClient(ServiceClient):
    """Reads series and release calendars from FRED. An async context manager."""

    SERVICE = SERVICE
    DEFAULT_BASE_URL = FRED_BASE_URL

    async def series_observations(
        self,
        series_id: str,
        *,
        start: date | None = None,
        end: date | None = None,
        sort_order: SortOrder = SortOrder.ASC,
        limit: int | None = None,
        realtime_start: date | None = None,
        realtime_end: date | None = None,
    ) -> list[FredObservation]:
        """Return the observations of `series_id` dated from `start` to `end` (inclusive).

        Args:
            series_id: e.g. ``CPIAUCSL``, ``DEXKOUS``.
            start: first observation date (FRED default: the series' first).
            end: last observation date.
            sort_order: ``asc`` (oldest first) or ``desc``.
            limit: at most this many observations; None pages through all of them.
            realtime_start: start of the real-time (vintage) period.
            realtime_end: end of the real-time period.
        """
        params = _dates(
            observation_start=start,
            observation_end=end,
            realtime_start=realtime_start,
            realtime_end=realtime_end,
        )
        params |= {"series_id": series_id, "sort_order": sort_order.value}
        result: list[FredObservation] = []
        while True:
            page_size = min(limit - len(result), MAX_OBSERVATIONS_PER_PAGE) if limit else None
            asked = page_size or MAX_OBSERVATIONS_PER_PAGE
            page = await self._page(
                "/series/observations",
                params | {"offset": str(len(result))},
                FredObservationPage,
                asked,
            )
            result.extend(page.observations)
            done = limit is not None and len(result) >= limit
            # A short page is the last one, whatever `count` claims (a truncated or lying
            # answer would otherwise be asked for again and again).
            if done or len(page.observations) < asked or len(result) >= page.count:
                return result

    async def releases_dates(
        self,
        *,
        start: date | None = None,
        end: date | None = None,
        include_no_data: bool = False,
        sort_order: SortOrder = SortOrder.DESC,
        order_by: str = "release_date",
    ) -> list[FredReleaseDate]:
        """Return release dates of all releases between `start` and `end` (``releases/dates``).

        `include_no_data=True` adds scheduled dates whose data is not out yet: the calendar
        of upcoming US releases. FRED's default window starts on January 1 of the current year.
        """
        params = _dates(realtime_start=start, realtime_end=end)
        params |= {
            "include_release_dates_with_no_data": _flag(include_no_data),
            "sort_order": sort_order.value,
            "order_by": order_by,
        }
        return await self._all_release_dates("/releases/dates", params)

    async def release_dates(
        self,
        release_id: int,
        *,
        start: date | None = None,
        end: date | None = None,
        include_no_data: bool = False,
        sort_order: SortOrder = SortOrder.ASC,
    ) -> list[FredReleaseDate]:
        """Return the dates of one release (``release/dates``), e.g. 10 = CPI."""
        params = _dates(realtime_start=start, realtime_end=end)
        params |= {
            "release_id": str(release_id),
            "include_release_dates_with_no_data": _flag(include_no_data),
            "sort_order": sort_order.value,
        }
        return await self._all_release_dates("/release/dates", params)

    async def _all_release_dates(self, path: str, params: dict[str, str]) -> list[FredReleaseDate]:
        result: list[FredReleaseDate] = []
        while True:
            page = await self._page(
                path,
                params | {"offset": str(len(result))},
                FredReleaseDatePage,
                MAX_RELEASE_DATES_PER_PAGE,
            )
            result.extend(page.release_dates)
            short = len(page.release_dates) < MAX_RELEASE_DATES_PER_PAGE  # the last page
            if short or len(result) >= page.count:
                return result

    async def _page(
        self, path: str, params: dict[str, str], model: type[_Page], limit: int
    ) -> _Page:
        query = params | {"limit": str(limit)}
        return await self._http.call(partial(self._fetch, path, query, model))

    async def _fetch(self, path: str, params: dict[str, str], model: type[_Page]) -> _Page:
        query = {"api_key": self._http.key, "file_type": "json", **params}
        response = await self._http.get(path, query)
        return read_fred_body(self._http.json(response), model)


def _dates(**values: date | None) -> dict[str, str]:
    return {name: value.isoformat() for name, value in values.items() if value is not None}


def _flag(value: bool) -> str:
    return "true" if value else "false"
