"""The simulated FRED: series/observations, releases/dates and release/dates in FRED's JSON.

Observations are served as known on the real-time period's end (a simple ALFRED: no revisions,
an observation exists from the day it was published). Release dates after `today` are
"scheduled, no data yet" and appear only with ``include_release_dates_with_no_data=true``.
Errors are HTTP 400/429/500 with ``{"error_code", "error_message"}``. Only ``file_type=json``.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tools.econ.simulator.macro_data import FRED_RELEASES, FRED_SERIES
from tools.econ.simulator.state import Service, SimulatorState

FAR_PAST = date(1776, 7, 4)
FAR_FUTURE = date(9999, 12, 31)
KEY_HELP = "Read https://fred.stlouisfed.org/docs/api/api_key.html for more information."
_KEY_SHAPE = re.compile(r"^[a-z0-9]{32}$")


class BadRequest(Exception):
    """A parameter FRED would refuse; carries FRED's message."""


def error(code: int, message: str) -> JSONResponse:
    """A FRED error body with the matching HTTP status."""
    return JSONResponse({"error_code": code, "error_message": message}, status_code=code)


def _date(params: dict[str, str], name: str, default: date) -> date:
    raw = params.get(name)
    if raw is None:
        return default
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise BadRequest(
            f"Bad Request.  Variable {name} is not a valid date (YYYY-MM-DD)."
        ) from None


def _int(params: dict[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = params.get(name, str(default))
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise BadRequest(f"Bad Request.  Variable {name} is not between {low} and {high}.")
    return int(raw)


def _choice(params: dict[str, str], name: str, default: str, allowed: tuple[str, ...]) -> str:
    value = params.get(name, default)
    if value not in allowed:
        options = ", ".join(f"'{a}'" for a in allowed)
        raise BadRequest(f"Bad Request.  Variable {name} is not one of the values: {options}.")
    return value


class FredSimulator:
    """The request handler of the simulated FRED, over a shared `SimulatorState`."""

    def __init__(self, state: SimulatorState) -> None:
        """Serve the dataset as of `state.today`."""
        self.state = state

    def app(self) -> Starlette:
        """The ASGI app; mount it where FRED's ``/fred`` would be."""
        routes = [
            Route("/series/observations", self._endpoint(self.observations)),
            Route("/releases/dates", self._endpoint(self.releases_dates)),
            Route("/release/dates", self._endpoint(self.release_dates)),
        ]
        return Starlette(routes=routes)

    def _endpoint(self, body: Any) -> Any:
        async def handle(request: Request) -> JSONResponse:
            if self.state.outage(Service.FRED):
                return error(500, "Internal Server Error.")
            params = dict(request.query_params)
            key = params.get("api_key")
            if key is None:
                return error(400, f"Bad Request.  Variable api_key is not set.  {KEY_HELP}")
            if not _KEY_SHAPE.match(key):
                return error(
                    400,
                    "Bad Request.  The value for variable api_key is not a 32 character "
                    f"alpha-numeric lower-case string.  {KEY_HELP}",
                )
            if key != self.state.keys.fred:
                return error(
                    400,
                    f"Bad Request.  The value for variable api_key is not registered.  {KEY_HELP}",
                )
            if self.state.rate_limited(Service.FRED):
                return error(429, "Too Many Requests.  Exceeded Rate Limit")
            try:
                _choice(params, "file_type", "xml", ("json",))
                return JSONResponse(body(params))
            except BadRequest as exc:
                return error(400, str(exc))

        return handle

    def observations(self, params: dict[str, str]) -> dict[str, Any]:
        """The body of series/observations."""
        series_id = params.get("series_id")
        if not series_id:
            raise BadRequest("Bad Request.  Variable series_id is not set.")
        series = FRED_SERIES.get(series_id)
        if series is None:
            raise BadRequest("Bad Request.  The series does not exist.")
        rt_start = _date(params, "realtime_start", self.state.today)
        rt_end = _date(params, "realtime_end", self.state.today)
        first = _date(params, "observation_start", FAR_PAST)
        last = _date(params, "observation_end", FAR_FUTURE)
        sort_order = _choice(params, "sort_order", "asc", ("asc", "desc"))
        units = _choice(params, "units", "lin", ("lin",))
        limit = _int(params, "limit", 100000, 1, 100000)
        offset = _int(params, "offset", 0, 0, 10**9)
        known_by = min(rt_end, self.state.today)
        rows = [
            {
                "realtime_start": max(rt_start, p.available_on).isoformat(),
                "realtime_end": rt_end.isoformat(),
                "date": p.start.isoformat(),
                "value": "." if p.value is None else str(p.value),
            }
            for p in series.points
            if first <= p.start <= last and p.available_on <= known_by
        ]
        if sort_order == "desc":
            rows.reverse()
        return {
            "realtime_start": rt_start.isoformat(),
            "realtime_end": rt_end.isoformat(),
            "observation_start": first.isoformat(),
            "observation_end": last.isoformat(),
            "units": units,
            "output_type": 1,
            "file_type": "json",
            "order_by": "observation_date",
            "sort_order": sort_order,
            "count": len(rows),
            "offset": offset,
            "limit": limit,
            "observations": rows[offset : offset + limit],
        }

    def releases_dates(self, params: dict[str, str]) -> dict[str, Any]:
        """The body of releases/dates (all releases)."""
        start = _date(params, "realtime_start", date(self.state.today.year, 1, 1))
        return self._dates(params, list(FRED_RELEASES), start, 1000, "desc", named=True)

    def release_dates(self, params: dict[str, str]) -> dict[str, Any]:
        """The body of release/dates (one release)."""
        raw = params.get("release_id")
        if not raw:
            raise BadRequest("Bad Request.  Variable release_id is not set.")
        if not raw.isdigit() or int(raw) not in FRED_RELEASES:
            raise BadRequest("Bad Request.  The release does not exist.")
        start = _date(params, "realtime_start", FAR_PAST)
        return self._dates(params, [int(raw)], start, 10000, "asc", named=False)

    def _dates(
        self,
        params: dict[str, str],
        release_ids: list[int],
        start: date,
        max_limit: int,
        default_sort: str,
        *,
        named: bool,
    ) -> dict[str, Any]:
        end = _date(params, "realtime_end", FAR_FUTURE)
        order_by = _choice(
            params, "order_by", "release_date", ("release_date", "release_id", "release_name")
        )
        sort_order = _choice(params, "sort_order", default_sort, ("asc", "desc"))
        no_data = _choice(params, "include_release_dates_with_no_data", "false", ("true", "false"))
        limit = _int(params, "limit", max_limit, 1, max_limit)
        offset = _int(params, "offset", 0, 0, 10**9)
        rows = [
            (day, rid, FRED_RELEASES[rid].name)
            for rid in release_ids
            for day in FRED_RELEASES[rid].dates
            if start <= day <= end and (no_data == "true" or day <= self.state.today)
        ]
        rows.sort(key=lambda r: r[2])
        column = {"release_date": 0, "release_id": 1, "release_name": 2}[order_by]
        rows.sort(key=lambda r: r[column], reverse=sort_order == "desc")
        dates = [
            {
                "release_id": rid,
                **({"release_name": name} if named else {}),
                "date": day.isoformat(),
            }
            for day, rid, name in rows[offset : offset + limit]
        ]
        return {
            "realtime_start": start.isoformat(),
            "realtime_end": end.isoformat(),
            "order_by": order_by,
            "sort_order": sort_order,
            "count": len(rows),
            "offset": offset,
            "limit": limit,
            "release_dates": dates,
        }
