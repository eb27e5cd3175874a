from pathlib import Path

import pandas as pd
import pytest

from tools.indicators import (
    MIN_BARS,
    bars_frame,
    compute_indicators,
    latest_snapshot,
    snapshot_at,
)


def _samsung(shared_dir: Path) -> pd.DataFrame:
    df = pd.read_csv(
        shared_dir / "market-data" / "005930_samsung_electronics_1990-2023.csv", dtype={"date": str}
    )
    df = df[(df["date"] >= "20220101") & (df["date"] <= "20231231")].reset_index(drop=True)
    return df[["open", "high", "low", "close", "volume"]].astype(float)


def test_values_match_hand_computation_on_real_prices(shared_dir: Path) -> None:
    ohlcv = _samsung(shared_dir)
    frame = compute_indicators(ohlcv)
    last = snapshot_at(frame, -1)
    closes = ohlcv["close"]
    assert last.complete
    assert last.close == closes.iloc[-1]
    assert last.sma_20 == pytest.approx(closes.iloc[-20:].mean(), rel=1e-12)
    assert last.sma_60 == pytest.approx(closes.iloc[-60:].mean(), rel=1e-12)
    # Wilder RSI by hand: the EMA of gains and losses with alpha 1/14.
    delta = closes.diff()
    gain = delta.clip(lower=0).ewm(alpha=1 / 14, adjust=False, min_periods=14).mean()
    loss = (-delta.clip(upper=0)).ewm(alpha=1 / 14, adjust=False, min_periods=14).mean()
    assert last.rsi_14 == pytest.approx(100 - 100 / (1 + gain.iloc[-1] / loss.iloc[-1]), rel=1e-9)
    assert 0 < last.atr_pct < 0.1  # a large cap's daily range is a few percent at most


def test_indicators_are_causal_so_the_cut_history_gives_the_same_row(shared_dir: Path) -> None:
    ohlcv = _samsung(shared_dir)
    full = compute_indicators(ohlcv)
    for cut in (MIN_BARS, 120, 250, len(ohlcv) - 1):
        cut_frame = compute_indicators(ohlcv.iloc[: cut + 1])
        assert snapshot_at(cut_frame, -1) == snapshot_at(full, cut)


def test_short_history_leaves_long_indicators_undefined() -> None:
    bars = [
        {"open": 100 + i, "high": 101 + i, "low": 99 + i, "close": 100 + i, "volume": 1000}
        for i in range(25)
    ]
    snap = latest_snapshot(bars)
    assert snap.sma_20 is not None and snap.sma_60 is None and not snap.complete
    assert "sma_60" not in snap.evidence() and snap.evidence()["close"] == 124
    assert bars_frame(bars).shape == (25, 5)


def test_no_bars_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="no bars"):
        latest_snapshot([])
