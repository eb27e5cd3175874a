"""Indicator precompute for replays: every indicator of every bar of a history, computed once.

A replay asks for day t's indicators on each of thousands of days; computing them from the
history each time would cost the window's length every day. The indicators are causal (row i
uses bars 0..i only), so one pass over the whole history gives every day's values, and the
point-in-time market reads row t (`evals.backtest.market_twin`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from evals.backtest.data import Bars
from tools.indicators import COLUMNS, compute_indicators


def indicator_rows(bars: Bars) -> np.ndarray[Any, np.dtype[np.float64]]:
    """Every indicator of `COLUMNS` for each bar of a history (row i uses bars 0..i only)."""
    ohlcv = pd.DataFrame(
        {
            "open": bars.open,
            "high": bars.high,
            "low": bars.low,
            "close": bars.close,
            "volume": bars.volume.astype(np.float64),
        }
    )
    return compute_indicators(ohlcv)[list(COLUMNS)].to_numpy(dtype=np.float64)
