"""What the agents need from economic data, whoever serves it.

Live sessions read ECOS, FRED and OpenDART through `tools.econ.snapshot.EconSnapshots`;
backtests read recorded files through `evals.backtest.fundamentals.RecordedEcon`. Both answer
as of a date, under the same visibility rules, so a replay sees what a live session on that
day would have seen, never more.
"""

from __future__ import annotations

from datetime import date
from typing import Protocol

from tools.econ.snapshot_models import FundamentalsSnapshot, MacroSnapshot


class EconSource(Protocol):
    """Macro state and company fundamentals as public at the start of a date."""

    async def macro(self, as_of: date, *, horizon_days: int = 7) -> MacroSnapshot:
        """Base rate, KRW/USD, CPI and the US releases due within `horizon_days`."""
        ...

    async def fundamentals(self, ticker: str, as_of: date) -> FundamentalsSnapshot | None:
        """Key accounts of the latest annual report filed before `as_of`, or None."""
        ...
