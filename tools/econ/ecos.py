"""Async client of the Bank of Korea ECOS Open API (한국은행 경제통계시스템).

ECOS is path-addressed and puts the key in the path:
``/{Service}/{KEY}/json/{kr|en}/{first row}/{last row}/{STAT_CODE}/{CYCLE}/{START}/{END}/{ITEM..}``.
Errors come with HTTP 200 as ``{"RESULT": {"CODE", "MESSAGE"}}`` (sometimes nested under the
service name). INFO-200 ("no data") is an empty result, not an error.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from functools import partial
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
from pydantic import SecretStr, ValidationError

from tools.econ.ecos_models import EcosCycle, EcosObservation, KeyStatistic, format_period
from tools.econ.errors import (
    EconConfigurationError,
    EconError,
    EconRateLimitError,
    EconRequestError,
    EconResponseError,
    EconUnavailableError,
)
from tools.econ.http import RetryPolicy, ServiceClient

SERVICE = "ECOS"
ECOS_BASE_URL = "https://ecos.bok.or.kr/api"
NO_DATA = "INFO-200"

_Row = TypeVar("_Row", EcosObservation, KeyStatistic)

_ERROR_CLASSES: dict[str, type[EconError]] = {
    "INFO-100": EconConfigurationError,  # the key is not valid
    "ERROR-100": EconRequestError,  # a required value is missing
    "ERROR-101": EconRequestError,  # date format does not match the cycle
    "ERROR-200": EconRequestError,  # file type missing or invalid
    "ERROR-300": EconRequestError,  # row count missing
    "ERROR-301": EconRequestError,  # row count not an integer
    "ERROR-400": EconRequestError,  # search range too large (60 s timeout): narrow it
    "ERROR-500": EconUnavailableError,  # server error
    "ERROR-600": EconUnavailableError,  # database connection error
    "ERROR-601": EconUnavailableError,  # SQL error
    "ERROR-602": EconRateLimitError,  # too many calls: use is restricted for a while
}


def ecos_error(code: str, message: str) -> EconError:
    """Return the error for an ECOS RESULT code (unknown codes are `EconResponseError`)."""
    return _ERROR_CLASSES.get(code, EconResponseError)(SERVICE, code, message)


def read_ecos_body(service: str, body: Any) -> tuple[int, list[dict[str, Any]]]:
    """Return ``(list_total_count, rows)`` of a decoded ECOS JSON answer for `service`.

    Raises:
        EconError: the body is a RESULT other than INFO-200, or has an unknown shape.
    """
    if not isinstance(body, dict):
        raise EconResponseError(SERVICE, "malformed", "the answer is not a JSON object")
    result = body.get("RESULT")
    payload = body.get(service)
    if result is None and isinstance(payload, dict):
        result = payload.get("RESULT")
    if isinstance(result, dict):
        code = str(result.get("CODE", ""))
        if code == NO_DATA:
            return 0, []
        raise ecos_error(code, str(result.get("MESSAGE", "")))
    if not isinstance(payload, dict) or not isinstance(payload.get("row", []), list):
        raise EconResponseError(SERVICE, "malformed", f"no {service} list in the answer")
    try:
        total = int(payload.get("list_total_count", 0))
    except (TypeError, ValueError):
        raise EconResponseError(SERVICE, "malformed", "list_total_count is not a number") from None
    return total, list(payload.get("row", []))


class EcosClient(ServiceClient):
    """Reads statistics from ECOS. Use as an async context manager, or call `aclose()`."""

    SERVICE = SERVICE
    DEFAULT_BASE_URL = ECOS_BASE_URL
    DEFAULT_TIMEOUT_S = 20.0
    """ECOS itself gives up after 60 s."""

    def __init__(
        self,
        api_key: SecretStr,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        base_url: str | None = None,
        language: str = "kr",
        timeout_s: float | None = None,
        retry: RetryPolicy | None = None,
        page_size: int = 1000,
    ) -> None:
        """Build the client; `language` is ``kr`` or ``en``, `page_size` rows per request."""
        super().__init__(
            api_key, transport=transport, base_url=base_url, timeout_s=timeout_s, retry=retry
        )
        self._language = language
        self._page_size = page_size

    async def statistic_search(
        self,
        stat_code: str,
        cycle: EcosCycle,
        start: date | str,
        end: date | str,
        item_codes: Sequence[str] = (),
    ) -> list[EcosObservation]:
        """Return the values of one table for the periods from `start` to `end` (inclusive).

        Args:
            stat_code: the table (통계표코드), e.g. ``722Y001``.
            cycle: the cycle to read.
            start: first period, a date (its period is used) or ECOS text (``2023Q1``).
            end: last period, likewise.
            item_codes: up to four item codes (통계항목코드); unused trailing items are omitted.

        Returns:
            The rows in ECOS's order (oldest first); empty when ECOS has no data (INFO-200).
        """
        if len(item_codes) > 4:
            raise ValueError("ECOS takes at most four item codes")
        first = start if isinstance(start, str) else format_period(cycle, start)
        last = end if isinstance(end, str) else format_period(cycle, end)
        tail = [stat_code, cycle.value, first, last, *item_codes]
        rows = await self._paged("StatisticSearch", tail)
        return [self._model(EcosObservation, row) for row in rows]

    async def key_statistics(self) -> list[KeyStatistic]:
        """Return the 100 headline indicators (KeyStatisticList) with their reference periods."""
        rows = await self._paged("KeyStatisticList", [])
        return [self._model(KeyStatistic, row) for row in rows]

    async def _paged(self, service: str, tail: list[str]) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        first = 1
        while True:
            last = first + self._page_size - 1
            total, page = await self._http.call(partial(self._fetch, service, first, last, tail))
            rows.extend(page)
            first += self._page_size
            # A short page is the last one, whatever list_total_count claims.
            if len(page) < self._page_size or len(rows) >= total:
                return rows

    async def _fetch(
        self, service: str, first: int, last: int, tail: list[str]
    ) -> tuple[int, list[dict[str, Any]]]:
        segments = [service, self._http.key, "json", self._language, str(first), str(last), *tail]
        path = "/" + "/".join(quote(s, safe="") for s in segments)
        response = await self._http.get(path)
        return read_ecos_body(service, self._http.json(response))

    def _model(self, model: type[_Row], row: dict[str, Any]) -> _Row:
        try:
            return model.model_validate(row)
        except ValidationError as exc:
            detail = f"unreadable {model.__name__} row: {exc.error_count()} problem(s)"
            raise EconResponseError(SERVICE, "malformed", detail) from None
