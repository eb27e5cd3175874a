import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from trader.cli.main import app

runner = CliRunner()


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.delenv("LANGSMITH_API_KEY", raising=False)
    monkeypatch.setenv("LLM_PROVIDER", "none")
    return tmp_path


def _stored(data_dir: Path) -> list[Path]:
    return sorted((data_dir / "evals").glob("*.json"))


def test_run_rules_then_scripted_llm_prints_the_table_stores_and_compares(data_dir: Path) -> None:
    rules = runner.invoke(app, ["evals", "run", "--dataset", "edge"])
    assert rules.exit_code == 0, rules.output
    assert "offline (nothing uploaded)" in rules.output
    for key in ("direction_accuracy", "risk_compliance", "citation", "calibration"):
        assert key in rules.output
    llm = runner.invoke(app, ["evals", "run", "--dataset", "edge", "--scripted-llm"])
    assert llm.exit_code == 0, llm.output
    assert "mode llm · model fake-model" in llm.output
    first, second = _stored(data_dir)
    stored = json.loads(second.read_text())
    assert stored["settings"]["mode"] == "llm"
    assert stored["scores"]["citation"]["mean"] == 1.0

    same = runner.invoke(app, ["evals", "compare", first.stem, first.stem])
    assert same.exit_code == 0, same.output
    assert "no score dropped" in same.output
    listed = runner.invoke(app, ["evals", "list"])
    assert first.stem in listed.output and second.stem in listed.output


def test_llm_mode_without_a_configured_model_says_what_to_set(data_dir: Path) -> None:
    result = runner.invoke(app, ["evals", "run", "--dataset", "edge", "--mode", "llm"])
    assert result.exit_code != 0
    assert "LLM_PROVIDER" in result.output


def test_history_without_market_data_points_to_the_edge_dataset(
    data_dir: Path, tmp_path: Path
) -> None:
    args = ["evals", "run", "--dataset", "history", "--market-data", str(tmp_path / "none")]
    result = runner.invoke(app, args)
    assert result.exit_code != 0
    assert "--dataset edge" in result.output


def test_compare_of_an_unknown_run_names_the_folder(data_dir: Path) -> None:
    result = runner.invoke(app, ["evals", "compare", "nope", "nada"])
    assert result.exit_code != 0
    assert "no eval run 'nope'" in result.output
