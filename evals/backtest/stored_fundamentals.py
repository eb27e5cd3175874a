"""The `fundamentals` table as a replay's company figures, point in time.

`trader data collect` stores each OpenDART annual report with the day it became known
(`known_on`, the day after filing). A replay reads them through
`FundamentalsRepository.known_by(ticker, day)`, the one place the point-in-time rule lives,
so a report known after day t never reaches day t's decision, exactly as in a live session
that reads the same table. `StoredFundamentals` answers the `EconSource` protocol the
fundamental analyst asks (`fundamentals`, and `macro` from the recorded macro file given, if
any), like `RecordedEcon` does for CSV files.

Rows read: source `dart`, kind `annual_report`, period the fiscal year `YYYY`, figures named as
`FundamentalsSnapshot`'s accounts (`revenue`, `operating_income`, `net_income`, `total_assets`,
`total_liabilities`, `total_equity`, whole KRW) plus `fs_div`, `receipt_no`, `published_on`,
`currency`. Live rules apply on top: only the fiscal years a live lookup searches (the three
before the replayed day's year).

`StoredKisRatios` reads the KIS financial and stability ratios `trader data collect` stores
(source `kis`) as a live session does (`datastore.readers.known_kis_ratios`), for the fundamental
analyst's `CompanyFigures`: the replayed day's PER and PBR come from that day's price over the
EPS and BPS known then, as a live session's do.

Cost: one query per ticker lists the days on which its stored facts changed; `known_by` is
asked once per such day (its answer cannot change between them), not once per replayed day.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from datastore.readers import known_kis_ratios
from db.fundamentals import FundamentalsRepository
from db.models import Fundamental
from evals.backtest.fundamentals import RecordedEcon
from tools.company_figures import KisRatios
from tools.econ.dart_models import FsDiv, ReportCode
from tools.econ.snapshot import annual_report_years
from tools.econ.snapshot_models import ACCOUNT_NAMES, FundamentalsSnapshot, MacroSnapshot

DART = "dart"
KIS = "kis"
ANNUAL_REPORT = "annual_report"
SOURCE_NAME = "db:fundamentals"


def stored_report_tickers(
    sessions: Callable[[], Session], tickers: Iterable[str], *, source: str = DART
) -> list[str]:
    """The tickers among `tickers` with at least one stored row of `source`.

    `dart`: an annual report; `kis`: KIS ratios.
    """
    wanted = list(dict.fromkeys(tickers))
    with sessions() as session:
        found = set(
            session.scalars(
                sa.select(Fundamental.ticker)
                .where(Fundamental.ticker.in_(wanted), Fundamental.source == source)
                .distinct()
            )
        )
    return [t for t in wanted if t in found]


def _change_days(session: Session, ticker: str, source: str, kind: str | None = None) -> list[date]:
    """The days on which a ticker's stored facts of `source` (and `kind`) became known."""
    stmt = sa.select(Fundamental.known_on).where(
        Fundamental.ticker == ticker, Fundamental.source == source
    )
    if kind is not None:
        stmt = stmt.where(Fundamental.kind == kind)
    return list(session.scalars(stmt.distinct().order_by(Fundamental.known_on)))


def _last_change(changes: list[date] | None, day: date) -> date | None:
    """The latest change on or before `day` (`known_by(day)` answers as on that day)."""
    if not changes:
        return None
    n = bisect.bisect_right(changes, day)
    return changes[n - 1] if n else None


class StoredKisRatios:
    """`CompanyFigures` over the KIS ratios stored in `fundamentals`, for a replay.

    Read only: a replay never asks KIS, so nothing is refreshed.
    """

    source = SOURCE_NAME + " (kis ratios)"

    def __init__(self, sessions: Callable[[], Session], tickers: Iterable[str]) -> None:
        """Read the stored KIS ratios of `tickers` through `sessions`."""
        self._sessions = sessions
        with sessions() as session:
            self._changes = {
                ticker: days
                for ticker in dict.fromkeys(tickers)
                if (days := _change_days(session, ticker, KIS))
            }
        self._known: dict[tuple[str, date], KisRatios] = {}

    @property
    def tickers(self) -> frozenset[str]:
        """The tickers with stored KIS ratios."""
        return frozenset(self._changes)

    def kis_ratios_on(self, ticker: str, day: date) -> KisRatios:
        """Synchronous `kis_ratios`."""
        last_change = _last_change(self._changes.get(ticker), day)
        if last_change is None:
            return KisRatios()
        key = (ticker, last_change)
        if key not in self._known:
            with self._sessions() as session:
                self._known[key] = known_kis_ratios(session, ticker, last_change)
        return self._known[key]

    async def kis_ratios(self, ticker: str, day: date) -> KisRatios:
        """The latest annual ratios known on `day` (none known: empty)."""
        return self.kis_ratios_on(ticker, day)


def _int(value: Any) -> int | None:
    if value is None or value == "":
        return None
    return int(value)


def snapshot_of(row: Fundamental, as_of: date) -> FundamentalsSnapshot | None:
    """The live model of a stored annual report as seen on `as_of` (None outside live rules)."""
    if not row.period.isdigit() or int(row.period) not in annual_report_years(as_of):
        return None
    figures = row.figures
    published = figures.get("published_on")
    return FundamentalsSnapshot(
        corp_code=str(figures.get("corp_code", "")),
        stock_code=row.ticker,
        as_of=as_of,
        fiscal_year=int(row.period),
        report_code=ReportCode.ANNUAL,
        fs_div=FsDiv(figures.get("fs_div") or FsDiv.CONSOLIDATED.value),
        receipt_no=str(figures.get("receipt_no", "")),
        # Without the filing date, the day before it became known is the latest it can be.
        published_on=date.fromisoformat(published) if published else row.known_on,
        currency=str(figures.get("currency") or "KRW"),
        **{name: _int(figures.get(name)) for name in ACCOUNT_NAMES},
    )


class StoredFundamentals:
    """`EconSource` over the `fundamentals` table (annual reports) and recorded macro values."""

    def __init__(
        self,
        sessions: Callable[[], Session],
        tickers: Iterable[str],
        *,
        macro: RecordedEcon | None = None,
    ) -> None:
        """Read the reports of `tickers` through `sessions`; macro values from `macro`.

        `macro` is the recorded macro file (`--macro`); None: every macro series is a named gap,
        as in `RecordedEcon` without one.
        """
        self._sessions = sessions
        self._macro = macro if macro is not None else RecordedEcon()
        self.source = SOURCE_NAME + (f" + {self._macro.source}" if macro is not None else "")
        with sessions() as session:
            self._changes = {
                ticker: days
                for ticker in dict.fromkeys(tickers)
                if (days := _change_days(session, ticker, DART, ANNUAL_REPORT))
            }
        self._known: dict[tuple[str, date], Fundamental | None] = {}

    @property
    def tickers(self) -> frozenset[str]:
        """The tickers with at least one stored annual report."""
        return frozenset(self._changes)

    @property
    def has_macro(self) -> bool:
        """Whether macro values were recorded (ETFs are judged on macro alone)."""
        return self._macro.has_macro

    def _report_known_by(self, ticker: str, day: date) -> Fundamental | None:
        """The latest annual report known on `day`, asked of `known_by` once per change."""
        last_change = _last_change(self._changes.get(ticker), day)
        if last_change is None:
            return None
        key = (ticker, last_change)
        if key not in self._known:
            with self._sessions() as session:
                rows = FundamentalsRepository(session).known_by(ticker, last_change)
                report = next(
                    (r for r in rows if (r.source, r.kind) == (DART, ANNUAL_REPORT)), None
                )
                if report is not None:
                    session.expunge(report)
            self._known[key] = report
        return self._known[key]

    async def fundamentals(self, ticker: str, as_of: date) -> FundamentalsSnapshot | None:
        """The latest annual report known on `as_of` (`known_on <= as_of`), or None."""
        return self.fundamentals_on(ticker, as_of)

    def fundamentals_on(self, ticker: str, as_of: date) -> FundamentalsSnapshot | None:
        """Synchronous `fundamentals`."""
        report = self._report_known_by(ticker, as_of)
        return snapshot_of(report, as_of) if report is not None else None

    async def macro(self, as_of: date, *, horizon_days: int = 7) -> MacroSnapshot:
        """The recorded macro values usable on `as_of` (named gaps without a macro file)."""
        return self._macro.macro_on(as_of, horizon_days=horizon_days)
