"""Fuzzing the recorded filings and macro CSV readers: a bad cell is an `EconFileError`, only."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evals.backtest.econ_csv import EconFileError, read_filings, read_macro

FILING_HEADER = (
    "ticker,published_on,fiscal_year,revenue,operating_income,net_income,total_assets,"
    "total_liabilities,total_equity,corp_code,receipt_no,fs_div"
)
FILING = "005930,2021-03-09,2020,240,36,60,380,100,280,00126380,20210309000744,CFS"
MACRO_HEADER = "name,period,value,unit,available_on,period_end"
MACROS = ("cpi,202102,101.50,2020=100,,2021-02-28", "base_rate,20210527,0.50,%,,")

CELL = st.one_of(
    st.text(max_size=14),
    st.sampled_from(
        ["", "NaN", "inf", "-1", "1e400", "9" * 40, "2021W102", "20210230", "0000-00-00",
         "202113", "2021Q5", "19991231", "cpi", "krw_usd", "base_rate", "CFS", "OFS", "1,000",
         "99991231", "00010101"]
    ),
)  # fmt: skip


def _row(template: str, cells: list[str], where: list[int]) -> str:
    parts = template.split(",")
    for i, cell in zip(where, cells, strict=False):
        parts[i % len(parts)] = '"' + cell.replace('"', '""') + '"'
    return ",".join(parts)


@settings(max_examples=250, deadline=None)
@given(
    cells=st.lists(CELL, min_size=1, max_size=4),
    where=st.lists(st.integers(0, 11), min_size=4, max_size=4),
)
def test_fuzzed_filing_rows_give_an_econ_file_error_or_rows(
    cells: list[str], where: list[int]
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "filings.csv"
        path.write_text(f"{FILING_HEADER}\n{_row(FILING, cells, where)}\n", encoding="utf-8")
        try:
            read_filings(path)
        except EconFileError as exc:
            assert "filings.csv line " in str(exc)  # 3 when a quoted cell holds a newline


@settings(max_examples=250, deadline=None)
@given(
    cells=st.lists(CELL, min_size=1, max_size=4),
    where=st.lists(st.integers(0, 5), min_size=4, max_size=4),
    which=st.integers(0, 1),
)
def test_fuzzed_macro_rows_give_an_econ_file_error_or_values(
    cells: list[str], where: list[int], which: int
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "macro.csv"
        row = _row(MACROS[which], cells, where)
        path.write_text(f"{MACRO_HEADER}\n{row}\n", encoding="utf-8")
        try:
            read_macro(path)
        except EconFileError as exc:
            assert "macro.csv line " in str(exc)


def test_a_period_too_late_for_the_calendar_is_an_econ_file_error(tmp_path: Path) -> None:
    path = tmp_path / "macro.csv"
    path.write_text("name,period,value\nbase_rate,99991231,0.50\n", encoding="utf-8")
    with pytest.raises(EconFileError, match=r"line 2, column period: .*99991231"):
        read_macro(path)


def test_a_fiscal_year_beyond_the_calendar_is_an_econ_file_error(tmp_path: Path) -> None:
    path = tmp_path / "filings.csv"
    row = FILING.replace(",2020,", "," + "9" * 40 + ",")
    path.write_text(f"{FILING_HEADER}\n{row}\n", encoding="utf-8")
    with pytest.raises(EconFileError, match=r"line 2, column fiscal_year: not a fiscal year"):
        read_filings(path)
