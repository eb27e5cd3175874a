"""Recorded economic data: file errors, point-in-time visibility, parity with the live source."""

from __future__ import annotations

import csv
from collections.abc import AsyncIterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from core.errors import ConfigurationError
from evals.backtest.econ_csv import FILING_COLUMNS, EconFileError, read_filings, read_macro
from evals.backtest.fundamentals import NO_MACRO, NO_RELEASE_CALENDAR, RecordedEcon
from tests.tools.econ.conftest import Clients, make_clients
from tools.econ.ecos_models import EcosCycle
from tools.econ.simulator import EconSimulator
from tools.econ.simulator.companies import NAVER, SAMSUNG, SK_HYNIX
from tools.econ.snapshot import EconSnapshots, fundamentals_snapshot, macro_snapshot
from tools.econ.snapshot_models import BASE_RATE, KR_CPI, KRW_USD, MacroSnapshot
from tools.econ.source import EconSource

HEADER = ",".join(FILING_COLUMNS)
SAMSUNG_FY2020 = "005930,2021-03-09,2020,240,36,60,380,100,280"


def _write(tmp_path: Path, name: str, *lines: str) -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# --- file errors --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lines", "where", "reason"),
    [
        ((HEADER, "005930,2021-03-32,2020,1,1,1,1,1,1"), "line 2, column published_on", "date"),
        ((HEADER, "005930,1615248000,2020,1,1,1,1,1,1"), "line 2, column published_on", "date"),
        ((HEADER, "005930,2021-03-09,FY20,1,1,1,1,1,1"), "line 2, column fiscal_year", "integer"),
        ((HEADER, "005930,2021-03-09,2020,1.5,1,1,1,1,1"), "line 2, column revenue", "whole KRW"),
        ((HEADER, "005930,2021-03-09,2020,1,x,1,1,1,1"), "column operating_income", "number"),
        ((HEADER, "5930,2021-03-09,2020,1,1,1,1,1,1"), "line 2, column ticker", "6-character"),
        (("# a comment", HEADER, "", SAMSUNG_FY2020, "005930,2021-03-09"), "line 5", "2 cells"),
        (
            (HEADER + ",fs_div", "005930,2021-03-09,2020,1,1,1,1,1,1,XFS"),
            "line 2, column fs_div",
            "CFS",
        ),
        ((HEADER, SAMSUNG_FY2020, SAMSUNG_FY2020), "line 3, column published_on", "second"),
        (("ticker,published_on,fiscal_year,revenue",), "line 1", "missing columns"),
        ((HEADER + ",ticker",), "line 1", "given twice"),
        (("# only a comment",), "", "empty file"),
        ((HEADER, "005930,2021W102,2020,1,1,1,1,1,1"), "line 2, column published_on", "date"),
        ((HEADER, "005930,2021-03-09,2020,Infinity,1,1,1,1,1"), "column revenue", "amount"),
        ((HEADER, "005930,2021-03-09,2021,1,1,1,1,1,1"), "column fiscal_year", "year ended"),
        ((HEADER + ",fsdiv",), "line 1", "unknown column fsdiv"),
    ],
)
def test_a_bad_filings_file_names_file_line_and_column(
    tmp_path: Path, lines: tuple[str, ...], where: str, reason: str
) -> None:
    path = _write(tmp_path, "filings.csv", *lines)
    with pytest.raises(EconFileError) as caught:
        read_filings(path)
    message = str(caught.value)
    assert isinstance(caught.value, ConfigurationError)
    assert str(path) in message and where in message and reason in message, message


@pytest.mark.parametrize(
    ("line", "where", "reason"),
    [
        ("gdp,2021Q1,1.0,,", "line 2, column name", "unknown series"),
        ("cpi,2021M5,1.0,,", "line 2, column period", "ECOS period"),
        ("cpi,20210531,1.0,,", "line 2, column period", "not a monthly period"),
        ("base_rate,202105,1.0,,", "line 2, column period", "not a daily period"),
        ("cpi,202105,,,", "line 2, column value", "a value is required"),
        ("cpi,202105,1.0,,2021-06-06", "line 2, column available_on", "2021-06-07"),
        ("base_rate,20210527,0.50,%,2021-05-27", "line 2, column available_on", "2021-05-28"),
        ("cpi,202105,NaN,,", "line 2, column value", "finite"),
    ],
)
def test_a_bad_macro_file_names_file_line_and_column(
    tmp_path: Path, line: str, where: str, reason: str
) -> None:
    path = _write(tmp_path, "macro.csv", "name,period,value,unit,available_on", line)
    with pytest.raises(EconFileError) as caught:
        read_macro(path)
    message = str(caught.value)
    assert str(path) in message and where in message and reason in message, message


def test_macro_period_end_is_checked_and_duplicates_refused(tmp_path: Path) -> None:
    wrong_end = _write(tmp_path, "a.csv", "name,period,period_end,value", "cpi,202102,2021-02-28,1")
    assert read_macro(wrong_end)[0].period_end == date(2021, 2, 28)
    wrong_end.write_text("name,period,period_end,value\ncpi,202102,2021-02-27,1\n")
    with pytest.raises(EconFileError, match=r"line 2, column period_end: .*2021-02-28"):
        read_macro(wrong_end)
    twice = _write(tmp_path, "b.csv", "name,period,value", "cpi,202102,1", "cpi,202102,2")
    with pytest.raises(EconFileError, match="line 3, column period: cpi 202102 is also on line 2"):
        read_macro(twice)


def test_a_misspelt_optional_column_is_an_error_not_a_default(tmp_path: Path) -> None:
    # Read as `available_on` would be ignored and the earliest date taken: 18 days too early.
    path = _write(tmp_path, "m.csv", "name,period,value,unit,avail_on", "base_rate,20210301,0.5,%,")
    with pytest.raises(EconFileError, match=r"line 1: unknown column avail_on \(the columns"):
        read_macro(path)


def test_a_file_that_is_not_utf8_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_bytes((HEADER + "\n").encode() + "005930,삼성".encode("cp949") + b"\n")
    with pytest.raises(EconFileError, match=r"f\.csv line 2: not UTF-8"):
        read_filings(path)


def test_a_missing_file_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(EconFileError, match=r"cannot read .*nowhere\.csv"):
        RecordedEcon.from_files(tmp_path / "nowhere.csv")


# --- visibility ---------------------------------------------------------------------------------


def _filings(tmp_path: Path) -> RecordedEcon:
    path = _write(
        tmp_path,
        "filings.csv",
        HEADER + ",receipt_no",
        "005930,2020-03-17,2019,230,28,14,350,90,260,20200317000001",
        SAMSUNG_FY2020 + ",",
        "005930,2021-08-13,2020,240,36,30,380,100,280,",  # an amendment of FY2020
        "000660,2017-03-20,2016,17,3,3,30,8,22,",
        "000660,2021-03-20,2020,,,-2,150,110,40,",
    )
    return RecordedEcon.from_files(path)


def test_a_filing_is_invisible_up_to_its_publication_day_and_visible_after(
    tmp_path: Path,
) -> None:
    econ = _filings(tmp_path)
    published = date(2021, 3, 9)
    for as_of in (published - timedelta(days=1), published):
        before = econ.fundamentals_on("005930", as_of)
        assert before is not None and before.fiscal_year == 2019, as_of
    after = econ.fundamentals_on("005930", published + timedelta(days=1))
    assert after is not None
    assert (after.fiscal_year, after.published_on, after.net_income) == (2020, published, 60)
    assert (after.stock_code, after.as_of, after.currency) == ("005930", date(2021, 3, 10), "KRW")
    # The amendment replaces the original from the day after it was filed.
    assert econ.fundamentals_on("005930", date(2021, 8, 13)).net_income == 60  # type: ignore[union-attr]
    assert econ.fundamentals_on("005930", date(2021, 8, 14)).net_income == 30  # type: ignore[union-attr]
    first = econ.fundamentals_on("005930", date(2020, 3, 18))
    assert first is not None and first.receipt_no == "20200317000001"


def test_only_the_fiscal_years_the_live_lookup_reads(tmp_path: Path) -> None:
    econ = _filings(tmp_path)
    assert econ.fundamentals_on("000660", date(2017, 3, 21)).fiscal_year == 2016  # type: ignore[union-attr]
    assert econ.fundamentals_on("000660", date(2019, 12, 31)) is not None  # 2018..2016
    assert econ.fundamentals_on("000660", date(2020, 1, 1)) is None  # 2019..2017: too old
    assert econ.fundamentals_on("000660", date(2021, 3, 20)) is None  # filed that day
    late = econ.fundamentals_on("000660", date(2021, 3, 21))
    assert late is not None and late.revenue is None and late.net_income == -2
    assert econ.fundamentals_on("035420", date(2021, 3, 21)) is None
    assert econ.tickers == {"005930", "000660"}


def test_macro_values_are_visible_from_available_on(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "macro.csv",
        "name,period,value,unit,available_on",
        "cpi,202004,100,2020=100,",
        "cpi,202104,102.5,2020=100,",
        "cpi,202105,104.5,2020=100,2021-06-10",  # released later than the live lag assumes
        "base_rate,20210527,0.50,%,",
    )
    econ = RecordedEcon.from_files(macro=path)
    early = econ.macro_on(date(2021, 6, 9))
    assert early.cpi is not None and early.cpi.period == "202104"
    assert early.cpi_yoy_pct == Decimal("2.50")
    late = econ.macro_on(date(2021, 6, 10))
    assert late.cpi is not None and late.cpi.available_on == date(2021, 6, 10)
    assert late.cpi_yoy_pct is None  # no May 2020 value recorded
    assert econ.macro_on(date(2021, 5, 27)).base_rate is None  # the decision day itself
    rate = econ.macro_on(date(2021, 5, 28))
    assert rate.base_rate is not None and rate.base_rate.value == Decimal("0.50")
    assert "krw_usd" in rate.problems and "base_rate" not in rate.problems
    assert rate.problems["upcoming_us_releases"] == NO_RELEASE_CALENDAR
    # Outside the live lookback (45 days for the base rate) the value is no longer read.
    assert econ.macro_on(date(2021, 7, 11)).base_rate is not None
    stale = econ.macro_on(date(2021, 7, 12))
    assert stale.base_rate is None and stale.problems["base_rate"] == "no value public on this date"


def test_usable_on_a_day_keeps_only_what_a_session_that_day_may_read(tmp_path: Path) -> None:
    econ = _filings(tmp_path)
    filed = date(2021, 3, 9)  # 005930's FY2020 report: usable from the 10th
    cut = econ.usable_on(filed)
    assert cut.fundamentals_on("005930", filed) == econ.fundamentals_on("005930", filed)
    later = filed + timedelta(days=1)
    kept = cut.fundamentals_on("005930", later)
    assert kept is not None and kept.fiscal_year == 2019  # the FY2020 report is not in the cut
    full = econ.fundamentals_on("005930", later)
    assert full is not None and full.fiscal_year == 2020
    assert econ.usable_on(later).fundamentals_on("005930", later) == full
    assert cut.fundamentals_on("000660", date(2021, 3, 22)) is None
    assert econ.fundamentals_on("000660", date(2021, 3, 22)) is not None
    no_macro = econ.macro_on(filed)
    assert no_macro.cpi is None and no_macro.problems["cpi"] == NO_MACRO


# --- parity with the live source (the econ simulator through the real clients) ------------------


@pytest.fixture
async def live(tmp_path: Path) -> AsyncIterator[tuple[Clients, RecordedEcon]]:
    """The simulator's ECOS and OpenDART data recorded into CSV files, read back."""
    clients = make_clients(EconSimulator())
    try:
        macro = tmp_path / "macro.csv"
        with macro.open("w", newline="") as fh:
            out = csv.writer(fh)
            out.writerow(["name", "period", "value", "unit"])
            for series in (BASE_RATE, KRW_USD, KR_CPI):
                first = "20180101" if series.cycle is EcosCycle.DAILY else "201801"
                last = "20260630" if series.cycle is EcosCycle.DAILY else "202606"
                rows = await clients.ecos.statistic_search(
                    series.stat_code, series.cycle, first, last, [series.item_code]
                )
                out.writerows(
                    [series.name, r.time, r.value, r.unit_name] for r in rows if r.value is not None
                )
        filings = tmp_path / "filings.csv"
        with filings.open("w", newline="") as fh:
            out = csv.writer(fh)
            out.writerow([*FILING_COLUMNS, "corp_code", "receipt_no", "fs_div"])
            for company in (SAMSUNG, SK_HYNIX, NAVER):
                for year, annual in company.annuals.items():
                    # Read the report as OpenDART serves it, long after it was filed.
                    seen = annual.filed_on + timedelta(days=1)
                    snap = await fundamentals_snapshot(clients.dart, company.corp_code, seen)
                    assert snap is not None and snap.fiscal_year == year
                    out.writerow(
                        [snap.stock_code, snap.published_on, snap.fiscal_year, snap.revenue,
                         snap.operating_income, snap.net_income, snap.total_assets,
                         snap.total_liabilities, snap.total_equity, snap.corp_code,
                         snap.receipt_no, snap.fs_div.value]
                    )  # fmt: skip
        yield clients, RecordedEcon.from_files(filings, macro)
    finally:
        for client in (clients.ecos, clients.fred, clients.dart):
            await client.aclose()


def _comparable(snap: MacroSnapshot) -> dict[str, object]:
    values = {
        name: None if v is None else v.model_dump(exclude={"source"})
        for name, v in (("base_rate", snap.base_rate), ("krw_usd", snap.krw_usd), ("cpi", snap.cpi))
    }
    problems = {k: v for k, v in snap.problems.items() if k != "upcoming_us_releases"}
    return {**values, "cpi_yoy_pct": snap.cpi_yoy_pct, "problems": problems}


@pytest.mark.anyio
async def test_recorded_answers_equal_the_live_snapshots_day_by_day(
    live: tuple[Clients, RecordedEcon],
) -> None:
    clients, recorded = live
    snapshots: EconSource = EconSnapshots(clients.ecos, clients.fred, clients.dart)
    source: EconSource = recorded
    edges = {a.filed_on + timedelta(days=k) for a in SAMSUNG.annuals.values() for k in (0, 1)}
    days = sorted(
        {date(2018, 1, 1) + timedelta(days=k) for k in range(0, 3100, 11)}
        | edges
        | {date(2025, 5, 29), date(2025, 5, 30), date(2024, 3, 6), date(2024, 3, 7)}
    )
    differing = []
    for day in days:
        for ticker in ("005930", "000660", "035420", "069500"):
            if await source.fundamentals(ticker, day) != await snapshots.fundamentals(ticker, day):
                differing.append((day, ticker))
        ours = _comparable(await source.macro(day, horizon_days=0))
        theirs = _comparable(await macro_snapshot(clients.ecos, clients.fred, day, horizon_days=0))
        if ours != theirs:
            differing.append((day, "macro"))
    assert differing == []
    # The comparison covered real values, not only gaps on both sides.
    cut = await source.macro(date(2025, 5, 30))
    assert cut.base_rate is not None and cut.base_rate.value == Decimal("2.50")
    assert cut.cpi_yoy_pct is not None
    assert sum(1 for d in days if recorded.fundamentals_on("005930", d)) > len(days) // 3
