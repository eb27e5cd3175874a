import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from trader import __version__
from trader.cli.main import app

runner = CliRunner()


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"trader {__version__}"


def test_db_upgrade_then_status_on_the_default_sqlite_file(tmp_path: Path) -> None:
    status = runner.invoke(app, ["db", "status"])
    assert status.exit_code == 1 and "needs upgrade" in status.output

    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "data" / "trader.db").is_file()
    assert re.search(r"is at revision \w+", result.output)

    status = runner.invoke(app, ["db", "status"])
    assert status.exit_code == 0 and "up to date" in status.output


def test_db_upgrade_on_postgres(pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", pg_url)
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    assert "up to date" in runner.invoke(app, ["db", "status"]).output


def test_unreachable_database_is_one_line_naming_host_and_port(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://trader:hunter2@127.0.0.1:1/trading")
    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 3
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert "127.0.0.1:1" in lines[0] and "cannot reach the database" in lines[0]
    assert "hunter2" not in result.output
    assert "Traceback" not in result.output


def test_bad_configuration_is_one_line_and_exit_2(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRADING_MODE", "kis-real")
    result = runner.invoke(app, ["db", "status"])
    assert result.exit_code == 2
    assert "KIS_APP_KEY" in result.output and len(result.output.strip().splitlines()) == 1
