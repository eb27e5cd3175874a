"""Async client of the OpenDART API (금융감독원 전자공시).

Calls are ``GET {base}/<name>.json?crtfc_key=...&...``; every JSON answer carries ``status``
(``000`` OK) and ``message``. ``corpCode.xml`` answers with a ZIP, or with an XML/JSON status body
when it fails. Status 013 ("no data") is an empty result, not an error.
"""

from __future__ import annotations

from functools import partial
from typing import Any, TypeVar
from xml.etree import ElementTree

from pydantic import BaseModel, ValidationError

from tools.econ.dart_models import (
    CorpCodeDirectory,
    DartAccount,
    DartCompany,
    DartFullAccount,
    FsDiv,
    ReportCode,
    parse_corp_code_zip,
)
from tools.econ.errors import (
    EconConfigurationError,
    EconError,
    EconRateLimitError,
    EconRequestError,
    EconResponseError,
    EconUnavailableError,
)
from tools.econ.http import ServiceClient

SERVICE = "OpenDART"
DART_BASE_URL = "https://opendart.fss.or.kr/api"
OK = "000"
NO_DATA = "013"

_M = TypeVar("_M", bound=BaseModel)

_ERROR_CLASSES: dict[str, type[EconError]] = {
    "010": EconConfigurationError,  # unregistered key
    "011": EconConfigurationError,  # key not usable (suspended)
    "012": EconConfigurationError,  # IP not allowed
    "101": EconConfigurationError,  # inappropriate access
    "901": EconConfigurationError,  # key expired (personal-data retention ended)
    "014": EconRequestError,  # file does not exist
    "021": EconRequestError,  # more than 100 companies in one request
    "100": EconRequestError,  # invalid field value
    "020": EconRateLimitError,  # request limit exceeded (about 20,000/day)
    "800": EconUnavailableError,  # system maintenance
    "900": EconResponseError,  # undefined error
}


def dart_error(status: str, message: str) -> EconError:
    """Return the error for an OpenDART status other than 000/013."""
    return _ERROR_CLASSES.get(status, EconResponseError)(SERVICE, status, message)


def read_dart_body(body: Any) -> dict[str, Any] | None:
    """Return a decoded OpenDART JSON answer, None for 013 (no data), or raise its error."""
    if not isinstance(body, dict) or "status" not in body:
        raise EconResponseError(SERVICE, "malformed", "the answer has no status")
    status = str(body["status"])
    if status == OK:
        return body
    if status == NO_DATA:
        return None
    raise dart_error(status, str(body.get("message", "")))


def read_status_xml(data: bytes) -> dict[str, Any]:
    """Read an XML status body (``<result><status/><message/></result>``) as a dict."""
    try:
        root = ElementTree.fromstring(data)
    except ElementTree.ParseError:
        raise EconResponseError(SERVICE, "malformed", "neither a ZIP nor a status body") from None
    return {child.tag: (child.text or "").strip() for child in root}


class DartClient(ServiceClient):
    """Reads company data and financial statements from OpenDART. An async context manager."""

    SERVICE = SERVICE
    DEFAULT_BASE_URL = DART_BASE_URL

    async def company(self, corp_code: str) -> DartCompany | None:
        """Return the overview of one company, or None when OpenDART has no such company."""
        body = await self._json("/company.json", {"corp_code": corp_code})
        return None if body is None else self._model(DartCompany, body)

    async def corp_codes(self) -> CorpCodeDirectory:
        """Download and unpack ``corpCode.xml``: every company with its corp_code."""
        return await self._http.call(self._fetch_corp_codes)

    async def single_accounts(
        self, corp_code: str, year: int, report: ReportCode = ReportCode.ANNUAL
    ) -> list[DartAccount]:
        """Return the key accounts (``fnlttSinglAcnt``) of one report; both CFS and OFS rows."""
        params = {"corp_code": corp_code, "bsns_year": str(year), "reprt_code": report.value}
        body = await self._json("/fnlttSinglAcnt.json", params)
        return [] if body is None else self._rows(DartAccount, body)

    async def full_accounts(
        self,
        corp_code: str,
        year: int,
        report: ReportCode = ReportCode.ANNUAL,
        fs_div: FsDiv = FsDiv.CONSOLIDATED,
    ) -> list[DartFullAccount]:
        """Return the full statements (``fnlttSinglAcntAll``) of one report and basis."""
        params = {
            "corp_code": corp_code,
            "bsns_year": str(year),
            "reprt_code": report.value,
            "fs_div": fs_div.value,
        }
        body = await self._json("/fnlttSinglAcntAll.json", params)
        return [] if body is None else self._rows(DartFullAccount, body)

    async def _json(self, path: str, params: dict[str, str]) -> dict[str, Any] | None:
        return await self._http.call(partial(self._fetch_json, path, params))

    async def _fetch_json(self, path: str, params: dict[str, str]) -> dict[str, Any] | None:
        response = await self._http.get(path, {"crtfc_key": self._http.key, **params})
        return read_dart_body(self._http.json(response))

    async def _fetch_corp_codes(self) -> CorpCodeDirectory:
        response = await self._http.get("/corpCode.xml", {"crtfc_key": self._http.key})
        data = response.content
        if data.startswith(b"PK"):
            try:
                return parse_corp_code_zip(data)
            except Exception as exc:  # zipfile, XML and validation errors alike
                detail = f"unreadable corpCode ZIP ({type(exc).__name__})"
                raise EconResponseError(SERVICE, "malformed", detail) from None
        body = (
            self._http.json(response) if data.lstrip().startswith(b"{") else read_status_xml(data)
        )
        if read_dart_body(body) is None:
            raise EconResponseError(SERVICE, NO_DATA, "corpCode.xml answered 'no data'")
        raise EconResponseError(SERVICE, "malformed", "corpCode.xml answered without a ZIP")

    def _rows(self, model: type[_M], body: dict[str, Any]) -> list[_M]:
        rows = body.get("list")
        if not isinstance(rows, list):
            raise EconResponseError(SERVICE, "malformed", "the answer has no list")
        return [self._model(model, row) for row in rows]

    def _model(self, model: type[_M], row: Any) -> _M:
        try:
            return model.model_validate(row)
        except ValidationError as exc:
            detail = f"unreadable {model.__name__}: {exc.error_count()} problem(s)"
            raise EconResponseError(SERVICE, "malformed", detail) from None
