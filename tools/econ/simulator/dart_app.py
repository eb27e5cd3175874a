"""The simulated OpenDART: company.json, corpCode.xml (a real ZIP), fnlttSinglAcnt(All).json.

Answers carry ``status``/``message`` with HTTP 200 as OpenDART does; corpCode.xml fails with an
XML status body. Only annual reports (11011) of the consolidated statements are in the dataset;
other reports and OFS answer 013 "no data", and reports not yet filed on `today` do not exist.
"""

from __future__ import annotations

import io
import zipfile
from typing import Any
from xml.sax.saxutils import escape

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tools.econ.simulator.companies import ACCOUNTS, COMPANIES, Annual, Company
from tools.econ.simulator.state import Service, SimulatorState

MESSAGES = {
    "000": "정상",
    "010": "등록되지 않은 키입니다.",
    "011": "사용할 수 없는 키입니다. 오픈API에 등록되었으나, 일시적으로 사용 중지된 키입니다.",
    "012": "접근할 수 없는 IP입니다.",
    "013": "조회된 데이타가 없습니다.",
    "020": "요청 제한을 초과하였습니다.",
    "100": "필드의 부적절한 값입니다.",
    "800": "시스템 점검으로 인한 서비스가 중지 중입니다.",
    "901": "사용자 계정의 개인정보 보유기간이 만료되어 사용할 수 없는 키입니다.",
}
REPORT_CODES = ("11011", "11012", "11013", "11014")


class Refusal(Exception):
    """A request OpenDART answers with a non-000 status."""

    def __init__(self, status: str) -> None:
        super().__init__(status)
        self.status = status


def status_json(status: str) -> JSONResponse:
    """An OpenDART status body."""
    return JSONResponse({"status": status, "message": MESSAGES[status]})


def status_xml(status: str) -> Response:
    """The XML status body corpCode.xml answers with when it cannot send the ZIP."""
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<result>\n'
        f"    <status>{status}</status>\n    <message>{escape(MESSAGES[status])}</message>\n"
        "</result>\n"
    )
    return Response(body, media_type="application/xml")


def corpcode_xml(companies: list[Company]) -> bytes:
    """CORPCODE.xml in OpenDART's layout (unlisted companies have stock_code = one space)."""
    items = "".join(
        "    <list>\n"
        f"        <corp_code>{c.corp_code}</corp_code>\n"
        f"        <corp_name>{escape(c.corp_name)}</corp_name>\n"
        f"        <corp_eng_name>{escape(c.corp_name_eng)}</corp_eng_name>\n"
        f"        <stock_code>{c.stock_code or ' '}</stock_code>\n"
        f"        <modify_date>{c.modify_date}</modify_date>\n"
        "    </list>\n"
        for c in companies
    )
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<result>\n{items}</result>\n'.encode()


def _rcept_no(company: Company, year: int, annual: Annual) -> str:
    return f"{annual.filed_on:%Y%m%d}{int(company.corp_code) % 1000:03d}{year % 1000:03d}"


class DartSimulator:
    """The request handler of the simulated OpenDART, over a shared `SimulatorState`."""

    def __init__(self, state: SimulatorState) -> None:
        """Serve the dataset as of `state.today`."""
        self.state = state

    def app(self) -> Starlette:
        """The ASGI app; mount it where OpenDART's ``/api`` would be."""
        routes = [
            Route("/company.json", self._json(self.company)),
            Route("/fnlttSinglAcnt.json", self._json(self.single_accounts)),
            Route("/fnlttSinglAcntAll.json", self._json(self.full_accounts)),
            Route("/corpCode.xml", self.corp_code),
        ]
        return Starlette(routes=routes)

    def _admit(self, request: Request) -> str | None:
        """Return the refusal status of a request before its own parameters, or None."""
        if self.state.outage(Service.DART):
            return "800"
        key = request.query_params.get("crtfc_key", "")
        if key != self.state.keys.dart:
            return self.state.keys.dart_key_status.get(key, "010")
        if self.state.rate_limited(Service.DART):
            return "020"
        return None

    def _json(self, body: Any) -> Any:
        async def handle(request: Request) -> JSONResponse:
            refusal = self._admit(request)
            if refusal is not None:
                return status_json(refusal)
            try:
                return JSONResponse({"status": "000", "message": MESSAGES["000"], **body(request)})
            except Refusal as exc:
                return status_json(exc.status)

        return handle

    async def corp_code(self, request: Request) -> Response:
        """corpCode.xml: a ZIP holding CORPCODE.xml."""
        refusal = self._admit(request)
        if refusal is not None:
            return status_xml(refusal)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("CORPCODE.xml", corpcode_xml(list(COMPANIES.values())))
        headers = {"Content-Disposition": "attachment; filename=CORPCODE.zip"}
        return Response(buffer.getvalue(), media_type="application/zip", headers=headers)

    def _company(self, params: dict[str, str]) -> Company:
        code = params.get("corp_code", "")
        if len(code) != 8 or not code.isdigit():
            raise Refusal("100")
        company = COMPANIES.get(code)
        if company is None:
            raise Refusal("013")
        return company

    def company(self, request: Request) -> dict[str, Any]:
        """company.json fields."""
        return self._company(dict(request.query_params)).overview()

    def _report(self, params: dict[str, str]) -> tuple[Company, int, dict[int, Annual]]:
        company = self._company(params)
        year, report = params.get("bsns_year", ""), params.get("reprt_code", "")
        if len(year) != 4 or not year.isdigit() or report not in REPORT_CODES:
            raise Refusal("100")
        filed = {y: a for y, a in company.annuals.items() if a.filed_on <= self.state.today}
        if report != "11011" or int(year) not in filed:
            raise Refusal("013")
        return company, int(year), filed

    def single_accounts(self, request: Request) -> dict[str, Any]:
        """fnlttSinglAcnt: key accounts, amounts with thousands separators."""
        company, year, annuals = self._report(dict(request.query_params))
        rows = []
        for spec in ACCOUNTS:
            terms = []
            for back in range(3):
                annual = annuals.get(year - back)
                amount = "" if annual is None else f"{getattr(annual, spec.attribute):,}"
                terms.append((f"제 {company.term_number(year - back)} 기", amount, year - back))
            row: dict[str, Any] = {
                "rcept_no": _rcept_no(company, year, annuals[year]),
                "reprt_code": "11011",
                "bsns_year": str(year),
                "corp_code": company.corp_code,
                "stock_code": company.stock_code or "",
                "fs_div": "CFS",
                "fs_nm": "연결재무제표",
                "sj_div": spec.sj_div,
                "sj_nm": spec.sj_nm,
                "account_nm": spec.account_nm,
            }
            for prefix, (name, amount, y) in zip(
                ("thstrm", "frmtrm", "bfefrmtrm"), terms, strict=True
            ):
                period = f"{y}.12.31 현재" if spec.sj_div == "BS" else f"{y}.01.01 ~ {y}.12.31"
                row |= {f"{prefix}_nm": name, f"{prefix}_dt": period, f"{prefix}_amount": amount}
            rows.append(row | {"ord": str(spec.ord), "currency": "KRW"})
        return {"list": rows}

    def full_accounts(self, request: Request) -> dict[str, Any]:
        """fnlttSinglAcntAll: the statements (here the six key lines), plain amounts."""
        params = dict(request.query_params)
        if params.get("fs_div") not in ("CFS", "OFS"):
            raise Refusal("100")
        company, year, annuals = self._report(params)
        if params["fs_div"] == "OFS":
            raise Refusal("013")
        rows = []
        for spec in ACCOUNTS:
            row: dict[str, Any] = {
                "rcept_no": _rcept_no(company, year, annuals[year]),
                "reprt_code": "11011",
                "bsns_year": str(year),
                "corp_code": company.corp_code,
                "sj_div": spec.sj_div,
                "sj_nm": spec.sj_nm,
                "account_id": spec.account_id,
                "account_nm": spec.account_nm,
                "account_detail": "-",
            }
            for back, prefix in enumerate(("thstrm", "frmtrm", "bfefrmtrm")):
                annual = annuals.get(year - back)
                row[f"{prefix}_nm"] = f"제 {company.term_number(year - back)} 기"
                row[f"{prefix}_amount"] = (
                    "" if annual is None else str(getattr(annual, spec.attribute))
                )
            rows.append(row | {"ord": str(spec.ord), "currency": "KRW"})
        return {"list": rows}
