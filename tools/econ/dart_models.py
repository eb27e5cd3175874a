"""Typed answers of the OpenDART API (company, corpCode.xml, single-company financial statements).

OpenDART identifies companies by an 8-digit `corp_code`, not by the 6-digit KRX ticker; the
ticker -> corp_code map comes from ``corpCode.xml`` (a ZIP holding ``CORPCODE.xml``). Amounts are
whole KRW written as strings, with thousands separators in ``fnlttSinglAcnt`` and without in
``fnlttSinglAcntAll``; we turn them into `int`. The first 8 digits of `rcept_no` are the filing
date, which is what a backtest must compare with its as-of date.
"""

from __future__ import annotations

import io
import zipfile
from datetime import date
from enum import StrEnum
from functools import cached_property
from xml.etree import ElementTree

from pydantic import BaseModel, ConfigDict, Field, field_validator

from tools.econ.wire_values import parse_krw_amount, parse_yyyymmdd

CORPCODE_MEMBER = "CORPCODE.xml"


class ReportCode(StrEnum):
    """`reprt_code` of periodic reports."""

    Q1 = "11013"
    HALF_YEAR = "11012"
    Q3 = "11014"
    ANNUAL = "11011"


class FsDiv(StrEnum):
    """Consolidated (연결) or separate (별도) statements."""

    CONSOLIDATED = "CFS"
    SEPARATE = "OFS"


class _DartModel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class DartCompany(_DartModel):
    """``company.json``: the company overview (기업개황)."""

    corp_code: str
    corp_name: str
    corp_name_eng: str | None = None
    stock_name: str | None = None
    stock_code: str | None = None
    ceo_nm: str | None = None
    corp_cls: str
    """Y KOSPI, K KOSDAQ, N KONEX, E other."""
    jurir_no: str | None = None
    bizr_no: str | None = None
    adres: str | None = None
    hm_url: str | None = None
    ir_url: str | None = None
    phn_no: str | None = None
    fax_no: str | None = None
    induty_code: str | None = None
    est_dt: str | None = None
    acc_mt: str | None = None
    """Fiscal year-end month, e.g. ``12``."""

    @field_validator("stock_code", mode="before")
    @classmethod
    def _blank_is_none(cls, raw: object) -> object:
        return None if isinstance(raw, str) and not raw.strip() else raw


class CorpCodeEntry(_DartModel):
    """One company of ``CORPCODE.xml``; `stock_code` is None for unlisted companies."""

    corp_code: str
    corp_name: str
    corp_eng_name: str | None = None
    stock_code: str | None = None
    modify_date: date

    @field_validator("stock_code", "corp_eng_name", mode="before")
    @classmethod
    def _blank_is_none(cls, raw: object) -> object:
        return None if isinstance(raw, str) and not raw.strip() else raw

    @field_validator("modify_date", mode="before")
    @classmethod
    def _yyyymmdd(cls, raw: object) -> object:
        return parse_yyyymmdd(raw) if isinstance(raw, str) else raw


class CorpCodeDirectory(_DartModel):
    """All companies of ``CORPCODE.xml``, with the ticker -> corp_code lookup."""

    entries: list[CorpCodeEntry]

    def ticker_map(self) -> dict[str, str]:
        """Return {6-digit ticker: 8-digit corp_code} for listed companies (a copy)."""
        return dict(self._by_ticker)

    def corp_code_for(self, ticker: str) -> str | None:
        """Return the corp_code of a listed ticker, or None when it is not in the file."""
        return self._by_ticker.get(ticker)

    @cached_property
    def _by_ticker(self) -> dict[str, str]:
        # Built once: the real file lists about 100,000 companies, and a `--universe` collection
        # looks up every listed ticker in it.
        return {e.stock_code: e.corp_code for e in self.entries if e.stock_code}


def parse_corp_code_xml(xml: bytes) -> CorpCodeDirectory:
    """Parse the ``CORPCODE.xml`` document."""
    root = ElementTree.fromstring(xml)
    entries = [
        CorpCodeEntry.model_validate({child.tag: child.text or "" for child in item})
        for item in root.iter("list")
    ]
    return CorpCodeDirectory(entries=entries)


def parse_corp_code_zip(data: bytes) -> CorpCodeDirectory:
    """Parse the ZIP that ``corpCode.xml`` answers with."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.namelist()
        member = CORPCODE_MEMBER if CORPCODE_MEMBER in names else names[0]
        return parse_corp_code_xml(archive.read(member))


class _Statement(_DartModel):
    rcept_no: str
    """접수번호; its first 8 digits are the filing date."""
    reprt_code: ReportCode
    bsns_year: int
    corp_code: str
    sj_div: str
    """BS balance sheet, IS income statement (CIS, CF, SCE in the full statements)."""
    sj_nm: str
    account_nm: str
    thstrm_nm: str | None = None
    thstrm_amount: int | None = None
    thstrm_add_amount: int | None = None
    frmtrm_nm: str | None = None
    frmtrm_amount: int | None = None
    frmtrm_add_amount: int | None = None
    bfefrmtrm_nm: str | None = None
    bfefrmtrm_amount: int | None = None
    ord: int | None = None
    currency: str = "KRW"

    @field_validator(
        "thstrm_amount",
        "thstrm_add_amount",
        "frmtrm_amount",
        "frmtrm_add_amount",
        "bfefrmtrm_amount",
        "frmtrm_q_amount",
        mode="before",
        check_fields=False,
    )
    @classmethod
    def _amount(cls, raw: object) -> int | None:
        return parse_krw_amount(raw)

    @field_validator("rcept_no")
    @classmethod
    def _dated(cls, raw: str) -> str:
        parse_yyyymmdd(raw[:8])  # ValueError: receipt_date must be readable
        return raw

    @property
    def receipt_date(self) -> date:
        """The filing date (from `rcept_no`)."""
        return parse_yyyymmdd(self.rcept_no[:8])


class DartAccount(_Statement):
    """A ``fnlttSinglAcnt`` row: a key account (자산총계, 매출액, ...) of CFS or OFS statements."""

    stock_code: str | None = None
    fs_div: FsDiv
    fs_nm: str | None = None
    thstrm_dt: str | None = None
    frmtrm_dt: str | None = None
    bfefrmtrm_dt: str | None = None


class DartFullAccount(_Statement):
    """A ``fnlttSinglAcntAll`` row: one line of the full XBRL statements."""

    account_id: str = Field(description="e.g. ifrs-full_Revenue, dart_OperatingIncomeLoss")
    account_detail: str | None = None
    frmtrm_q_nm: str | None = None
    frmtrm_q_amount: int | None = None
