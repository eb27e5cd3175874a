"""Company figures into `fundamentals`, each with the first day a decision may use it.

- KIS financial-ratio and stability-ratio rows (annual, `period` = the settlement month
  `YYYYMM`): KIS does not say when a period's figures appeared, so they count as known from the
  statutory filing deadline (a quarter's report 45 days after its end, the annual report 90
  days after the fiscal year), or from the day we fetched them if that is earlier (basis
  `deadline` or `fetched`).
- OpenDART annual reports (`period` = the fiscal year `YYYY`): dated by their receipt number, so
  known from the day after filing (basis `published`), the rule `tools.econ.snapshot` applies.

`FundamentalsRepository.save` keeps the earliest `known_on` a period was ever given, so a
refetch never moves a known report later.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.orm import Session, sessionmaker

from core.clock import KST
from db.fundamentals import FundamentalsRepository
from db.models import Fundamental
from tools.econ.dart_models import DartAccount, FsDiv, ReportCode
from tools.econ.snapshot import EconSnapshots
from tools.econ.snapshot_models import ACCOUNT_NAMES
from tools.kis.client import KISClient

KIS = "kis"
DART = "dart"
FINANCIAL_RATIO = "financial_ratio"
STABILITY_RATIO = "stability_ratio"
ANNUAL_REPORT = "annual_report"
KIS_KINDS = (FINANCIAL_RATIO, STABILITY_RATIO)

QUARTER_DEADLINE = timedelta(days=45)
"""A quarterly or half-year report is due 45 days after the period ends (자본시장법 §160)."""
ANNUAL_DEADLINE = timedelta(days=90)
"""The annual report is due 90 days after the fiscal year ends (자본시장법 §159)."""
QUARTER_END_MONTHS = (3, 6, 9, 12)


def period_end(period: str) -> date:
    """The last day of a `YYYYMM` settlement month.

    Raises:
        ValueError: `period` is not `YYYYMM`.
    """
    year, month = int(period[:4]), int(period[4:6])
    if len(period) != 6 or not 1 <= month <= 12:
        raise ValueError(f"not a YYYYMM period: {period!r}")
    first_next = date(year + month // 12, month % 12 + 1, 1)
    return first_next - timedelta(days=1)


def deadline_known_on(period: str, *, annual: bool, fetched_on: date) -> tuple[date, str]:
    """The day a KIS row of `period` counts as known, and on what basis.

    The filing deadline after the period, capped at the day it was fetched (a row KIS served
    was public by then, whatever the deadline).
    """
    deadline = period_end(period) + (ANNUAL_DEADLINE if annual else QUARTER_DEADLINE)
    if fetched_on < deadline:
        return fetched_on, "fetched"
    return deadline, "deadline"


def deadlines_between(after: date, through: date) -> list[date]:
    """Filing deadlines in (`after`, `through`]: the days a new KIS report can have appeared.

    Every quarter end is counted (45 days after March, June and September, 90 days after
    December), so a company with any fiscal year end is covered.
    """
    found: list[date] = []
    for year in range(after.year - 1, through.year + 1):
        for month in QUARTER_END_MONTHS:
            end = period_end(f"{year}{month:02d}")
            due = end + (ANNUAL_DEADLINE if month == 12 else QUARTER_DEADLINE)
            if after < due <= through:
                found.append(due)
    return sorted(found)


def needs_refresh(fetched_on: date | None, today: date, max_age: timedelta) -> bool:
    """Whether a ticker's KIS ratios should be fetched again on `today`.

    Never fetched; fetched `max_age` ago or longer; or a filing deadline has passed since the
    day of the last fetch (a new report can have appeared).
    """
    if fetched_on is None:
        return True
    if today - fetched_on >= max_age:
        return True
    return bool(deadlines_between(fetched_on, today))


def _figures(row: BaseModel) -> dict[str, Any]:
    """A KIS row's numbers by field name, decimals as strings (JSON keeps them exact)."""
    return row.model_dump(mode="json", exclude={"period"})


def kis_rows(
    ticker: str,
    kind: str,
    rows: Sequence[Any],
    *,
    fetched_at: datetime,
    fetched_on: date,
) -> list[dict[str, Any]]:
    """`fundamentals` rows of KIS annual ratio rows (one per settlement month)."""
    out: list[dict[str, Any]] = []
    for row in rows:
        try:
            known_on, basis = deadline_known_on(row.period, annual=True, fetched_on=fetched_on)
        except ValueError:
            continue  # a period KIS wrote in another form cannot be dated: not stored
        out.append(
            {
                "ticker": ticker,
                "source": KIS,
                "kind": kind,
                "period": row.period,
                "figures": _figures(row),
                "known_on": known_on,
                "known_basis": basis,
                "fetched_at": fetched_at,
            }
        )
    return out


async def fetch_kis_ratios(
    client: KISClient, ticker: str, *, fetched_at: datetime, fetched_on: date
) -> list[dict[str, Any]]:
    """Fetch a ticker's annual financial and stability ratios as `fundamentals` rows."""
    ratios = await client.financial_ratio(ticker)
    stability = await client.stability_ratio(ticker)
    return [
        *kis_rows(ticker, FINANCIAL_RATIO, ratios, fetched_at=fetched_at, fetched_on=fetched_on),
        *kis_rows(ticker, STABILITY_RATIO, stability, fetched_at=fetched_at, fetched_on=fetched_on),
    ]


def save_rows(sessions: sessionmaker[Session], rows: list[dict[str, Any]]) -> None:
    """Write fundamentals rows in one transaction."""
    if not rows:
        return
    with sessions.begin() as session:
        FundamentalsRepository(session).save(rows)


def save_kis_fetch(
    sessions: sessionmaker[Session],
    ticker: str,
    rows: list[dict[str, Any]],
    fetched_at: datetime,
) -> None:
    """Write one ticker's KIS ratio rows and note the fetch, even an empty one, together."""
    with sessions.begin() as session:
        repo = FundamentalsRepository(session)
        repo.save(rows)
        repo.record_fetch(ticker, KIS, len(rows), fetched_at)


def last_kis_fetch_day(sessions: sessionmaker[Session], ticker: str) -> date | None:
    """The KST day KIS was last asked for a ticker's ratios (None: never)."""
    with sessions() as session:
        fetched = FundamentalsRepository(session).last_asked(ticker, KIS)
    if fetched is None:
        return None
    aware = fetched if fetched.tzinfo else fetched.replace(tzinfo=UTC)
    return aware.astimezone(KST).date()


def stored_dart_years(sessions: sessionmaker[Session], ticker: str) -> set[int]:
    """The fiscal years whose OpenDART annual report is stored for a ticker."""
    with sessions() as session:
        periods = session.scalars(
            sa.select(Fundamental.period).where(
                Fundamental.ticker == ticker,
                Fundamental.source == DART,
                Fundamental.kind == ANNUAL_REPORT,
            )
        )
        return {int(p) for p in periods if p.isdigit()}


def dart_row(
    ticker: str, year: int, accounts: Sequence[DartAccount], fetched_at: datetime
) -> dict[str, Any] | None:
    """The `fundamentals` row of one OpenDART annual report (consolidated when filed)."""
    if not accounts:
        return None
    consolidated = [a for a in accounts if a.fs_div is FsDiv.CONSOLIDATED]
    basis = consolidated or [a for a in accounts if a.fs_div is FsDiv.SEPARATE]
    if not basis:
        return None
    figures: dict[str, Any] = {
        field: next((a.thstrm_amount for a in basis if a.account_nm in names), None)
        for field, names in ACCOUNT_NAMES.items()
    }
    published = basis[0].receipt_date
    figures |= {
        "fs_div": basis[0].fs_div.value,
        "receipt_no": basis[0].rcept_no,
        "published_on": published.isoformat(),
        "currency": basis[0].currency,
    }
    return {
        "ticker": ticker,
        "source": DART,
        "kind": ANNUAL_REPORT,
        "period": str(year),
        "figures": figures,
        # Filed during day d: usable from the start of d + 1 (`snapshot.is_filed_before`).
        "known_on": published + timedelta(days=1),
        "known_basis": "published",
        "fetched_at": fetched_at,
    }


async def fetch_dart_reports(
    econ: EconSnapshots,
    ticker: str,
    years: Sequence[int],
    *,
    fetched_at: datetime,
) -> list[dict[str, Any]]:
    """Fetch the annual reports of `years` (one OpenDART call each) as `fundamentals` rows."""
    corp_code = await econ.corp_code(ticker)
    if corp_code is None:
        return []
    rows: list[dict[str, Any]] = []
    for year in years:
        accounts = await econ.dart.single_accounts(corp_code, year, ReportCode.ANNUAL)
        row = dart_row(ticker, year, accounts, fetched_at)
        if row is not None:
            rows.append(row)
    return rows
