"""Daily bars read from CSV files, for replaying real history through the simulator.

Accepted layouts (header names are matched case-insensitively):
- ``date,open,high,low,close,volume[,ticker,code,name,interval]`` with YYYYMMDD or ISO dates
  (the ../shared/market-data QuantKang files and the plain format);
- ``Date,Open,High,Low,Close,Adj Close,Volume`` (Yahoo; ``null`` rows are dropped);
- ``날짜,시가,고가,저가,종가,거래량[,등락률]`` (pykrx exports).

The ticker is the ``code`` column when present, otherwise the file name up to its first ``_``.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path


@dataclass(frozen=True, slots=True)
class DailyBar:
    """One trading day of one instrument, integer KRW."""

    day: date
    open: int
    high: int
    low: int
    close: int
    volume: int


@dataclass(frozen=True, slots=True)
class ReplaySeries:
    """The bars of one CSV file."""

    ticker: str
    name: str
    bars: tuple[DailyBar, ...]


_KOREAN = {"날짜": "date", "시가": "open", "고가": "high", "저가": "low", "종가": "close"}
_KOREAN["거래량"] = "volume"


def _parse_date(text: str) -> date:
    text = text.strip()
    if len(text) == 8 and text.isdigit():
        return datetime.strptime(text, "%Y%m%d").date()
    return date.fromisoformat(text[:10])


def _parse_int(text: str) -> int:
    return int(Decimal(text.strip()).to_integral_value())


def load_csv(path: Path) -> ReplaySeries:
    """Read one CSV of daily bars; rows that cannot be parsed (e.g. Yahoo ``null``) are dropped."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames is None:
            raise ValueError(f"{path.name}: empty CSV")
        names = {f: _KOREAN.get(f.strip(), f.strip().lower()) for f in reader.fieldnames}
        missing = {"date", "open", "high", "low", "close"} - set(names.values())
        if missing:
            raise ValueError(f"{path.name}: missing columns {sorted(missing)}")
        ticker = path.stem.split("_")[0]
        name = ticker
        bars: dict[date, DailyBar] = {}
        for raw in reader:
            row = {names[k]: (v or "") for k, v in raw.items() if k in names}
            try:
                bar = DailyBar(
                    _parse_date(row["date"]),
                    _parse_int(row["open"]),
                    _parse_int(row["high"]),
                    _parse_int(row["low"]),
                    _parse_int(row["close"]),
                    _parse_int(row.get("volume") or "0"),
                )
            except (ValueError, InvalidOperation):
                continue
            if row.get("code"):
                ticker = row["code"].strip().zfill(6)
            if row.get("name"):
                name = row["name"].strip()
            bars[bar.day] = bar
    if not bars:
        raise ValueError(f"{path.name}: no usable rows")
    return ReplaySeries(ticker, name, tuple(bars[d] for d in sorted(bars)))
