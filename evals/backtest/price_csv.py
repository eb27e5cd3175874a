"""Reading one daily-price CSV file, checked cell by cell.

Understood layouts: the ../shared/market-data one (`date` as YYYYMMDD plus extra columns), a
plain `date,open,high,low,close,volume` with ISO dates, Yahoo's (`Date,...,Adj Close,Volume`)
and pykrx's Korean headers (날짜,시가,고가,저가,종가,거래량). Columns not named here are ignored.

What is an error (`PriceFileError`, naming file, line and column) and what a warning:

- errors: an unreadable date or number; a price that is not finite, not positive or beyond
  `MAX_PRICE`; `high < low`, or open/close outside [low, high]; a volume that is negative, not a
  whole number or beyond `MAX_VOLUME`; a row with some values missing; a row with a different
  number of cells than the header; the same date twice with different values.
- warnings (`DataWarning`, the rows are repaired): rows without any value (blank lines, Yahoo's
  ``null`` holiday rows) are dropped; a row repeating an earlier one exactly (same date, same
  values) is dropped; dates out of order are sorted; and a close-to-close move beyond the daily
  price limit (±30 % since 2015-06-15, ±15 % before; compounded over the weekdays a gap in the
  file spans) is named, since it usually means unadjusted prices around a split. The data must
  be split-adjusted. Flat zero-volume bars (trading halts) are accepted.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

from evals.backtest.files import DataWarning, PriceFileError, at, read_utf8
from tools.krx.rules import PRICE_LIMIT_RATE_PCT

HEADER_ALIASES = {
    "date": "date",
    "날짜": "date",
    "일자": "date",
    "open": "open",
    "시가": "open",
    "high": "high",
    "고가": "high",
    "low": "low",
    "저가": "low",
    "close": "close",
    "종가": "close",
    "volume": "volume",
    "거래량": "volume",
}
COLUMNS = ("date", "open", "high", "low", "close", "volume")
PRICES = ("open", "high", "low", "close")
MISSING = frozenset({"", "null", "nan", "none", "na", "n/a"})
MAX_PRICE = 10.0**10
"""No KRX share has traded near ten billion KRW; a larger price is a unit or typing error."""
MIN_PRICE = 0.01
MAX_VOLUME = 10**12
"""A trillion shares in a day is beyond any KRX listing; a larger volume is a corrupt cell."""
LIMIT_SINCE = date(2015, 6, 15)
OLD_LIMIT_PCT = 15
LIMIT_SLACK = 0.005
"""Adjusted prices are rounded; a move this much past the limit is still not flagged."""


@dataclass(frozen=True, slots=True, eq=False)
class PriceFile:
    """One file's bars, oldest first, with the line each came from and the reader's warnings."""

    path: Path
    dates: npt.NDArray[np.datetime64]
    values: npt.NDArray[np.float64]  # n x 5: open, high, low, close, volume
    lines: npt.NDArray[np.int64]
    warnings: tuple[DataWarning, ...]

    def window(self, start: date, end: date) -> slice:
        """The rows dated start..end."""
        lo = int(np.searchsorted(self.dates, np.datetime64(start, "D")))
        hi = int(np.searchsorted(self.dates, np.datetime64(end, "D"), side="right"))
        return slice(lo, hi)

    def limit_warnings(self, sel: slice) -> list[DataWarning]:
        """Name the rows in `sel` whose close moved beyond the daily limit from the row before."""
        lo = max(sel.start, 1)
        if sel.stop - lo <= 0:
            return []
        close = self.values[:, 3]
        prev, cur = close[lo - 1 : sel.stop - 1], close[lo : sel.stop]
        days_prev, days_cur = self.dates[lo - 1 : sel.stop - 1], self.dates[lo : sel.stop]
        weekdays = np.maximum(np.busday_count(days_prev, days_cur), 1)
        new_rule = days_cur >= np.datetime64(LIMIT_SINCE, "D")
        pct = np.where(new_rule, PRICE_LIMIT_RATE_PCT, OLD_LIMIT_PCT)
        rate = pct / 100
        ratio = cur / prev
        beyond = (ratio > (1 + rate) ** weekdays + LIMIT_SLACK) | (
            ratio < (1 - rate) ** weekdays - LIMIT_SLACK
        )
        found = []
        for i in np.flatnonzero(beyond):
            row = lo + int(i)
            found.append(
                DataWarning(
                    "price_limit",
                    at(self.path, int(self.lines[row])),
                    f"{days_cur[i]}: close {cur[i]:,.2f} is {(ratio[i] - 1) * 100:+.1f} % from "
                    f"{prev[i]:,.2f} on {days_prev[i]}, beyond the ±{pct[i]} % daily limit; "
                    "unadjusted prices around a split? (the data must be split-adjusted)",
                )
            )
        return found


def read_price_file(path: Path) -> PriceFile:
    """Read and check one price CSV (see the module docstring for the rules)."""
    header, rows, lines = _cells(path)
    warnings: list[DataWarning] = []
    columns = [[r[i].strip() for r in rows] for i in map(header.index, COLUMNS)]
    table = np.array(columns, dtype=object).reshape(6, -1).T
    line_of = np.asarray(lines, dtype=np.int64)
    empty = (
        np.array([[cell.lower() in MISSING for cell in column] for column in columns], dtype=bool)
        .reshape(6, -1)
        .T
    )
    drop = empty[:, 1:].all(axis=1)
    if drop.any():
        dropped = ", ".join(str(n) for n in line_of[drop][:10]) + (
            " ..." if drop.sum() > 10 else ""
        )
        warnings.append(
            DataWarning(
                "dropped_rows",
                str(path),
                f"{int(drop.sum())} row{'s' if drop.sum() > 1 else ''} without values dropped "
                f"(line{'s' if drop.sum() > 1 else ''} {dropped})",
            )
        )
    table, empty, line_of = table[~drop], empty[~drop], line_of[~drop]
    dates, values = _check(path, table, empty, line_of)
    dates, values, line_of = _dedupe(path, dates, values, line_of, warnings)
    if len(dates) > 1 and not bool(np.all(dates[1:] > dates[:-1])):
        order = np.argsort(dates, kind="stable")
        moved = int((order != np.arange(len(order))).sum())
        dates, values, line_of = dates[order], values[order], line_of[order]
        warnings.append(
            DataWarning(
                "unsorted",
                str(path),
                f"dates out of order: sorted oldest first ({moved} rows moved)",
            )
        )
    return PriceFile(path, dates, values, line_of, tuple(warnings))


def _cells(path: Path) -> tuple[list[str], list[list[str]], list[int]]:
    """The header (canonical names) and the data rows with their line numbers."""
    text = read_utf8(path, PriceFileError)
    reader = csv.reader(io.StringIO(text, newline=""))
    header: list[str] | None = None
    rows: list[list[str]] = []
    lines: list[int] = []
    try:
        for cells in reader:
            if header is None:
                if not "".join(cells).strip():
                    continue
                header = _header(path, reader.line_num, cells)
                continue
            if not "".join(cells).strip():
                rows.append([""] * len(header))
                lines.append(reader.line_num)
                continue
            if len(cells) != len(header):
                raise PriceFileError(
                    f"{at(path, reader.line_num)}: {len(cells)} cells, the header has {len(header)}"
                )
            rows.append(cells)
            lines.append(reader.line_num)
    except csv.Error as exc:
        raise PriceFileError(f"{at(path, reader.line_num)}: {exc}") from None
    if header is None:
        raise PriceFileError(f"{path}: empty file (no header)")
    return header, rows, lines


def _header(path: Path, line: int, cells: list[str]) -> list[str]:
    names = [HEADER_ALIASES.get(c.strip().lower(), c.strip()) for c in cells]
    twice = sorted({n for n in names if n in COLUMNS and names.count(n) > 1})
    if twice:
        raise PriceFileError(f"{at(path, line)}: column {', '.join(twice)} given twice")
    missing = [c for c in COLUMNS if c not in names]
    if missing:
        raise PriceFileError(
            f"{at(path, line)}: missing columns {', '.join(missing)} (have {', '.join(cells)})"
        )
    return names


def _check(
    path: Path,
    table: npt.NDArray[np.object_],
    empty: npt.NDArray[np.bool_],
    line_of: npt.NDArray[np.int64],
) -> tuple[npt.NDArray[np.datetime64], npt.NDArray[np.float64]]:
    """Parse the cells; raise on the first bad one (by line, then column)."""
    n = len(table)
    problems: list[tuple[int, int, int, str]] = []  # (row, rank, column index, message)

    def first(mask: npt.NDArray[np.bool_], column: int, message: str, rank: int = 0) -> None:
        hits = np.flatnonzero(mask)
        if len(hits):
            problems.append((int(hits[0]), rank, column, message))

    for col in range(6):
        first(empty[:, col], col, "missing value (a row is complete, or empty and dropped)")
    text = pd.Series(table[:, 0], dtype=object).astype(str)
    compact = text.str.fullmatch(r"\d{8}").fillna(False).astype(bool)
    iso = text.where(~compact, text.str[0:4] + "-" + text.str[4:6] + "-" + text.str[6:8])
    parsed = pd.to_datetime(iso, format="%Y-%m-%d", errors="coerce")
    good_text = text.str.fullmatch(r"\d{4}-\d{2}-\d{2}|\d{8}").fillna(False).astype(bool)
    bad_date = (parsed.isna() | ~good_text).to_numpy() & ~empty[:, 0]
    first(bad_date, 0, "not a date YYYY-MM-DD or YYYYMMDD")
    values = np.full((n, 5), np.nan)
    for j in range(5):
        cells = pd.Series(table[:, j + 1], dtype=object)
        as_float = _floats(pd.to_numeric(cells, errors="coerce"))
        bad = np.isnan(as_float) & ~empty[:, j + 1]
        first(bad, j + 1, "not a number")
        values[:, j] = as_float
    with np.errstate(invalid="ignore"):
        ok = ~np.isnan(values)
        for j in range(len(PRICES)):
            v = values[:, j]
            first(ok[:, j] & ~np.isfinite(v), j + 1, "not a finite number")
            first(np.isfinite(v) & (v <= 0), j + 1, "not positive")
            first(np.isfinite(v) & (v > 0) & (v < MIN_PRICE), j + 1, f"below {MIN_PRICE} KRW")
            first(np.isfinite(v) & (v > MAX_PRICE), j + 1, f"beyond {MAX_PRICE:,.0f} KRW")
        o, h, lo, c, vol = (values[:, j] for j in range(5))
        first(h < lo, 2, "the high is below the low", rank=1)
        first((o < lo) | (o > h), 1, "the open is outside [low, high]", rank=2)
        first((c < lo) | (c > h), 4, "the close is outside [low, high]", rank=2)
        first(ok[:, 4] & ~np.isfinite(vol), 5, "not a finite number")
        first(vol < 0, 5, "a negative volume")
        first(np.isfinite(vol) & (vol > MAX_VOLUME), 5, f"beyond {MAX_VOLUME:,} shares")
        first(np.isfinite(vol) & (vol != np.floor(vol)), 5, "a volume not a whole number")
    if problems:
        row, _, col, message = min(problems)
        raise PriceFileError(
            f"{at(path, int(line_of[row]), COLUMNS[col])}: {message} (got {table[row, col]!r})"
        )
    return parsed.to_numpy().astype("datetime64[D]"), values


def _floats(numbers: pd.Series) -> npt.NDArray[np.float64]:
    """The parsed column as floats (NaN where unreadable); huge integers become inf."""
    try:
        return np.asarray(numbers, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        return np.array([_float(x) for x in numbers], dtype=np.float64)


def _float(x: object) -> float:
    try:
        return float(x)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        return float("nan")


def _dedupe(
    path: Path,
    dates: npt.NDArray[np.datetime64],
    values: npt.NDArray[np.float64],
    line_of: npt.NDArray[np.int64],
    warnings: list[DataWarning],
) -> tuple[npt.NDArray[np.datetime64], npt.NDArray[np.float64], npt.NDArray[np.int64]]:
    """Drop exact repeats (a warning); the same date with other values is an error."""
    _, first_index, inverse = np.unique(dates, return_index=True, return_inverse=True)
    original = first_index[inverse]
    repeat = original != np.arange(len(dates))
    if not repeat.any():
        return dates, values, line_of
    for row in np.flatnonzero(repeat):
        earlier = int(original[row])
        if not np.array_equal(values[row], values[earlier]):
            raise PriceFileError(
                f"{at(path, int(line_of[row]), 'date')}: {dates[row]} is also on line "
                f"{int(line_of[earlier])}, with other values"
            )
    count = int(repeat.sum())
    listed = ", ".join(str(n) for n in line_of[repeat][:10]) + (" ..." if count > 10 else "")
    warnings.append(
        DataWarning(
            "repeated_rows",
            str(path),
            f"{count} repeated row{'s' if count > 1 else ''} dropped "
            f"(line{'s' if count > 1 else ''} {listed}: the same date and values as an "
            "earlier line)",
        )
    )
    keep = ~repeat
    return dates[keep], values[keep], line_of[keep]
