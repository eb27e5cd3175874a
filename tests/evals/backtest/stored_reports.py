"""OpenDART annual report rows of the `fundamentals` table, as `trader data collect` stores them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

FILED_FY2020 = date(2021, 3, 9)
"""005930's FY2020 report is filed on 9 March 2021: known from the 10th."""


def annual_report_row(year: int, filed: date, net_income: int) -> dict[str, Any]:
    """An OpenDART annual report row as `trader data collect` stores it (round figures)."""
    return {
        "ticker": "005930",
        "source": "dart",
        "kind": "annual_report",
        "period": str(year),
        "figures": {
            "revenue": 240_000_000_000_000,
            "operating_income": 36_000_000_000_000,
            "net_income": net_income,
            "total_assets": 380_000_000_000_000,
            "total_liabilities": 100_000_000_000_000,
            "total_equity": 280_000_000_000_000,
            "fs_div": "CFS",
            "receipt_no": f"{filed:%Y%m%d}000123",
            "published_on": filed.isoformat(),
            "currency": "KRW",
        },
        "known_on": filed + timedelta(days=1),
        "known_basis": "published",
        "fetched_at": datetime(2024, 6, 1, tzinfo=UTC),
    }
