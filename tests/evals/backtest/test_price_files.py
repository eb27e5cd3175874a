"""Price CSV files: bad cells are errors naming file, line and column; repairs are warnings."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evals.backtest.data import BarDataError, Bars, CsvBarSource
from evals.backtest.econ_csv import EconFileError
from evals.backtest.files import DataFileError

HEADER = "date,open,high,low,close,volume\n"
GOOD = [
    "2024-01-02,100,110,90,105,10",
    "2024-01-03,105,115,100,110,20",
    "2024-01-04,110,120,100,115,30",
]
START, END = date(2024, 1, 1), date(2024, 12, 31)


def _load(tmp_path: Path, rows: list[str], header: str = HEADER) -> CsvBarSource:
    (tmp_path / "111111.csv").write_text(header + "\n".join(rows) + "\n", encoding="utf-8")
    return CsvBarSource(tmp_path)


def _bars(tmp_path: Path, rows: list[str], header: str = HEADER) -> Bars:
    return _load(tmp_path, rows, header).daily_bars("111111", START, END)


@pytest.mark.parametrize(
    ("row", "where", "what"),
    [
        ("2024-01-05,0,120,0,115,30", "column open", "not positive"),
        ("2024-01-05,-5,120,-10,115,30", "column open", "not positive"),
        ("2024-01-05,110,90,100,95,30", "column high", "below the low"),
        ("2024-01-05,130,120,100,115,30", "column open", "outside"),
        ("2024-01-05,110,120,100,125,30", "column close", "outside"),
        ("2024-01-05,110,inf,100,115,30", "column high", "not a finite"),
        ("2024-01-05,110,120,100,115,-1", "column volume", "negative"),
        ("2024-01-05,110,120,100,115,1.5", "column volume", "whole number"),
        ("2024-01-05,110,120,100,115,1e30", "column volume", "beyond"),
        ("2024-01-05,110,120,100,115,inf", "column volume", "not a finite"),
        ("2024-01-05,110,1e300,100,115,30", "column high", "beyond"),
        ("2024-01-05,110,12o,100,115,30", "column high", "not a number"),
        ("2024-13-05,110,120,100,115,30", "column date", "not a date"),
        ("2024-01-05,110,,100,115,30", "column high", "missing"),
        ("2024-01-05,110,120,100,115", "line 5", "cells"),
    ],
)
def test_a_bad_cell_names_file_line_and_column(
    tmp_path: Path, row: str, where: str, what: str
) -> None:
    with pytest.raises(BarDataError) as caught:
        _bars(tmp_path, [*GOOD, row])
    message = str(caught.value)
    assert "111111.csv line 5" in message
    assert where in message
    assert what in message
    assert isinstance(caught.value, DataFileError)


def test_the_price_and_econ_readers_share_one_error_type() -> None:
    assert issubclass(EconFileError, DataFileError)


def test_empty_and_null_rows_are_dropped_with_a_warning(tmp_path: Path) -> None:
    bars = _bars(tmp_path, [GOOD[0], ",,,,,", "2024-01-03,null,null,null,null,null", *GOOD[1:]])
    assert bars.dates.tolist() == [date(2024, 1, 2), date(2024, 1, 3), date(2024, 1, 4)]
    assert [w.message for w in bars.warnings] == ["2 rows without values dropped (lines 3, 4)"]
    assert all("111111.csv" in str(w) for w in bars.warnings)


def test_unsorted_dates_are_sorted_with_a_warning(tmp_path: Path) -> None:
    bars = _bars(tmp_path, [GOOD[2], GOOD[0], GOOD[1]])
    assert bars.dates.tolist() == [date(2024, 1, 2), date(2024, 1, 3), date(2024, 1, 4)]
    assert [w.message for w in bars.warnings] == [
        "dates out of order: sorted oldest first (3 rows moved)"
    ]


def test_a_repeated_identical_row_is_dropped_with_a_warning(tmp_path: Path) -> None:
    bars = _bars(tmp_path, [*GOOD, GOOD[1]])
    assert len(bars) == 3
    assert [w.message for w in bars.warnings] == [
        "1 repeated row dropped (line 5: the same date and values as an earlier line)"
    ]


def test_a_date_given_twice_with_different_values_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(BarDataError, match=r"line 5, column date: 2024-01-03 is also on line 3"):
        _bars(tmp_path, [*GOOD, "2024-01-03,105,115,100,111,20"])


def test_a_move_beyond_the_daily_limit_warns_of_an_unadjusted_split(tmp_path: Path) -> None:
    rows = [
        "2018-05-02,2650000,2650000,2650000,2650000,0",
        "2018-05-03,2650000,2650000,2650000,2650000,0",
        "2018-05-04,53000,53900,51800,51900,39565391",  # 50:1, raw prices
        "2018-05-08,52600,53200,51900,52600,23104720",  # +1.3 %
    ]
    bars = _load(tmp_path, rows).daily_bars("111111", date(2018, 1, 1), date(2018, 12, 31))
    assert len(bars) == 4
    (warning,) = bars.warnings
    assert "2018-05-04" in warning.message and "-98.0 %" in warning.message
    assert "±30 %" in warning.message and "split" in warning.message
    assert "line 4" in str(warning)


def test_the_limit_was_15_percent_before_2015_06_15(tmp_path: Path) -> None:
    rows = [
        "2015-06-11,100,100,100,100,1",
        "2015-06-12,120,120,120,120,1",  # +20 %: beyond the 15 % of the time
        "2015-06-15,150,150,150,150,1",  # +25 %: inside the new 30 %
    ]
    bars = _load(tmp_path, rows).daily_bars("111111", date(2015, 1, 1), date(2015, 12, 31))
    assert [w.message.split(":")[0] for w in bars.warnings] == ["2015-06-12"]
    assert "±15 %" in bars.warnings[0].message


def test_limit_warnings_outside_the_window_are_not_given(tmp_path: Path) -> None:
    rows = ["2024-01-02,100,100,100,100,1", "2024-01-03,10,10,10,10,1", "2024-01-04,11,12,10,11,1"]
    bars = _load(tmp_path, rows).daily_bars("111111", date(2024, 1, 4), date(2024, 1, 31))
    assert bars.warnings == ()


def test_the_real_files_load_without_errors_and_warn_only_of_documented_quirks(
    shared_dir: Path,
) -> None:
    source = CsvBarSource(shared_dir / "market-data")
    every = date(1990, 1, 1), date(2025, 12, 31)
    warnings: dict[str, list[str]] = {}
    for path in sorted((shared_dir / "market-data").glob("*.csv")):
        ticker = path.stem.split("_", 1)[0]
        bars = source.file_bars(source.read_file(path), ticker, *every)
        assert len(bars) > 300
        assert np.isfinite(bars.close).all() and (bars.low > 0).all()
        warnings[path.name] = [w.message for w in bars.warnings]
    # KS11: Yahoo's seven `null` rows.
    assert warnings["KS11_kospi_index_2009-2019.csv"] == [
        "7 rows without values dropped (lines 142, 238, 309, 470, 1423, 1764, 1930)"
    ]
    # SK hynix 1999-05-06 (+38.6 %, beyond the limit of the time) is documented as an artefact.
    assert [w.split(":")[0] for w in warnings["000660_sk_hynix_1996-2023.csv"]] == ["1999-05-06"]
    for name in (
        "005930_samsung_electronics_2023-2025.csv",
        "035420_naver_2002-2023.csv",
        "069500_kodex200_etf_2002-2023.csv",
    ):
        assert warnings[name] == [], name
    # Samsung's 1990s holes compound several limit days; no day is flagged after 1999.
    assert all(w < "1999" for w in warnings["005930_samsung_electronics_1990-2023.csv"])


@settings(
    max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    cells=st.lists(
        st.one_of(
            st.text(max_size=12),
            st.sampled_from(
                [
                    "",
                    "null",
                    "NaN",
                    "inf",
                    "-inf",
                    "0",
                    "-1",
                    "1e400",
                    "1.5",
                    "20240105",
                    "2024-01-05",
                    "99999999",
                    "00000000",
                    "1,000",
                    " 7 ",
                    "0x10",
                    "True",
                ]
            ),
            st.integers(-(10**20), 10**20).map(str),
            st.floats(allow_nan=True, allow_infinity=True).map(str),
        ),
        min_size=6,
        max_size=6,
    ),
    position=st.integers(0, 3),
)
def test_fuzzed_rows_give_a_typed_error_or_clean_bars(
    tmp_path: Path, cells: list[str], position: int
) -> None:
    row = ",".join('"' + c.replace('"', '""') + '"' for c in cells)
    rows = list(GOOD)
    rows.insert(position, row)
    try:
        bars = _bars(tmp_path, rows)
    except BarDataError as exc:
        assert "111111.csv" in str(exc)
        return
    assert np.isfinite(bars.open).all() and np.isfinite(bars.close).all()
    assert (bars.low > 0).all() and (bars.low <= bars.high).all()
    assert (bars.volume >= 0).all()
    assert bool(np.all(bars.dates[1:] > bars.dates[:-1]))
