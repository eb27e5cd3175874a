"""Every sample in ../shared/econ-samples is read by our parsers (shapes of the real services)."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tools.econ.dart import read_dart_body
from tools.econ.dart_models import (
    DartAccount,
    DartCompany,
    DartFullAccount,
    ReportCode,
    parse_corp_code_xml,
    parse_corp_code_zip,
)
from tools.econ.ecos import read_ecos_body
from tools.econ.ecos_models import EcosObservation, KeyStatistic
from tools.econ.errors import EconRequestError
from tools.econ.fred import read_fred_body
from tools.econ.fred_models import FredObservationPage, FredReleaseDatePage
from tools.econ.schedules import parse_bea_release_dates, parse_fmp_calendar

pytestmark = pytest.mark.shared


def _load(shared_dir: Path, name: str) -> Any:
    return json.loads((shared_dir / "econ-samples" / name).read_text(encoding="utf-8"))


def test_every_sample_file_has_a_test(shared_dir: Path) -> None:
    covered = {
        "README.md",
        "bea_release_dates.json",
        "ecos_KeyStatisticList.json",
        "ecos_StatisticSearch.json",
        "ecos_result_INFO-200.json",
        "fmp_economic_calendar.json",
        "fred_error.json",
        "fred_release_dates.json",
        "fred_releases_dates.json",
        "fred_series_observations.json",
        "opendart_company.json",
        "opendart_corpCode_CORPCODE.xml",
        "opendart_error_013.json",
        "opendart_fnlttSinglAcnt.json",
        "opendart_fnlttSinglAcntAll.json",
    }
    present = {p.name for p in (shared_dir / "econ-samples").iterdir()}
    assert present <= covered, f"samples without a parser test: {sorted(present - covered)}"


def test_ecos_statistic_search(shared_dir: Path) -> None:
    total, rows = read_ecos_body("StatisticSearch", _load(shared_dir, "ecos_StatisticSearch.json"))
    assert total == 1
    obs = EcosObservation.model_validate(rows[0])
    assert obs.stat_code == "722Y001"
    assert obs.item_code1 == "0101000"
    assert obs.item_code2 is None
    assert obs.value == Decimal("3.25")
    assert obs.time == "20230101"
    assert (obs.period_start, obs.period_end) == (date(2023, 1, 1), date(2023, 1, 1))


def test_ecos_key_statistic_list(shared_dir: Path) -> None:
    total, rows = read_ecos_body(
        "KeyStatisticList", _load(shared_dir, "ecos_KeyStatisticList.json")
    )
    stat = KeyStatistic.model_validate(rows[0])
    assert (total, stat.name, stat.value, stat.unit_name) == (
        1,
        "한국은행 기준금리",
        Decimal("2.5"),
        "%",
    )
    assert stat.reference_period == (date(2026, 5, 28), date(2026, 5, 28))


def test_ecos_info_200_is_empty_both_top_level_and_nested(shared_dir: Path) -> None:
    body = _load(shared_dir, "ecos_result_INFO-200.json")
    assert read_ecos_body("StatisticSearch", body) == (0, [])
    assert read_ecos_body("StatisticSearch", {"StatisticSearch": body}) == (0, [])


def test_fred_series_observations(shared_dir: Path) -> None:
    page = read_fred_body(_load(shared_dir, "fred_series_observations.json"), FredObservationPage)
    assert page.count == 84
    assert [o.date for o in page.observations][:2] == [date(1929, 1, 1), date(1930, 1, 1)]
    assert page.observations[1].value == Decimal("975.5")


def test_fred_missing_value_dot() -> None:
    page = FredObservationPage.model_validate(
        {
            "realtime_start": "2024-01-01",
            "realtime_end": "2024-01-01",
            "observation_start": "1776-07-04",
            "observation_end": "9999-12-31",
            "units": "lin",
            "output_type": 1,
            "file_type": "json",
            "order_by": "observation_date",
            "sort_order": "asc",
            "count": 1,
            "offset": 0,
            "limit": 1,
            "observations": [
                {
                    "realtime_start": "2024-01-01",
                    "realtime_end": "2024-01-01",
                    "date": "2023-12-25",
                    "value": ".",
                }
            ],
        }
    )
    assert page.observations[0].value is None


def test_fred_releases_dates_and_release_dates(shared_dir: Path) -> None:
    many = read_fred_body(_load(shared_dir, "fred_releases_dates.json"), FredReleaseDatePage)
    assert many.count == 1129
    assert (
        many.release_dates[0].release_name == "Advance Monthly Sales for Retail and Food Services"
    )
    assert many.release_dates[0].date == date(2013, 8, 13)
    one = read_fred_body(_load(shared_dir, "fred_release_dates.json"), FredReleaseDatePage)
    assert [d.date.year for d in one.release_dates] == [1997, 1998, 2013]
    assert one.release_dates[0].release_name is None


def test_fred_error_sample_is_a_request_error(shared_dir: Path) -> None:
    with pytest.raises(EconRequestError) as info:
        read_fred_body(_load(shared_dir, "fred_error.json"), FredObservationPage)
    assert info.value.code == "400"
    assert "Bad Request" in str(info.value)


def test_opendart_company(shared_dir: Path) -> None:
    body = read_dart_body(_load(shared_dir, "opendart_company.json"))
    company = DartCompany.model_validate(body)
    assert (company.corp_code, company.stock_code, company.corp_cls) == ("00126380", "005930", "Y")
    assert company.acc_mt == "12"


def test_opendart_error_013_is_no_data(shared_dir: Path) -> None:
    assert read_dart_body(_load(shared_dir, "opendart_error_013.json")) is None


def test_opendart_corp_code_xml_and_zip(shared_dir: Path) -> None:
    xml = (shared_dir / "econ-samples" / "opendart_corpCode_CORPCODE.xml").read_bytes()
    directory = parse_corp_code_xml(xml)
    assert [e.corp_code for e in directory.entries] == ["00434003", "00434456"]
    assert all(e.stock_code is None for e in directory.entries)
    assert directory.entries[0].modify_date == date(2017, 6, 30)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("CORPCODE.xml", xml)
    assert parse_corp_code_zip(buffer.getvalue()) == directory


def test_opendart_single_account_amounts_with_separators(shared_dir: Path) -> None:
    body = read_dart_body(_load(shared_dir, "opendart_fnlttSinglAcnt.json"))
    assert body is not None
    row = DartAccount.model_validate(body["list"][0])
    assert row.thstrm_amount == 106_479_426_061
    assert row.bfefrmtrm_amount == 95_924_754_923
    assert row.reprt_code is ReportCode.ANNUAL
    assert row.receipt_date == date(2019, 8, 20)


def test_opendart_full_account(shared_dir: Path) -> None:
    body = read_dart_body(_load(shared_dir, "opendart_fnlttSinglAcntAll.json"))
    assert body is not None
    row = DartFullAccount.model_validate(body["list"][0])
    assert row.account_id == "dart_OperatingIncomeLoss"
    assert row.thstrm_amount == row.thstrm_add_amount == 116_778_642_598
    assert row.frmtrm_q_amount == 128_800_886_734
    assert row.reprt_code is ReportCode.Q1


def test_bea_release_dates(shared_dir: Path) -> None:
    releases = parse_bea_release_dates(_load(shared_dir, "bea_release_dates.json"))
    assert [(r.name, r.at.isoformat()) for r in releases] == [
        ("Gross Domestic Product", "2026-08-26T12:30:00+00:00"),
        ("Personal Income and Outlays", "2026-09-30T12:30:00+00:00"),
    ]


def test_fmp_economic_calendar(shared_dir: Path) -> None:
    events = parse_fmp_calendar(_load(shared_dir, "fmp_economic_calendar.json"))
    assert events[0].event == "CPI YoY"
    assert events[0].actual == Decimal("2.8")
