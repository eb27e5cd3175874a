"""Daily bars for the backtester, and the sources that load them.

A `Bars` holds one ticker's history as read-only numpy arrays, loaded once per run; the engine
and the point-in-time view only slice them. Sources implement `DailyBarSource`:

- `CsvBarSource`: a folder with one file per ticker, `<ticker>.csv` or `<ticker>_<anything>.csv`.
  The layouts understood, and which bad cells are errors and which repairs warnings, are in
  `evals.backtest.price_csv`.
- `DatabaseBarSource`: the `market_data` table (`1d` bars, as `trader data collect` writes
  them: KIS's adjusted daily chart) through `MarketDataRepository`.
- `KisBarSource`: the KIS daily chart through the KIS client (`daily_bars(ticker, start, end)`).
"""

from __future__ import annotations

import asyncio
import difflib
import logging
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Protocol
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt
from sqlalchemy.orm import Session

from db.models import MarketBar
from db.repositories import MarketDataRepository
from evals.backtest.files import BarDataError, DataWarning
from evals.backtest.price_csv import PriceFile, read_price_file

logger = logging.getLogger(__name__)

KST = ZoneInfo("Asia/Seoul")
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
DateArray = npt.NDArray[np.datetime64]


@dataclass(frozen=True, slots=True, eq=False)
class Bars:
    """One ticker's daily bars, oldest first, as read-only arrays (dates are `datetime64[D]`).

    `warnings` are what the loader repaired or doubts (dropped rows, suspected splits).
    """

    ticker: str
    dates: DateArray
    open: FloatArray
    high: FloatArray
    low: FloatArray
    close: FloatArray
    volume: IntArray
    warnings: tuple[DataWarning, ...] = ()

    def __post_init__(self) -> None:
        n = len(self.dates)
        arrays = (self.open, self.high, self.low, self.close, self.volume)
        if any(len(a) != n for a in arrays):
            raise BarDataError(f"{self.ticker}: OHLCV arrays have different lengths")
        if n > 1 and not bool(np.all(self.dates[1:] > self.dates[:-1])):
            raise BarDataError(f"{self.ticker}: dates are not strictly increasing")
        for a in (self.dates, *arrays):
            a.flags.writeable = False  # strategies get slices of these; nobody may edit history

    @classmethod
    def from_columns(
        cls,
        ticker: str,
        dates: Iterable[date] | DateArray,
        open_: Iterable[float],
        high: Iterable[float],
        low: Iterable[float],
        close: Iterable[float],
        volume: Iterable[int],
    ) -> Bars:
        """Build bars from plain sequences (copies them into fresh arrays)."""
        return cls(
            ticker=ticker,
            dates=np.array(list(dates) if not isinstance(dates, np.ndarray) else dates).astype(
                "datetime64[D]"
            ),
            open=np.asarray(list(open_), dtype=np.float64),
            high=np.asarray(list(high), dtype=np.float64),
            low=np.asarray(list(low), dtype=np.float64),
            close=np.asarray(list(close), dtype=np.float64),
            volume=np.asarray(list(volume), dtype=np.int64),
        )

    def __len__(self) -> int:
        return len(self.dates)

    def between(self, start: date | None = None, end: date | None = None) -> Bars:
        """Return the bars with start <= date <= end (copies, so the result owns its arrays)."""
        lo = 0 if start is None else int(np.searchsorted(self.dates, np.datetime64(start, "D")))
        hi = (
            len(self)
            if end is None
            else int(np.searchsorted(self.dates, np.datetime64(end, "D"), side="right"))
        )
        return self._take(slice(lo, hi))

    def _take(self, sel: slice) -> Bars:
        return Bars(
            ticker=self.ticker,
            dates=self.dates[sel].copy(),
            open=self.open[sel].copy(),
            high=self.high[sel].copy(),
            low=self.low[sel].copy(),
            close=self.close[sel].copy(),
            volume=self.volume[sel].copy(),
            warnings=self.warnings,
        )


class DailyBarSource(Protocol):
    """Anything that returns a ticker's daily bars between two dates (inclusive)."""

    def daily_bars(self, ticker: str, start: date, end: date) -> Bars:
        """Return the bars of `ticker` dated start..end; raise `BarDataError` if there are none."""
        ...


def load_universe(
    source: DailyBarSource, tickers: Sequence[str], start: date, end: date
) -> list[Bars]:
    """Load every ticker from one source, in the order given."""
    return [source.daily_bars(t, start, end) for t in tickers]


# --- CSV files --------------------------------------------------------------------------------


class CsvBarSource:
    """Daily bars from a folder of CSV files, one (or more) per ticker.

    Files named `<ticker>.csv` or `<ticker>_<anything>.csv` belong to a ticker. When several
    files match (e.g. a long history and a recent download), they are not merged (sources
    disagree on volumes, and a recent file may end with an intraday snapshot): the file with
    the most bars inside the requested window is used, the first by name on a tie.
    """

    def __init__(self, folder: Path | str) -> None:
        """Read from `folder` (checked when bars are requested)."""
        self.folder = Path(folder)

    def files_for(self, ticker: str) -> list[Path]:
        """Return the files holding `ticker`, sorted by name."""
        if not self.folder.is_dir():
            raise BarDataError(f"data folder {self.folder} does not exist")
        exact = self.folder / f"{ticker}.csv"
        found = sorted(self.folder.glob(f"{ticker}_*.csv"))
        return ([exact] if exact.is_file() else []) + found

    def tickers(self) -> list[str]:
        """Return the tickers the folder holds (the file name up to its first `_`)."""
        return sorted({p.stem.split("_", 1)[0] for p in self.folder.glob("*.csv")})

    def _hint(self, ticker: str) -> str:
        known = self.tickers()
        close = difflib.get_close_matches(ticker, known, n=3, cutoff=0.6)
        if close:
            return f"; did you mean {' or '.join(close)}?"
        if known:
            shown = ", ".join(known[:10]) + (" ..." if len(known) > 10 else "")
            return f"; it holds {shown}"
        return "; it holds no CSV file"

    def read_file(self, path: Path) -> PriceFile:
        """Read and check one file of the folder (errors name file, line and column)."""
        return read_price_file(path)

    def file_bars(self, file: PriceFile, ticker: str, start: date, end: date) -> Bars:
        """The bars of `file` dated start..end, with the file's warnings and those of the window."""
        sel = file.window(start, end)
        values = file.values[sel]
        return Bars(
            ticker=ticker,
            dates=file.dates[sel].copy(),
            open=values[:, 0].copy(),
            high=values[:, 1].copy(),
            low=values[:, 2].copy(),
            close=values[:, 3].copy(),
            volume=values[:, 4].astype(np.int64),
            warnings=(*file.warnings, *file.limit_warnings(sel)),
        )

    def daily_bars(self, ticker: str, start: date, end: date) -> Bars:
        """Return the bars of `ticker` dated start..end.

        Raises:
            BarDataError: no file, or no bar in the window; `PriceFileError` (a `BarDataError`)
                for a bad cell or row, naming the file, line and column.
        """
        files = self.files_for(ticker)
        if not files:
            raise BarDataError(f"no CSV file for {ticker} in {self.folder}{self._hint(ticker)}")
        chosen: PriceFile | None = None
        best = 0
        for path in files:
            file = self.read_file(path)
            sel = file.window(start, end)
            if sel.stop - sel.start > best:
                chosen, best = file, sel.stop - sel.start
        if len(files) > 1 and chosen is not None:
            logger.info("%s: using %s of %d matching files", ticker, chosen.path.name, len(files))
        if chosen is None:
            raise BarDataError(f"{ticker}: no bars between {start} and {end} in {self.folder}")
        return self.file_bars(chosen, ticker, start, end)


# --- the database ----------------------------------------------------------------------------


COLLECT_HINT = "fill it with `trader data collect --tickers {ticker} --since {start}`"
"""How a user fills the `market_data` table (the collector writes KIS's adjusted daily chart)."""


class DatabaseBarSource:
    """Daily bars from the `market_data` table (interval `1d`); bar times are read in KST.

    The collector (`trader data collect`) writes KIS's adjusted daily chart (`adjustment`
    `adjusted`: back-adjusted for splits and rights issues, and rewritten when KIS re-adjusts
    the past), the same prices a live session reads. Bars imported as traded (`raw`) are read
    too; a window mixing both bases is read with a warning, since a split before the adjusted
    part would look like a crash.
    """

    def __init__(self, session_factory: Callable[[], Session]) -> None:
        """Open a short session per request from `session_factory`."""
        self.session_factory = session_factory

    def daily_bars(self, ticker: str, start: date, end: date) -> Bars:
        """Return the stored bars of `ticker` whose KST trading date is start..end.

        Raises:
            BarDataError: the table has no bar of `ticker` in the window (the message says how
                to fill it).
        """
        hint = COLLECT_HINT.format(ticker=ticker, start=start.isoformat())
        with self.session_factory() as session:
            rows = MarketDataRepository(session).bars(ticker, "1d")
            if not rows:
                raise BarDataError(f"{ticker}: no daily bars in the database; {hint}")
            picked = [(r.bar_time.astimezone(KST).date(), r) for r in rows]
            picked = [(d, r) for d, r in picked if start <= d <= end]
            if not picked:
                first, last = picked_span(rows)
                raise BarDataError(
                    f"{ticker}: no daily bars between {start} and {end} in the database (it "
                    f"holds {first} to {last}); {hint}"
                )
            bars = Bars.from_columns(
                ticker,
                [d for d, _ in picked],
                [r.open_krw for _, r in picked],
                [r.high_krw for _, r in picked],
                [r.low_krw for _, r in picked],
                [r.close_krw for _, r in picked],
                [r.volume for _, r in picked],
            )
            bases = Counter(r.adjustment for _, r in picked)
        if len(bases) > 1:
            counts = ", ".join(f"{n} {basis}" for basis, n in sorted(bases.items()))
            warning = DataWarning(
                "mixed_adjustment",
                f"db:market_data {ticker}",
                f"the bars mix price bases ({counts}); a split or rights issue before the "
                f"adjusted bars is not adjusted for: {hint} to rewrite them adjusted",
            )
            bars = replace(bars, warnings=(*bars.warnings, warning))
        return bars


def picked_span(rows: Sequence[MarketBar]) -> tuple[date, date]:
    """The first and last KST trading date of stored bars (oldest first)."""
    return (
        rows[0].bar_time.astimezone(KST).date(),
        rows[-1].bar_time.astimezone(KST).date(),
    )


# --- the KIS daily chart ---------------------------------------------------------------------


class DailyChartBar(Protocol):
    """One daily bar as the KIS client returns it (`tools.kis.models_quotes.DailyBar`)."""

    @property
    def day(self) -> date:
        """The trading date (KST)."""
        ...

    @property
    def open(self) -> int:
        """Opening price, KRW."""
        ...

    @property
    def high(self) -> int:
        """High, KRW."""
        ...

    @property
    def low(self) -> int:
        """Low, KRW."""
        ...

    @property
    def close(self) -> int:
        """Close, KRW."""
        ...

    @property
    def volume(self) -> int:
        """Shares traded."""
        ...


class DailyChart(Protocol):
    """A daily chart: its bars (`tools.kis.models_quotes.DailyChart`)."""

    @property
    def bars(self) -> Sequence[DailyChartBar]:
        """The bars, in any order."""
        ...


class DailyChartClient(Protocol):
    """The slice of the KIS client (`tools.kis.client.KISClient`) this source needs."""

    async def daily_bars(self, ticker: str, start: date, end: date) -> DailyChart:
        """Return daily bars start..end (paging back 100 rows a call is the client's business)."""
        ...


class KisBarSource:
    """Daily bars from the KIS daily chart, through the KIS client (or any `DailyChartClient`).

    The client is async; `fetch` and `fetch_all` are the async entry points. `daily_bars` (the
    `DailyBarSource` method) runs `fetch` on a fresh event loop, so call it only where no loop
    is running and only with a client not yet bound to another loop; `fetch_all` loads a whole
    universe on one loop (what the CLI does).
    """

    def __init__(self, client: DailyChartClient) -> None:
        """Wrap a chart client (the KIS client, or a fake in tests)."""
        self.client = client

    async def fetch(self, ticker: str, start: date, end: date) -> Bars:
        """Fetch, sort and de-duplicate the bars of `ticker` dated start..end."""
        chart = await self.client.daily_bars(ticker, start, end)
        by_day: dict[date, DailyChartBar] = {}
        for bar in chart.bars:
            if start <= bar.day <= end:
                by_day.setdefault(bar.day, bar)
        if not by_day:
            raise BarDataError(f"{ticker}: the chart returned no bars between {start} and {end}")
        days = sorted(by_day)
        bars = [by_day[d] for d in days]
        return Bars.from_columns(
            ticker,
            days,
            [b.open for b in bars],
            [b.high for b in bars],
            [b.low for b in bars],
            [b.close for b in bars],
            [b.volume for b in bars],
        )

    async def fetch_all(self, tickers: Sequence[str], start: date, end: date) -> list[Bars]:
        """Fetch every ticker, in the order given (the client paces the calls)."""
        return [await self.fetch(t, start, end) for t in tickers]

    def daily_bars(self, ticker: str, start: date, end: date) -> Bars:
        """Return the bars of `ticker` dated start..end (runs its own event loop)."""
        return asyncio.run(self.fetch(ticker, start, end))
