"""The simulated ECOS: ``/{Service}/{KEY}/json/{lang}/{first}/{last}/...`` like the real one.

Serves StatisticSearch and KeyStatisticList from `macro_data`, answers errors with HTTP 200 and
``{"RESULT": {"CODE", "MESSAGE"}}`` as ECOS does, and INFO-200 when nothing matches. Only the
JSON file type is simulated.
"""

from __future__ import annotations

import re
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tools.econ.ecos_models import period_bounds
from tools.econ.simulator.macro_data import ECOS_SERIES, Point, Series
from tools.econ.simulator.state import Service, SimulatorState

MESSAGES = {
    "INFO-100": "인증키가 유효하지 않습니다. 인증키를 확인하십시오!",
    "INFO-200": "해당하는 데이터가 없습니다.",
    "ERROR-100": "필수 값이 누락되어 있습니다. 필수 값을 확인하십시오!",
    "ERROR-101": "주기와 다른 형식의 날짜 형식입니다.",
    "ERROR-200": "파일타입 값이 누락 혹은 유효하지 않습니다. 파일타입 값을 확인하십시오!",
    "ERROR-301": "조회건수 값의 타입이 유효하지 않습니다. 조회건수 값을 확인하십시오!",
    "ERROR-500": "서버 오류입니다. 해당 서비스를 찾을 수 없습니다.",
    "ERROR-600": "DB Connection 오류입니다.",
    "ERROR-602": "과도한 OpenAPI호출로 이용이 제한되었습니다. 잠시후 이용해주시기 바랍니다.",
}
"""The leading sentences of ECOS's messages for the codes the simulator emits."""

PERIOD_FORMATS = {
    "A": re.compile(r"^\d{4}$"),
    "S": re.compile(r"^\d{4}S[12]$"),
    "Q": re.compile(r"^\d{4}Q[1-4]$"),
    "M": re.compile(r"^\d{4}(0[1-9]|1[0-2])$"),
    "SM": re.compile(r"^\d{4}(0[1-9]|1[0-2])S[12]$"),
    "D": re.compile(r"^\d{8}$"),
}


def result(code: str) -> JSONResponse:
    """An ECOS RESULT body (HTTP 200, as ECOS answers)."""
    return JSONResponse({"RESULT": {"CODE": code, "MESSAGE": MESSAGES[code]}})


def _time(series: Series, point: Point) -> str:
    if series.cycle == "D":
        return point.start.strftime("%Y%m%d")
    if series.cycle == "M":
        return point.start.strftime("%Y%m")
    raise ValueError(f"cycle {series.cycle} is not in the dataset")


def _value(point: Point) -> str:
    return "" if point.value is None else f"{point.value:,}"


def _row(series: Series, item_code: str, point: Point) -> dict[str, Any]:
    return {
        "STAT_CODE": series.key,
        "STAT_NAME": series.name,
        "ITEM_CODE1": item_code,
        "ITEM_NAME1": series.item_name,
        "ITEM_CODE2": None,
        "ITEM_NAME2": None,
        "ITEM_CODE3": None,
        "ITEM_NAME3": None,
        "ITEM_CODE4": None,
        "ITEM_NAME4": None,
        "UNIT_NAME": series.unit,
        "WGT": None,
        "TIME": _time(series, point),
        "DATA_VALUE": _value(point),
    }


class EcosSimulator:
    """The request handler of the simulated ECOS, over a shared `SimulatorState`."""

    def __init__(self, state: SimulatorState) -> None:
        """Serve the dataset as of `state.today`."""
        self.state = state

    def app(self) -> Starlette:
        """The ASGI app; mount it where ECOS's ``/api`` would be."""
        return Starlette(routes=[Route("/{path:path}", self.handle, methods=["GET"])])

    async def handle(self, request: Request) -> JSONResponse:
        """Answer one ECOS request."""
        parts = [p for p in request.path_params["path"].split("/") if p]
        if self.state.outage(Service.ECOS):
            return result("ERROR-600")
        if len(parts) < 6:
            return result("ERROR-100")
        service, key, file_type, _lang, first, last, *tail = parts
        if key != self.state.keys.ecos:
            return result("INFO-100")
        if self.state.rate_limited(Service.ECOS):
            return result("ERROR-602")
        if file_type != "json":
            return result("ERROR-200")
        if not (first.isdigit() and last.isdigit()) or not 1 <= int(first) <= int(last):
            return result("ERROR-301")
        if service == "StatisticSearch":
            rows = self._search(tail)
        elif service == "KeyStatisticList":
            rows = self._key_statistics()
        else:
            return result("ERROR-500")
        if isinstance(rows, JSONResponse):
            return rows
        if not rows:
            return result("INFO-200")
        page = rows[int(first) - 1 : int(last)]
        return JSONResponse({service: {"list_total_count": len(rows), "row": page}})

    def _search(self, tail: list[str]) -> list[dict[str, Any]] | JSONResponse:
        if len(tail) < 4:
            return result("ERROR-100")
        stat_code, cycle, start, end, *items = tail
        pattern = PERIOD_FORMATS.get(cycle)
        if pattern is None:
            return result("ERROR-100")
        if not (pattern.match(start) and pattern.match(end)):
            return result("ERROR-101")
        wanted = [i for i in items if i != "?"]
        lo, hi = period_bounds(start)[0], period_bounds(end)[1]
        rows: list[dict[str, Any]] = []
        for (code, series_cycle, item), series in ECOS_SERIES.items():
            if code != stat_code or series_cycle != cycle or (wanted and wanted[0] != item):
                continue
            rows.extend(
                _row(series, item, p)
                for p in series.points
                if lo <= p.start and p.end <= hi and p.available_on <= self.state.today
            )
        return rows

    def _latest(self, key: tuple[str, str, str]) -> tuple[Series, Point] | None:
        series = ECOS_SERIES[key]
        public = [p for p in series.points if p.available_on <= self.state.today and p.value]
        return (series, public[-1]) if public else None

    def _key_statistics(self) -> list[dict[str, Any]]:
        wanted = [
            ("시장금리", "한국은행 기준금리", ("722Y001", "D", "0101000"), "%"),
            ("환율", "원/달러 환율(종가)", ("731Y001", "D", "0000001"), "원"),
            ("물가", "소비자물가지수", ("901Y009", "M", "0"), "2020=100"),
        ]
        rows = []
        for class_name, name, key, unit in wanted:
            latest = self._latest(key)
            if latest is not None:
                series, point = latest
                rows.append(
                    {
                        "CLASS_NAME": class_name,
                        "KEYSTAT_NAME": name,
                        "DATA_VALUE": _value(point),
                        "CYCLE": _time(series, point),
                        "UNIT_NAME": unit,
                    }
                )
        return rows
