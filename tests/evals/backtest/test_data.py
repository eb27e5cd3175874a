"""Bar sources: CSV layouts and file naming, the market_data table, and the KIS chart client."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from db import migrate
from db.engine import create_db_engine, session_factory, transaction
from db.repositories import MarketDataRepository
from evals.backtest.data import BarDataError, CsvBarSource, DatabaseBarSource, KisBarSource
from tests.evals.backtest.fakes import ChartBar, FakeChartClient


def test_reads_the_shared_layout_and_picks_the_file_covering_the_window(shared_dir: Path) -> None:
    source = CsvBarSource(shared_dir / "market-data")
    old = source.daily_bars("005930", date(2019, 1, 1), date(2023, 12, 31))
    assert len(old) == 1230
    assert old.dates[0] == np.datetime64("2019-01-02")
    assert old.dates[-1] == np.datetime64("2023-12-22")
    recent = source.daily_bars("005930", date(2024, 1, 1), date(2024, 12, 31))
    assert recent.dates[0] == np.datetime64("2024-01-02")  # from the Korean-header file
    assert recent.close.dtype == np.float64 and recent.volume.dtype == np.int64


def test_plain_yahoo_and_korean_layouts(tmp_path: Path) -> None:
    (tmp_path / "111111.csv").write_text(
        "date,open,high,low,close,volume\n2024-01-03,100,110,90,105,10\n2024-01-02,99,101,98,100,5\n"
    )
    (tmp_path / "KS11_index.csv").write_text(
        "Date,Open,High,Low,Close,Adj Close,Volume\n"
        "2017-01-02,null,null,null,null,null,null\n"
        "2017-01-03,2022.5,2030.25,2020.0,2026.16,2026.16,300\n"
    )
    (tmp_path / "222222_pykrx.csv").write_text(
        "날짜,시가,고가,저가,종가,거래량,등락률\n2024-01-02,500,510,490,505,7,1.0\n"
    )
    source = CsvBarSource(tmp_path)
    plain = source.daily_bars("111111", date(2024, 1, 1), date(2024, 1, 31))
    assert plain.dates.tolist() == [date(2024, 1, 2), date(2024, 1, 3)]
    assert plain.close.tolist() == [100.0, 105.0]
    yahoo = source.daily_bars("KS11", date(2017, 1, 1), date(2017, 1, 31))
    assert yahoo.close.tolist() == [2026.16]
    korean = source.daily_bars("222222", date(2024, 1, 1), date(2024, 1, 31))
    assert (korean.open[0], korean.volume[0]) == (500.0, 7)
    with pytest.raises(BarDataError, match=r"for 333333 .*; it holds 111111, 222222, KS11"):
        source.daily_bars("333333", date(2024, 1, 1), date(2024, 1, 31))
    with pytest.raises(BarDataError, match=r"no CSV file for 11111 .*; did you mean 111111\?"):
        source.daily_bars("11111", date(2024, 1, 1), date(2024, 1, 31))
    with pytest.raises(BarDataError, match="no bars between"):
        source.daily_bars("111111", date(2025, 1, 1), date(2025, 1, 31))
    (tmp_path / "444444.csv").write_text("day,price\n2024-01-02,1\n")
    with pytest.raises(BarDataError, match="missing columns"):
        source.daily_bars("444444", date(2024, 1, 1), date(2024, 1, 31))


def test_a_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    bars = CsvBarSource(tmp_path / "nowhere")
    with pytest.raises(BarDataError, match="does not exist"):
        bars.daily_bars("1", date(2024, 1, 1), date(2024, 1, 2))


def test_database_source_reads_daily_bars_in_kst(db_url: str) -> None:
    migrate.upgrade(db_url)
    engine = create_db_engine(db_url)
    factory = session_factory(engine)
    try:
        start = datetime(2024, 1, 2, 0, 0, tzinfo=UTC)  # 09:00 KST
        rows = [
            {"ticker": "005930", "interval": "1d", "bar_time": start + timedelta(days=i),
             "open_krw": 70_000 + i, "high_krw": 71_000, "low_krw": 69_000,
             "close_krw": 70_500 + i, "volume": 1_000 + i, "source": "test"}
            for i in range(5)
        ]  # fmt: skip
        rows.append({**rows[0], "interval": "1m"})
        rows[-1]["bar_time"] = start + timedelta(minutes=1)
        with transaction(factory) as session:
            MarketDataRepository(session).save_bars(rows)
        bars = DatabaseBarSource(factory).daily_bars("005930", date(2024, 1, 3), date(2024, 1, 5))
        assert bars.dates.tolist() == [date(2024, 1, 3), date(2024, 1, 4), date(2024, 1, 5)]
        assert bars.open.tolist() == [70_001.0, 70_002.0, 70_003.0]
        assert bars.volume.tolist() == [1_001, 1_002, 1_003]
        with pytest.raises(BarDataError):
            DatabaseBarSource(factory).daily_bars("000660", date(2024, 1, 1), date(2024, 2, 1))
    finally:
        engine.dispose()


def test_kis_source_sorts_dedupes_and_windows_the_chart() -> None:
    chart = [
        ChartBar(date(2024, 1, 2), 100, 110, 90, 105, 10),
        ChartBar(date(2024, 1, 3), 105, 115, 100, 110, 20),
        ChartBar(date(2024, 1, 3), 1, 1, 1, 1, 1),
        ChartBar(date(2024, 1, 4), 110, 120, 100, 115, 30),
        ChartBar(date(2023, 12, 28), 90, 95, 85, 92, 40),
    ]
    client = FakeChartClient(chart)
    bars = KisBarSource(client).daily_bars("005930", date(2024, 1, 1), date(2024, 1, 31))
    assert client.calls == [("005930", date(2024, 1, 1), date(2024, 1, 31))]
    assert bars.dates.tolist() == [date(2024, 1, 2), date(2024, 1, 3), date(2024, 1, 4)]
    assert bars.close.tolist() == [105.0, 110.0, 115.0]
    assert bars.volume.tolist() == [10, 20, 30]
    with pytest.raises(BarDataError):
        KisBarSource(FakeChartClient([])).daily_bars("005930", date(2024, 1, 1), date(2024, 1, 2))


@pytest.mark.anyio
async def test_kis_source_reads_the_chart_through_the_kis_client(tmp_path: Path) -> None:
    # The real client against the in-process KIS simulator: more than one 100-row page.
    from trader.settings import load_settings
    from trader.wiring.context import kis_client_for

    client = kis_client_for(load_settings(data_dir=tmp_path), demo=True)
    try:
        bars = await KisBarSource(client).fetch_all(
            ["005930", "000660"], date(2024, 1, 2), date(2024, 9, 30)
        )
    finally:
        await client.aclose()
    for series in bars:
        days = series.dates.tolist()
        assert days == sorted(set(days)) and len(days) > 150
        assert days[0] >= date(2024, 1, 2) and days[-1] <= date(2024, 9, 30)
        assert (series.low <= series.close).all() and (series.close <= series.high).all()
    assert [b.ticker for b in bars] == ["005930", "000660"]


def test_database_source_reads_collected_adjusted_bars_and_says_how_to_fill_gaps(
    db_url: str,
) -> None:
    migrate.upgrade(db_url)
    engine = create_db_engine(db_url)
    factory = session_factory(engine)
    try:
        start = datetime(2024, 1, 2, 0, 0, tzinfo=UTC)  # 09:00 KST
        fetched = datetime(2024, 2, 1, tzinfo=UTC)
        rows = [
            {"ticker": "005930", "interval": "1d", "bar_time": start + timedelta(days=i),
             "open_krw": 70_000, "high_krw": 71_000, "low_krw": 69_000, "close_krw": 70_500,
             "volume": 1_000, "source": "kis", "adjustment": "adjusted", "fetched_at": fetched}
            for i in range(4)
        ]  # fmt: skip
        rows[0] |= {"adjustment": "raw", "source": "csv", "fetched_at": None}
        with transaction(factory) as session:
            MarketDataRepository(session).save_bars(rows)
        source = DatabaseBarSource(factory)
        adjusted = source.daily_bars("005930", date(2024, 1, 3), date(2024, 1, 5))
        assert len(adjusted) == 3 and adjusted.warnings == ()
        mixed = source.daily_bars("005930", date(2024, 1, 2), date(2024, 1, 5))
        (warning,) = mixed.warnings
        assert warning.kind == "mixed_adjustment"
        assert "3 adjusted, 1 raw" in warning.message and "trader data collect" in warning.message
        with pytest.raises(BarDataError) as empty:
            source.daily_bars("000660", date(2024, 1, 1), date(2024, 2, 1))
        assert "no daily bars in the database" in str(empty.value)
        assert "`trader data collect --tickers 000660 --since 2024-01-01`" in str(empty.value)
        with pytest.raises(BarDataError) as outside:
            source.daily_bars("005930", date(2023, 1, 2), date(2023, 12, 29))
        assert "it holds 2024-01-02 to 2024-01-05" in str(outside.value)
        assert "trader data collect --tickers 005930 --since 2023-01-02" in str(outside.value)
    finally:
        engine.dispose()
