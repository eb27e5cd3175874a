"""`trader backtest` end to end: real data, files written, database storage, clear errors."""

from __future__ import annotations

import csv
import re
from contextlib import ExitStack
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from langchain_core.language_models import BaseChatModel
from typer.testing import CliRunner

from db import migrate
from db.engine import create_db_engine, session_factory, transaction
from db.fundamentals import FundamentalsRepository
from db.models import BacktestRun, BacktestTrade
from db.repositories import MarketDataRepository
from evals.backtest.data import CsvBarSource
from tests.evals.backtest.stored_reports import FILED_FY2020, annual_report_row
from trader.cli.main import app
from trader.settings import Settings

runner = CliRunner()
REFERENCE = "market-data/reference/sma10_30_005930_2019-2023_backtesting-0.6.6_trades.csv"


def test_parity_run_prints_the_reference_equity_and_writes_outputs(
    shared_dir: Path, tmp_path: Path, sqlite_url: str
) -> None:
    migrate.upgrade(sqlite_url)
    trades, report = tmp_path / "trades.csv", tmp_path / "report.html"
    args = [
        "backtest", "--data", str(shared_dir / "market-data"), "--tickers", "005930",
        "--start", "2019-01-01", "--end", "2023-12-31", "--strategy", "sma",
        "--fast", "10", "--slow", "30", "--cash", "10000000", "--parity",
        "--trades-csv", str(trades), "--report", str(report), "--save", "--db-url", sqlite_url,
    ]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "final equity 12,433,369.2475 KRW" in result.output
    with trades.open() as fh:
        ours = list(csv.DictReader(fh))
    with (shared_dir / REFERENCE).open() as fh:
        ref = list(csv.DictReader(fh))
    keys = ("entry_fill_date", "exit_fill_date")
    assert [tuple(r[k] for k in keys) for r in ours] == [tuple(r[k] for k in keys) for r in ref]
    assert [int(r["qty"]) for r in ours] == [int(r["qty"]) for r in ref]
    assert "<svg" in report.read_text()
    engine = create_db_engine(sqlite_url)
    try:
        with engine.connect() as conn:
            assert conn.scalar(sa.select(sa.func.count()).select_from(BacktestRun)) == 1
            assert conn.scalar(sa.select(sa.func.count()).select_from(BacktestTrade)) == 22
    finally:
        engine.dispose()


def test_krx_costs_by_default_and_no_tax_flag(shared_dir: Path) -> None:
    base = [
        "backtest", "--data", str(shared_dir / "market-data"), "--tickers", "005930",
        "--start", "2019-01-01", "--end", "2023-12-31",
    ]  # fmt: skip
    taxed = runner.invoke(app, base)
    untaxed = runner.invoke(app, [*base, "--no-tax"])
    assert taxed.exit_code == 0 and untaxed.exit_code == 0, taxed.output + untaxed.output
    assert "final equity 11,842,831.0000 KRW (KRX costs)" in taxed.output
    assert "(KRX costs)" in untaxed.output and "11,842,831" not in untaxed.output


def test_reads_bars_from_the_database(sqlite_url: str) -> None:
    migrate.upgrade(sqlite_url)
    engine = create_db_engine(sqlite_url)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    rows = [
        {"ticker": "123456", "interval": "1d", "bar_time": start + timedelta(days=i),
         "open_krw": 1_000 + i, "high_krw": 1_100 + i, "low_krw": 900 + i,
         "close_krw": 1_000 + i, "volume": 10, "source": "test"}
        for i in range(40)
    ]  # fmt: skip
    try:
        with transaction(session_factory(engine)) as session:
            MarketDataRepository(session).save_bars(rows)
    finally:
        engine.dispose()
    args = ["backtest", "--tickers", "123456", "--start", "2024-01-01", "--end", "2024-12-31",
            "--fast", "3", "--slow", "5", "--db-url", sqlite_url]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "final equity 10,000,000.0000 KRW" in result.output  # a steady rise never crosses


def test_agents_strategy_replays_the_session_graph_end_to_end(
    shared_dir: Path, tmp_path: Path
) -> None:
    trades, report = tmp_path / "trades.csv", tmp_path / "report.html"
    args = ["backtest", "--data", str(shared_dir / "market-data"), "--tickers", "005930,000660",
            "--start", "2021-01-01", "--end", "2021-12-31", "--strategy", "agents",
            "--cash", "100000000", "--trades-csv", str(trades),
            "--report", str(report)]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    final = re.search(r"final equity ([0-9,]+)\.0000 KRW \(KRX costs\)", result.output)
    assert final is not None, result.output
    with trades.open() as fh:
        rows = list(csv.DictReader(fh))
    assert rows and {r["entry_fill_date"][:4] for r in rows} == {"2021"}
    assert "<svg" in report.read_text()
    # The same replay twice gives the same book: the graph decides from the data alone.
    again = runner.invoke(app, args)
    assert again.exit_code == 0 and final.group(0) in again.output


def test_llm_flag_needs_the_agents_strategy(shared_dir: Path) -> None:
    args = ["backtest", "--data", str(shared_dir / "market-data"), "--tickers", "005930",
            "--start", "2019-01-01", "--end", "2019-12-31", "--llm"]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 2 and "--llm is for --strategy agents" in result.output


def test_volume_share_caps_fills_and_is_checked(shared_dir: Path, tmp_path: Path) -> None:
    base = [
        "backtest", "--data", str(shared_dir / "market-data"), "--tickers", "005930",
        "--start", "2019-01-01", "--end", "2023-12-31",
    ]  # fmt: skip
    uncapped = runner.invoke(app, [*base, "--volume-share", "0"])
    # Samsung trades millions of shares a day: a millionth of that is a few shares per order,
    # far below the ~150 the strategy buys, so fills are partial and the result differs.
    tiny = runner.invoke(app, [*base, "--volume-share", "0.000001"])
    assert uncapped.exit_code == 0 and tiny.exit_code == 0, uncapped.output + tiny.output
    assert "final equity 11,842,831.0000 KRW (KRX costs)" in uncapped.output
    assert "(KRX costs)" in tiny.output and "11,842,831" not in tiny.output
    for bad, message in (("1.5", "must be in [0, 1]"), ("a tenth", "must be a share like 0.1")):
        result = runner.invoke(app, [*base, "--volume-share", bad])
        assert result.exit_code == 2 and message in result.output, result.output
    parity = runner.invoke(app, [*base, "--parity", "--volume-share", "0.1"])
    assert parity.exit_code == 2 and "--parity runs without a volume cap" in parity.output


def test_bad_input_is_one_clear_line(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        ["backtest", "--data", str(tmp_path), "--tickers", "999999", "--start", "2024-01-01",
         "--end", "2024-02-01"],
    )  # fmt: skip
    assert result.exit_code == 2
    assert "no CSV file for 999999" in result.output
    bad_date = runner.invoke(
        app, ["backtest", "--data", str(tmp_path), "--tickers", "1", "--start", "2024-13-01",
              "--end", "2024-02-01"],
    )  # fmt: skip
    assert bad_date.exit_code == 2 and "--start must be a date" in bad_date.output


def test_bars_through_the_kis_daily_chart_of_the_demo_market(tmp_path: Path) -> None:
    # No KIS keys in paper mode: --kis reads the built-in demo market through the KIS client.
    trades = tmp_path / "trades.csv"
    args = [
        "backtest", "--kis", "--tickers", "005930", "--start", "2024-01-02",
        "--end", "2024-12-30", "--strategy", "sma", "--fast", "5", "--slow", "20",
        "--trades-csv", str(trades),
    ]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert re.search(r"final equity [\d,.]+ KRW", result.output)
    with trades.open() as fh:
        rows = list(csv.DictReader(fh))
    assert rows and all(r["ticker"] == "005930" for r in rows)


def test_data_and_kis_together_is_a_clear_error(tmp_path: Path) -> None:
    args = ["backtest", "--kis", "--data", str(tmp_path), "--tickers", "005930",
            "--start", "2024-01-02", "--end", "2024-02-01"]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 2 and "--data and --kis" in result.output


def _final_equity(output: str) -> str:
    found = re.search(r"final equity ([0-9,.]+) KRW", output)
    assert found is not None, output
    return found.group(1)


def test_an_etf_pays_no_sell_tax(shared_dir: Path) -> None:
    base = ["backtest", "--data", str(shared_dir / "market-data"), "--tickers", "069500",
            "--start", "2019-01-01", "--end", "2023-12-31"]  # fmt: skip
    runs = {
        extra: runner.invoke(app, base + list(extra))
        for extra in ((), ("--no-tax",), ("--etf", "069500"), ("--etf", "069500", "--no-tax"))
    }
    assert all(r.exit_code == 0 for r in runs.values()), [r.output for r in runs.values()]
    equity = {extra: _final_equity(r.output) for extra, r in runs.items()}
    # As a stock the sells pay the tax; as an ETF dropping the tax changes nothing.
    assert equity[()] != equity[("--no-tax",)]
    assert equity[("--etf", "069500")] == equity[("--etf", "069500", "--no-tax")]


def test_market_flags_name_only_the_run_s_tickers(tmp_path: Path) -> None:
    base = ["backtest", "--data", str(tmp_path), "--tickers", "005930,069500",
            "--start", "2021-01-01", "--end", "2021-12-31"]  # fmt: skip
    unknown = runner.invoke(app, [*base, "--etf", "069500,102110"])
    assert unknown.exit_code == 2
    assert "--etf names 102110, which is not in --tickers" in unknown.output
    both = runner.invoke(app, [*base, "--etf", "069500", "--kosdaq", "069500"])
    assert both.exit_code == 2 and "069500 is given to both --etf and --kosdaq" in both.output


RECORDED = Path(__file__).resolve().parents[1] / "graphs" / "recorded_econ"


def test_recorded_fundamentals_change_the_agents_decisions(shared_dir: Path) -> None:
    base = ["backtest", "--data", str(shared_dir / "market-data"),
            "--tickers", "005930,000660,069500", "--etf", "069500", "--kosdaq", "000660",
            "--start", "2021-01-01", "--end", "2021-09-30", "--strategy", "agents",
            "--cash", "100000000"]  # fmt: skip
    plain = runner.invoke(app, base)
    informed = runner.invoke(
        app,
        [*base, "--fundamentals", str(RECORDED / "filings.csv"),
         "--macro", str(RECORDED / "macro.csv")],
    )  # fmt: skip
    assert plain.exit_code == 0 and informed.exit_code == 0, plain.output + informed.output
    assert _final_equity(plain.output) != _final_equity(informed.output)
    assert "has no data for" not in informed.output  # the ETF needs no filing, only macro
    filings_only = ["--fundamentals", str(RECORDED / "filings.csv")]
    partial = runner.invoke(app, [*base[:4], "005930,035420", *base[9:], *filings_only])
    assert partial.exit_code == 0, partial.output
    assert "the fundamental analyst has no data for 035420:" in partial.output


def test_fundamentals_errors_are_one_clear_line(shared_dir: Path, tmp_path: Path) -> None:
    base = ["backtest", "--data", str(shared_dir / "market-data"), "--tickers", "005930",
            "--start", "2021-01-01", "--end", "2021-03-31"]  # fmt: skip
    filings = RECORDED / "filings.csv"
    sma = runner.invoke(app, [*base, "--fundamentals", str(filings)])
    assert sma.exit_code == 2
    assert "--fundamentals and --macro are for --strategy agents" in sma.output
    bad = tmp_path / "filings.csv"
    bad.write_text(filings.read_text().replace("2021-03-09", "2021-02-30"))
    broken = runner.invoke(app, [*base, "--strategy", "agents", "--fundamentals", str(bad)])
    assert broken.exit_code == 2
    assert f"{bad} line 6, column published_on: not a date" in broken.output
    missing = runner.invoke(
        app, [*base, "--strategy", "agents", "--macro", str(tmp_path / "absent.csv")]
    )
    assert missing.exit_code == 2 and "cannot read" in missing.output
    assert "absent.csv" in missing.output


def test_an_llm_replay_says_what_it_may_cost_and_stops_at_its_token_cap(
    shared_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import trader.cli.backtest as cli
    from agents.llm_cache import LLMAnswerCache, cached
    from tests.graphs.fake_chat import OpinionChatModel

    def fake_model(settings: Settings, cache_path: Path | None, stack: ExitStack) -> BaseChatModel:
        cache = LLMAnswerCache(tmp_path / "cache.sqlite")
        stack.callback(cache.close)
        return cached(OpinionChatModel(), cache)  # 150 tokens an answer

    monkeypatch.setattr(cli, "_chat_model", fake_model)
    args = ["backtest", "--data", str(shared_dir / "market-data"), "--tickers",
            "005930,000660", "--start", "2021-01-04", "--end", "2021-01-29", "--strategy",
            "agents", "--llm"]  # fmt: skip
    capped = runner.invoke(app, [*args, "--llm-max-tokens", "1500"])
    assert capped.exit_code == 3, capped.output
    # No --fundamentals: the fundamental analyst has nothing to read, so only the market
    # analyst talks (said once, not as 40 data_failed opinions).
    assert (
        "up to 40 conversations (2 tickers x 20 days for the market analyst, 0 for the "
        "fundamental analyst)" in capped.output
    )
    assert "token budget of 1,500 tokens is spent on 2021-01-" in capped.output
    # The answers of the first run are cached: without a cap the replay finishes.
    done = runner.invoke(app, args)
    assert done.exit_code == 0, done.output
    assert "--llm-max-tokens caps the spend" in done.output
    assert done.output.count("the fundamental analyst has no data for 005930, 000660") == 1
    assert "data_failed" not in done.output
    # 2021 is before the default model's training cutoff: the replay says it may be remembered
    assert "2021-01-04..2021-01-29 are before the model's training cutoff 2023-10-01" in " ".join(
        done.output.split()
    )
    no_llm = runner.invoke(app, [*args[:-1], "--llm-max-tokens", "10"])
    assert no_llm.exit_code == 2 and "--llm-max-tokens is for --llm runs" in no_llm.output


def _price_file(folder: Path, ticker: str, rows: list[str]) -> None:
    folder.mkdir(exist_ok=True)
    body = "date,open,high,low,close,volume\n" + "\n".join(rows) + "\n"
    (folder / f"{ticker}.csv").write_text(body, encoding="utf-8")


def _days(n: int, close: int = 1000, split_every: int = 0) -> list[str]:
    rows, price, day = [], close, datetime(2024, 1, 1, tzinfo=UTC)
    for i in range(n):
        day += timedelta(days=1)
        while day.weekday() >= 5:
            day += timedelta(days=1)
        if split_every and i and i % split_every == 0:
            price = price // 2 if (i // split_every) % 2 else price * 2
        rows.append(f"{day:%Y-%m-%d},{price},{price},{price},{price},100")
    return rows


def test_bad_price_cell_stops_the_run_naming_file_line_and_column(tmp_path: Path) -> None:
    _price_file(tmp_path, "111111", [*_days(3), "2024-01-08,0,10,0,5,1"])
    result = runner.invoke(
        app,
        ["backtest", "--data", str(tmp_path), "--tickers", "111111", "--start", "2024-01-01",
         "--end", "2024-02-01"],
    )  # fmt: skip
    assert result.exit_code == 2
    assert "111111.csv line 5, column open: not positive" in result.output


def test_loader_warnings_reach_the_user_one_line_each_summarised_when_many(
    tmp_path: Path,
) -> None:
    rows = _days(60)
    rows.insert(3, ",,,,,")
    _price_file(tmp_path, "111111", rows)
    _price_file(tmp_path, "222222", _days(60, split_every=3))  # 19 suspected splits
    result = runner.invoke(
        app,
        ["backtest", "--data", str(tmp_path), "--tickers", "111111,222222",
         "--start", "2024-01-01", "--end", "2024-12-31", "--fast", "2", "--slow", "5"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    out = result.output
    assert "111111.csv: 1 row without values dropped (line 5)" in out
    limit_lines = [line for line in out.splitlines() if "daily limit" in line]
    assert 1 <= len(limit_lines) <= 5
    assert all("222222.csv line" in line for line in limit_lines)
    assert re.search(r"and 1\d more price_limit warnings", out)


def test_the_command_hands_the_agents_the_risk_limits_of_the_settings(
    shared_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Settings are read once, by the command; the replay gets their limits as a live run does."""
    from trader.cli.backtest import environment
    from trader.cli.backtest_options import BacktestOptions, LLMOptions, Outputs

    monkeypatch.setenv("RISK_MAX_ORDER_KRW", "1000000")
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    options = BacktestOptions.parse(
        tickers="005930", start="2021-01-04", end="2021-01-29", strategy="agents", fast=10,
        slow=30, commission="0.00015", no_tax=False, parity=False, slippage_bps=None,
        slippage_ticks=None, data=shared_dir / "market-data", kis=False, llm=LLMOptions(),
        fundamentals=None, macro=None, etf="", kosdaq="", cash=10_000_000, save=False,
        db_url=None, outputs=Outputs(),
    )  # fmt: skip
    env = environment(options)
    assert env.limits.max_order_krw == 1_000_000
    assert env.database_url == f"sqlite:///{tmp_path / 'trader.db'}"


def test_without_data_the_agents_read_bars_and_annual_reports_from_the_database(
    sqlite_url: str, shared_dir: Path, tmp_path: Path
) -> None:
    migrate.upgrade(sqlite_url)
    engine = create_db_engine(sqlite_url)
    bars = CsvBarSource(shared_dir / "market-data").daily_bars(
        "005930", date(2020, 8, 1), date(2021, 3, 19)
    )
    rows = [
        {"ticker": "005930", "interval": "1d",
         "bar_time": datetime.combine(d.item(), datetime.min.time(), tzinfo=UTC),
         "open_krw": round(o), "high_krw": round(h), "low_krw": round(lo), "close_krw": round(c),
         "volume": int(v), "source": "kis", "adjustment": "adjusted",
         "fetched_at": datetime(2024, 6, 1, tzinfo=UTC)}
        for d, o, h, lo, c, v in zip(
            bars.dates, bars.open, bars.high, bars.low, bars.close, bars.volume, strict=True
        )
    ]  # fmt: skip
    try:
        with transaction(session_factory(engine)) as session:
            MarketDataRepository(session).save_bars(rows)
            FundamentalsRepository(session).save([annual_report_row(2020, FILED_FY2020, 1)])
    finally:
        engine.dispose()
    report = tmp_path / "report.html"
    base = ["backtest", "--start", "2021-03-02", "--end", "2021-03-19", "--strategy", "agents",
            "--db-url", sqlite_url]  # fmt: skip
    result = runner.invoke(app, [*base, "--tickers", "005930", "--report", str(report)])
    assert result.exit_code == 0, result.output
    assert "has no data for" not in result.output
    assert "econ=db:fundamentals" in report.read_text(encoding="utf-8")
    missing = runner.invoke(app, [*base, "--tickers", "005930,000660"])
    assert missing.exit_code == 2, missing.output
    assert "000660: no daily bars in the database" in missing.output
    assert "trader data collect --tickers 000660" in missing.output
