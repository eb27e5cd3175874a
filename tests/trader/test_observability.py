"""LANGSMITH_* and LOG_LEVEL from `.env` take effect in the CLI, and logs never carry secrets."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from trader.cli.main import app

LANGSMITH = ("LANGSMITH_TRACING", "LANGSMITH_API_KEY", "LANGSMITH_ENDPOINT", "LANGSMITH_PROJECT")


@pytest.fixture(autouse=True)
def _restore(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI exports to this process's environment; undo that after each test."""
    for name in (*LANGSMITH, "LANGCHAIN_TRACING_V2"):
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)
    for name in ("agents", "graphs", "tools", "db", "trader", "evals", "bench", ""):
        logger = logging.getLogger(name)
        monkeypatch.setattr(logger, "level", logger.level)
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", list(root.handlers))


def test_langsmith_settings_from_dotenv_reach_the_sdk(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(
        "LANGSMITH_TRACING=true\nLANGSMITH_API_KEY=lsv2-dotenv-key-7781\n"
        "LANGSMITH_ENDPOINT=http://127.0.0.1:9/ls\nLANGSMITH_PROJECT=krx-desk\n"
    )
    result = CliRunner().invoke(app, ["session", "status"])
    assert result.exit_code == 0, result.output
    assert os.environ["LANGSMITH_TRACING"] == "true"
    assert os.environ["LANGSMITH_API_KEY"] == "lsv2-dotenv-key-7781"
    assert os.environ["LANGSMITH_ENDPOINT"] == "http://127.0.0.1:9/ls"
    assert os.environ["LANGSMITH_PROJECT"] == "krx-desk"
    from langsmith import utils

    assert utils.tracing_is_enabled()
    assert "lsv2-dotenv-key-7781" not in result.output


def test_tracing_is_off_unless_switched_on(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("LANGSMITH_API_KEY=lsv2-dotenv-key-7781\n")
    result = CliRunner().invoke(app, ["session", "status"])
    assert result.exit_code == 0, result.output
    assert os.environ["LANGSMITH_TRACING"] == "false"


@pytest.mark.parametrize("level", ["DEBUG", "WARNING", "error"])
def test_log_level_from_dotenv_sets_the_application_loggers(level: str, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(f"LOG_LEVEL={level}\n")
    result = CliRunner().invoke(app, ["session", "status"])
    assert result.exit_code == 0, result.output
    for name in ("agents", "graphs", "tools", "db", "trader"):
        assert logging.getLogger(name).getEffectiveLevel() == getattr(logging, level.upper())


def test_log_lines_go_to_stderr_at_the_level_and_mask_configured_secrets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".env").write_text("LOG_LEVEL=INFO\nOPENAI_API_KEY=sk-dotenv-openai-5521\n")

    def status(*args: object, **kwargs: object) -> list[object]:
        logging.getLogger("graphs.runner").info("using key sk-dotenv-openai-5521 for %s", "x")
        logging.getLogger("graphs.runner").debug("a debug line")
        return []

    monkeypatch.setattr("trader.cli.session.recent_runs", status)
    result = CliRunner().invoke(app, ["session", "status"])
    assert result.exit_code == 0, result.output
    assert "using key *** for x" in result.output
    assert "sk-dotenv-openai-5521" not in result.output and "a debug line" not in result.output


def test_a_bad_log_level_is_a_configuration_error(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("LOG_LEVEL=LOUD\n")
    result = CliRunner().invoke(app, ["session", "status"])
    assert result.exit_code == 2, result.output
    assert "LOG_LEVEL" in result.output and len(result.output.strip().splitlines()) == 1
