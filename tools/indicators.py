"""Technical indicators from the `ta` package, computed once per price history.

Every indicator here is causal: its value on day t uses bars up to t only (rolling windows and
recursive EMAs). That is what lets the backtester compute the frame once for a whole history and
read row t, with the same result as recomputing on the history cut at t; a test holds us to it.

Indicator maths is float (pandas); nothing here is booked money.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
from pydantic import BaseModel, ConfigDict
from ta.momentum import RSIIndicator
from ta.trend import MACD, EMAIndicator, SMAIndicator
from ta.volatility import AverageTrueRange, BollingerBands
from ta.volume import OnBalanceVolumeIndicator

MIN_BARS = 60
"""Bars needed before every indicator below is defined (the 60-day SMA is the longest)."""

COLUMNS: tuple[str, ...] = (
    "close",
    "sma_5",
    "sma_20",
    "sma_60",
    "ema_12",
    "ema_26",
    "rsi_14",
    "macd",
    "macd_signal",
    "macd_hist",
    "bb_upper",
    "bb_lower",
    "bb_pct_b",
    "atr_14",
    "atr_pct",
    "volume_ratio_20",
    "obv_slope_20",
    "return_20d",
    "volatility_20d",
)


class IndicatorSnapshot(BaseModel):
    """The indicator values of one ticker on one day; `None` where history is too short."""

    model_config = ConfigDict(frozen=True)

    close: float
    sma_5: float | None = None
    sma_20: float | None = None
    sma_60: float | None = None
    ema_12: float | None = None
    ema_26: float | None = None
    rsi_14: float | None = None
    macd: float | None = None
    macd_signal: float | None = None
    macd_hist: float | None = None
    bb_upper: float | None = None
    bb_lower: float | None = None
    bb_pct_b: float | None = None
    """Position inside the Bollinger band: 0 at the lower band, 1 at the upper."""
    atr_14: float | None = None
    atr_pct: float | None = None
    """ATR as a fraction of the close: the day's typical range."""
    volume_ratio_20: float | None = None
    """Today's volume over its 20-day average."""
    obv_slope_20: float | None = None
    """Change of on-balance volume over 20 days, scaled by the 20-day average volume."""
    return_20d: float | None = None
    volatility_20d: float | None = None
    """Standard deviation of daily returns over 20 days."""

    @property
    def complete(self) -> bool:
        """True when every indicator is defined (enough history)."""
        return all(getattr(self, c) is not None for c in COLUMNS)

    def evidence(self) -> dict[str, float]:
        """The defined values, as signal evidence.

        Not rounded here: the analyst rounds every evidence number once, to 6 places, when it
        stores it (`agents.analyst.to_evidence`); rounding here as well cost ~5 us a ticker-day
        and changed nothing (rounding to 6 places twice is rounding once).
        """
        return {c: v for c in COLUMNS if (v := getattr(self, c)) is not None}


def bars_frame(bars: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """Build an OHLCV frame (float columns, oldest first) from bar mappings.

    Each mapping needs `open`, `high`, `low`, `close`, `volume` (any numeric type).
    """
    frame = pd.DataFrame(
        {
            "open": [float(b["open"]) for b in bars],
            "high": [float(b["high"]) for b in bars],
            "low": [float(b["low"]) for b in bars],
            "close": [float(b["close"]) for b in bars],
            "volume": [float(b["volume"]) for b in bars],
        }
    )
    return frame


def compute_indicators(ohlcv: pd.DataFrame) -> pd.DataFrame:
    """Compute every indicator for a whole history; one row per input bar.

    Args:
        ohlcv: columns open, high, low, close, volume (floats), oldest row first.
    """
    close, high, low, volume = ohlcv["close"], ohlcv["high"], ohlcv["low"], ohlcv["volume"]
    out = pd.DataFrame(index=ohlcv.index)
    out["close"] = close
    for window in (5, 20, 60):
        out[f"sma_{window}"] = SMAIndicator(close, window).sma_indicator()
    out["ema_12"] = EMAIndicator(close, 12).ema_indicator()
    out["ema_26"] = EMAIndicator(close, 26).ema_indicator()
    out["rsi_14"] = RSIIndicator(close, 14).rsi()
    macd = MACD(close, window_slow=26, window_fast=12, window_sign=9)
    out["macd"] = macd.macd()
    out["macd_signal"] = macd.macd_signal()
    out["macd_hist"] = macd.macd_diff()
    bands = BollingerBands(close, window=20, window_dev=2)
    out["bb_upper"] = bands.bollinger_hband()
    out["bb_lower"] = bands.bollinger_lband()
    out["bb_pct_b"] = bands.bollinger_pband()
    if len(ohlcv) > 14:
        atr = AverageTrueRange(high, low, close, window=14).average_true_range()
        # ta fills the warm-up rows with 0; undefined is the honest value there.
        out["atr_14"] = atr.where(pd.Series(range(len(atr)), index=atr.index) >= 14)
    else:
        out["atr_14"] = math.nan
    out["atr_pct"] = out["atr_14"] / close
    avg_volume = volume.rolling(20, min_periods=20).mean()
    out["volume_ratio_20"] = volume / avg_volume
    obv = OnBalanceVolumeIndicator(close, volume).on_balance_volume()
    out["obv_slope_20"] = (obv - obv.shift(20)) / avg_volume
    returns = close.pct_change()
    out["return_20d"] = close / close.shift(20) - 1.0
    out["volatility_20d"] = returns.rolling(20, min_periods=20).std()
    return out.replace([math.inf, -math.inf], math.nan)


def snapshot_at(indicators: pd.DataFrame, position: int) -> IndicatorSnapshot:
    """Read the snapshot of row `position` (0-based; negative counts from the end)."""
    row = indicators.iloc[position]
    values: dict[str, float | None] = {}
    for column in COLUMNS:
        value = float(row[column])
        values[column] = None if math.isnan(value) else value
    close = values.pop("close")
    if close is None:
        raise ValueError("the bar has no close price")
    return IndicatorSnapshot(close=close, **values)


def latest_snapshot(bars: Sequence[Mapping[str, Any]]) -> IndicatorSnapshot:
    """Compute indicators on a history (oldest first) and return the last day's snapshot."""
    if not bars:
        raise ValueError("no bars to compute indicators from")
    return snapshot_at(compute_indicators(bars_frame(bars)), -1)
