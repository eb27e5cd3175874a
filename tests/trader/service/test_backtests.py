"""`GET /api/backtests`: the runs `trader backtest --save` stored, as the dashboard lists them.

The run is a real backtest (the SMA strategy on Samsung Electronics, 2019-2023, KRX costs) over
`../shared/market-data`, saved into the service's database by the CLI.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tests.trader.service.conftest import AUTH
from trader.cli.main import app
from trader.settings import Settings


def test_saved_backtests_are_listed_newest_first_with_their_headline(
    client: TestClient, settings: Settings, shared_dir: Path
) -> None:
    assert client.get("/api/backtests").status_code == 401
    assert client.get("/api/backtests", headers=AUTH).json() == []
    base = [
        "backtest", "--data", str(shared_dir / "market-data"), "--tickers", "005930",
        "--start", "2019-01-01", "--end", "2023-12-31", "--save",
        "--db-url", settings.resolved_database_url,
    ]  # fmt: skip
    for extra in ([], ["--fast", "5", "--slow", "20"]):
        result = CliRunner().invoke(app, [*base, *extra])
        assert result.exit_code == 0, result.output
    first_line = result.output

    listed = client.get("/api/backtests", headers=AUTH)
    assert listed.status_code == 200, listed.text
    newest, oldest = listed.json()
    assert newest["id"] > oldest["id"]
    assert oldest["strategy"] == "sma" and oldest["tickers"] == ["005930"]
    # The first trading day of 2019 and the data's last day (its file ends on 2023-12-22).
    assert (oldest["start_date"], oldest["end_date"]) == ("2019-01-02", "2023-12-22")
    assert oldest["cost_mode"] == "krx" and oldest["initial_cash_krw"] == 10_000_000
    # The figure `trader backtest` prints for this run (see test_backtest_cli).
    assert oldest["final_equity_krw"] == 11_842_831
    assert Decimal(oldest["total_return_pct"]) == Decimal("18.43")
    assert oldest["closed_trades"] > 0
    assert Decimal(oldest["max_drawdown_pct"]) > 0
    assert oldest["benchmark_return_pct"] is not None and oldest["sharpe"] is not None
    assert f"final equity {newest['final_equity_krw']:,}" in first_line
    assert client.get("/api/backtests?limit=1", headers=AUTH).json() == [newest]
