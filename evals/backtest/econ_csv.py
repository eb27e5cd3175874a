"""The recorded economic-data files a replay reads: annual filings and macro values (CSV).

Filings CSV, one row per annual report (amounts in whole KRW, empty = unknown; the figures
below are illustrative)::

    ticker,published_on,fiscal_year,revenue,operating_income,net_income,total_assets,total_liabilities,total_equity
    005930,2021-03-09,2020,240000000000000,36000000000000,26000000000000,378000000000000,102000000000000,276000000000000

Optional columns: `corp_code`, `receipt_no` (OpenDART's; empty when not recorded) and `fs_div`
(CFS or OFS, default CFS). An amendment is a second row of the same fiscal year with a later
`published_on`.

Macro CSV (`name` is base_rate, krw_usd or cpi; `period` in ECOS's format, YYYYMMDD for the
daily series, YYYYMM for the monthly CPI)::

    name,period,value,unit,available_on
    cpi,202102,101.50,2020=100,

Optional columns: `unit`, `available_on` (empty: the live rule, the period's end plus the
series' lag; a later date may be recorded, an earlier one is refused) and `period_end` (checked
against the period). Dates are YYYY-MM-DD (or YYYYMMDD). Blank lines and lines starting with
``#`` are skipped; a column not listed here is an error (a misspelt optional column would
otherwise fall back to its default). Every error names the file and the line, and the column
when one cell is at fault.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from decimal import Decimal
from itertools import pairwise
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError, ValidationInfo, field_validator

from evals.backtest.files import DataFileError, read_utf8
from tools.econ.dart_models import FsDiv, ReportCode
from tools.econ.ecos_models import format_period, period_bounds
from tools.econ.snapshot import observed
from tools.econ.snapshot_models import MACRO_SERIES, FundamentalsSnapshot, Observed
from tools.econ.wire_values import parse_decimal, parse_krw_amount

AMOUNT_COLUMNS = (
    "revenue",
    "operating_income",
    "net_income",
    "total_assets",
    "total_liabilities",
    "total_equity",
)
"""The key accounts of a filing, whole KRW (`FundamentalsSnapshot`'s amounts)."""
FILING_COLUMNS = ("ticker", "published_on", "fiscal_year", *AMOUNT_COLUMNS)
MACRO_COLUMNS = ("name", "period", "value")

M = TypeVar("M", bound=BaseModel)


class EconFileError(DataFileError):
    """A recorded economic-data file cannot be used as given; fix the file."""


def _blank_is_none(raw: object) -> object:
    return None if isinstance(raw, str) and not raw.strip() else raw


def _iso_day(raw: object) -> object:
    """A date written YYYY-MM-DD or YYYYMMDD, and nothing else.

    Pydantic alone would read digits as a timestamp, and `date.fromisoformat` also takes ISO
    week dates (``2021W102``): a typo must not become some other day.
    """
    if not isinstance(raw, str):
        return raw
    text = raw.strip()
    for layout in ("%Y-%m-%d", "%Y%m%d"):
        try:
            return datetime.strptime(text, layout).date()
        except ValueError:
            continue
    raise ValueError(f"not a date YYYY-MM-DD: {text!r}")


class _Row(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class FilingRow(_Row):
    """One annual report as recorded (the filings CSV's columns)."""

    ticker: str
    published_on: date
    fiscal_year: int
    revenue: int | None
    operating_income: int | None
    net_income: int | None
    total_assets: int | None
    total_liabilities: int | None
    total_equity: int | None
    corp_code: str = ""
    receipt_no: str = ""
    fs_div: FsDiv = FsDiv.CONSOLIDATED

    @field_validator("ticker")
    @classmethod
    def _six_digits(cls, raw: str) -> str:
        if len(raw) != 6 or not raw.isalnum():
            raise ValueError(f"not a 6-character KRX code: {raw!r}")
        return raw

    @field_validator(*AMOUNT_COLUMNS, mode="before")
    @classmethod
    def _krw(cls, raw: object) -> int | None:
        return parse_krw_amount(raw)

    @field_validator("published_on", mode="before")
    @classmethod
    def _day(cls, raw: object) -> object:
        return _iso_day(raw)

    @field_validator("fiscal_year")
    @classmethod
    def _reported_after_the_year(cls, year: int, info: ValidationInfo) -> int:
        if not 1900 <= year <= 2999:
            raise ValueError(f"not a fiscal year: {year}")
        published = info.data.get("published_on")
        if isinstance(published, date) and published <= date(year, 12, 31):
            raise ValueError(
                f"an annual report of fiscal {year} cannot be filed on {published}, before "
                "the year ended (is a column swapped?)"
            )
        return year

    @field_validator("fs_div", mode="before")
    @classmethod
    def _default_basis(cls, raw: object) -> object:
        return _blank_is_none(raw) or FsDiv.CONSOLIDATED

    def snapshot(self, as_of: date) -> FundamentalsSnapshot:
        """The live model of this filing, as seen on `as_of`."""
        return FundamentalsSnapshot(
            corp_code=self.corp_code,
            stock_code=self.ticker,
            as_of=as_of,
            fiscal_year=self.fiscal_year,
            report_code=ReportCode.ANNUAL,
            fs_div=self.fs_div,
            receipt_no=self.receipt_no,
            published_on=self.published_on,
            currency="KRW",
            revenue=self.revenue,
            operating_income=self.operating_income,
            net_income=self.net_income,
            total_assets=self.total_assets,
            total_liabilities=self.total_liabilities,
            total_equity=self.total_equity,
        )


class MacroRow(_Row):
    """One macro value as recorded (the macro CSV's columns)."""

    name: str
    period: str
    value: Decimal
    unit: str | None = None
    period_end: date | None = None
    available_on: date | None = None

    @field_validator("name")
    @classmethod
    def _known(cls, raw: str) -> str:
        if raw not in MACRO_SERIES:
            raise ValueError(f"unknown series {raw!r}; one of {', '.join(MACRO_SERIES)}")
        return raw

    @field_validator("period")
    @classmethod
    def _ecos_period(cls, raw: str) -> str:
        period_bounds(raw)  # raises ValueError with the reason
        return raw

    @field_validator("value", mode="before")
    @classmethod
    def _decimal(cls, raw: object) -> Decimal:
        value = parse_decimal(raw)
        if value is None:
            raise ValueError("a value is required (leave the row out when there is none)")
        return value

    @field_validator("unit", mode="before")
    @classmethod
    def _optional(cls, raw: object) -> object:
        return _blank_is_none(raw)

    @field_validator("period_end", "available_on", mode="before")
    @classmethod
    def _optional_day(cls, raw: object) -> object:
        return _iso_day(_blank_is_none(raw))


def _rows(
    path: Path, required: tuple[str, ...], known: Iterable[str]
) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield (line number, row) of a CSV file, skipping blank and ``#`` lines.

    A column outside `known` is an error, not ignored: a misspelled optional column
    (``avail_on``) would otherwise silently fall back to its default.
    """
    columns = tuple(known)
    text = read_utf8(path, EconFileError)
    reader = csv.reader(io.StringIO(text, newline=""))
    header: list[str] | None = None
    try:
        for cells in reader:
            if not cells or not "".join(cells).strip() or cells[0].lstrip().startswith("#"):
                continue
            if header is None:
                header = [c.strip() for c in cells]
                twice = sorted({c for c in header if header.count(c) > 1})
                if twice:
                    raise EconFileError(
                        f"{path} line {reader.line_num}: column {', '.join(twice)} given twice"
                    )
                missing = [c for c in required if c not in header]
                if missing:
                    raise EconFileError(
                        f"{path} line {reader.line_num}: missing columns "
                        f"{', '.join(missing)} (have {', '.join(header)})"
                    )
                unknown = [c for c in header if c not in columns]
                if unknown:
                    raise EconFileError(
                        f"{path} line {reader.line_num}: unknown column "
                        f"{', '.join(unknown)} (the columns are {', '.join(columns)})"
                    )
                continue
            if len(cells) != len(header):
                raise EconFileError(
                    f"{path} line {reader.line_num}: {len(cells)} cells, "
                    f"the header has {len(header)}"
                )
            yield reader.line_num, dict(zip(header, cells, strict=True))
    except csv.Error as exc:
        raise EconFileError(f"{path} line {reader.line_num}: {exc}") from None
    if header is None:
        raise EconFileError(f"{path}: empty file (no header)")


def _parse(model: type[M], path: Path, line: int, row: dict[str, str]) -> M:
    try:
        return model.model_validate(row)
    except ValidationError as exc:
        error = exc.errors()[0]
        column = ".".join(str(part) for part in error["loc"]) or "?"
        message = str(error["msg"]).removeprefix("Value error, ")
        raise EconFileError(
            f"{path} line {line}, column {column}: {message} (got {row.get(column, '')!r})"
        ) from None


def read_filings(path: Path | str) -> list[FilingRow]:
    """Read a filings CSV.

    Two reports of one company and fiscal year published the same day are an error: which one
    was public?
    """
    path = Path(path)
    rows = [
        (n, _parse(FilingRow, path, n, raw))
        for n, raw in _rows(path, FILING_COLUMNS, FilingRow.model_fields)
    ]

    def key(row: FilingRow) -> tuple[str, int, date]:
        return row.ticker, row.fiscal_year, row.published_on

    for (_, a), (line, b) in pairwise(sorted(rows, key=lambda lr: (key(lr[1]), lr[0]))):
        if key(a) == key(b):
            raise EconFileError(
                f"{path} line {line}, column published_on: a second {b.ticker} report for "
                f"fiscal {b.fiscal_year} published on {b.published_on}"
            )
    return [row for _, row in rows]


def read_macro(path: Path | str) -> list[Observed]:
    """Read a macro CSV into the live `Observed` values (with their usable-from dates)."""
    path = Path(path)
    seen: dict[tuple[str, str], int] = {}
    values: list[Observed] = []
    for line, raw in _rows(path, MACRO_COLUMNS, MacroRow.model_fields):
        row = _parse(MacroRow, path, line, raw)
        series = MACRO_SERIES[row.name]
        key = (row.name, row.period)
        if key in seen:
            raise EconFileError(
                f"{path} line {line}, column period: {row.name} {row.period} is also on line "
                f"{seen[key]}"
            )
        seen[key] = line
        start, end = period_bounds(row.period)
        if row.period != format_period(series.cycle, start):
            raise EconFileError(
                f"{path} line {line}, column period: {row.period!r} is not a "
                f"{series.cycle.name.lower()} period, as the live {row.name} series"
            )
        if row.period_end is not None and row.period_end != end:
            raise EconFileError(
                f"{path} line {line}, column period_end: {row.period_end} is not the end of "
                f"{row.period} ({end})"
            )
        try:
            value = observed(
                series,
                period=row.period,
                value=row.value,
                unit=row.unit,
                source=f"{series.source} recorded in {path.name}",
                available_on=row.available_on,
            )
        except ValueError as exc:
            column = "available_on" if str(exc).startswith("available_on") else "period"
            raise EconFileError(f"{path} line {line}, column {column}: {exc}") from None
        values.append(value)
    return values
