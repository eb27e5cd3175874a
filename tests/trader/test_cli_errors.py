"""Every user error is one line on stderr with a documented exit code, before anything runs.

These commands fail before any database, thread or network is touched, so they are cheap.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from trader.cli.console import EXIT_BUG, EXIT_CONFIGURATION
from trader.cli.main import app


def invoke(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def one_line(result: Result) -> str:
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert "Traceback" not in result.output
    return lines[0]


@pytest.mark.parametrize("tickers", ["ABC", "00593", "005930,ABC", "005930,삼성전자01"])
@pytest.mark.parametrize("command", [("session", "run", "--demo"), ("demo",), ("demo", "--fresh")])
def test_malformed_tickers_stop_before_a_session_exists(
    tickers: str, command: tuple[str, ...], tmp_path: Path
) -> None:
    result = invoke(*command, "--tickers", tickers)
    assert result.exit_code == EXIT_CONFIGURATION, result.output
    line = one_line(result)
    assert "--tickers" in line
    bad = tickers.split(",")[-1]
    assert repr(bad) in line or bad in line
    assert not (tmp_path / "data").exists(), "no database (and so no thread) may be created"


def test_a_malformed_watchlist_is_one_line_naming_the_variable_and_the_ticker(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("WATCHLIST", "005930,ABC")
    result = invoke("session", "run", "--demo")
    assert result.exit_code == EXIT_CONFIGURATION, result.output
    line = one_line(result)
    assert "WATCHLIST" in line and "ABC" in line and "6 characters" in line
    assert not (tmp_path / "data").exists()


@pytest.mark.parametrize("by", ["", "   ", "x" * 80])
def test_a_bad_approver_name_is_one_line(by: str, tmp_path: Path) -> None:
    result = invoke("approve", "default:2026-11-26:demo", "--all", "--by", by)
    assert result.exit_code == EXIT_CONFIGURATION, result.output
    assert "--by" in one_line(result)
    assert not (tmp_path / "data").exists()


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://u:hunter2@127.0.0.1:99999/db",
        "postgresql://u:hunter2@127.0.0.1:abc/db",
        "postgresql://u:hunter2@127.0.0.1:0/db",
    ],
)
@pytest.mark.parametrize(
    "command",
    [("db", "status"), ("db", "upgrade"), ("session", "run", "--demo"), ("session", "status")],
)
def test_a_database_url_with_a_bad_port_is_a_configuration_error(
    url: str, command: tuple[str, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", url)
    result = invoke(*command)
    assert result.exit_code == EXIT_CONFIGURATION, result.output
    line = one_line(result)
    assert "DATABASE_URL" in line and "port" in line
    assert "hunter2" not in result.output


def test_a_real_bug_shows_its_traceback_and_where_to_report_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken() -> object:
        raise RuntimeError("an unexpected state")

    monkeypatch.setattr("trader.cli.session.load_settings", broken)
    result = invoke("session", "run", "--demo")
    assert result.exit_code == EXIT_BUG, result.output
    assert "Traceback" in result.output and "RuntimeError: an unexpected state" in result.output
    assert "report" in result.output.splitlines()[-1]
