"""The door through which the fundamental analyst reads stored company ratios, as of a day.

Live sessions read the `fundamentals` table (the data layer's `datastore.readers`, which
refreshes it from KIS only when a new report can have appeared); whatever implements it applies
the point-in-time rule, so figures that became known after `day` never come back.
"""

from __future__ import annotations

from datetime import date
from typing import Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict

from tools.kis.models import FinancialRatioRow, StabilityRatioRow


class KisRatios(BaseModel):
    """A company's latest annual KIS ratios known on a day (None: none known)."""

    model_config = ConfigDict(frozen=True)

    financial: FinancialRatioRow | None = None
    stability: StabilityRatioRow | None = None


@runtime_checkable
class CompanyFigures(Protocol):
    """Stored company figures, point in time."""

    async def kis_ratios(self, ticker: str, day: date) -> KisRatios:
        """Return the latest financial and stability ratios known on `day`."""
        ...
