import dataclasses
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from agents import market_analyst
from agents.analyst import Judgement
from agents.fake_llm import ScriptedChatModel
from db.models import Stance
from evals.agents_eval.compare import compare_runs
from evals.agents_eval.datasets import load_dataset
from evals.agents_eval.runner import EvalRequest, memorised, run_evaluation
from evals.agents_eval.scenarios import Dataset
from evals.agents_eval.store import EvalStore
from evals.agents_eval.synthetic import edge_dataset
from tools.indicators import IndicatorSnapshot

SCORES = {"direction_accuracy", "failure_handling", "risk_compliance", "citation", "trajectory",
          "cost", "latency", "calibration", "brier"}  # fmt: skip


def test_rules_mode_runs_offline_and_records_its_settings(no_network: list[object]) -> None:
    run = run_evaluation(EvalRequest(dataset=edge_dataset()))
    assert no_network == []
    assert set(run.scores) == SCORES
    for summary in run.scores.values():
        assert summary.mean is None or 0.0 <= summary.mean <= 1.0
    # the edge cases: halted, priceless and too-short tickers are left alone, orders obey limits
    assert run.scores["failure_handling"].mean == 1.0
    assert run.scores["risk_compliance"].mean == 1.0
    by_id = {e.scenario: e for e in run.examples}
    assert by_id["edge-gap_down"].scores["risk_compliance"] == 1.0  # the stop-loss sale
    # no LLM: nothing to check for citations or tool use
    assert run.scores["citation"].mean is None and run.scores["trajectory"].mean is None
    assert run.metrics["llm_calls"] == 0
    s = run.settings
    assert (s.mode, s.model, s.dataset, s.dataset_version) == ("rules", None, "edge", "edge-1")
    assert s.rules_versions["market_analyst"] == market_analyst.RULES_VERSION
    assert s.prompt_versions["market_analyst"] == market_analyst.PROMPT_VERSION_RULES
    assert run.memorised is None


def test_llm_mode_with_the_scripted_model_scores_citations_tools_and_cost(
    no_network: list[object],
) -> None:
    run = run_evaluation(EvalRequest(dataset=edge_dataset(), llm=ScriptedChatModel()))
    assert no_network == []
    assert run.settings.mode == "llm" and run.settings.model == "fake-model"
    assert run.settings.prompt_versions["market_analyst"] == market_analyst.PROMPT_VERSION_LLM
    assert run.scores["citation"].mean == 1.0
    assert run.scores["trajectory"].mean == 1.0
    assert run.metrics["llm_calls"] > 0 and run.metrics["tokens_per_decision"] > 0
    assert run.memorised is not None and run.memorised.scenarios == 0


def contrarian(
    rules: Callable[[IndicatorSnapshot], Judgement],
) -> Callable[[IndicatorSnapshot], Judgement]:
    """A deliberate rule change: the market rules, read the other way round."""
    flipped = {Stance.BUY: Stance.SELL, Stance.SELL: Stance.BUY, Stance.HOLD: Stance.HOLD}

    def judge(snap: IndicatorSnapshot) -> Judgement:
        verdict = rules(snap)
        return dataclasses.replace(verdict, stance=flipped[verdict.stance])

    return judge


def test_compare_flags_the_regression_of_a_deliberate_rule_change(
    no_network: list[object], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    store = EvalStore(tmp_path)
    baseline = run_evaluation(EvalRequest(dataset=edge_dataset()))
    rerun = run_evaluation(EvalRequest(dataset=edge_dataset()))
    assert compare_runs(baseline, rerun).regressions == []  # the same rules score the same

    monkeypatch.setattr(
        market_analyst, "rules_judgement", contrarian(market_analyst.rules_judgement)
    )
    monkeypatch.setattr(market_analyst, "RULES_VERSION", "market-rules-2-contrarian")
    changed = run_evaluation(EvalRequest(dataset=edge_dataset()))

    store.save(baseline)
    store.save(changed)
    result = compare_runs(store.load(baseline.run_id), store.load(changed.run_id), 0.05)
    flagged = {r.key for r in result.regressions}
    assert "direction_accuracy" in flagged
    row = next(r for r in result.rows if r.key == "direction_accuracy")
    assert row.a is not None and row.b is not None and row.b < row.a - 0.05
    assert "rules_versions" in result.changed_settings
    assert "market-rules-2-contrarian" in result.changed_settings["rules_versions"][1]
    # compliance and failure handling do not depend on the direction: not flagged
    assert not flagged & {"risk_compliance", "failure_handling"}


def test_scenarios_before_the_training_cutoff_are_flagged() -> None:
    edge = edge_dataset()
    as_history = [dataclasses.replace(s, kind="history") for s in edge.scenarios[:3]]
    data = Dataset("mixed", "t-1", "test", (*as_history, *edge.scenarios[3:]))
    flag = memorised(EvalRequest(dataset=data, llm=ScriptedChatModel(),
                                 training_cutoff=date(2024, 6, 1)))  # fmt: skip
    assert flag is not None and flag.scenarios == 3
    assert "3 of 3 real-history scenarios" in flag.note
    later = memorised(EvalRequest(dataset=data, llm=ScriptedChatModel(),
                                  training_cutoff=date(2020, 1, 1)))  # fmt: skip
    assert later is not None and later.scenarios == 0 and later.note == ""
    unknown = memorised(EvalRequest(dataset=data, llm=ScriptedChatModel()))
    assert unknown is not None and "unknown" in unknown.note
    assert memorised(EvalRequest(dataset=data)) is None  # the rules remember nothing


@pytest.mark.shared
def test_history_dataset_holds_only_what_was_known_and_the_real_outcome(
    shared_dir: Path,
) -> None:
    data = load_dataset("history", shared_dir / "market-data")
    assert data.version == "history-1" and len(data.scenarios) == 20
    first = data.by_id("history-2019-01-02")
    for bars in first.bars:
        assert bars.dates[-1].item() == date(2019, 1, 2)  # nothing after the scenario's day
    # Samsung closed 38,750 on 2019-01-02 and 39,600 five sessions later (2019-01-09)
    assert first.returns["005930"] == pytest.approx(39_600 / 38_750 - 1)
    assert Decimal(str(first.bars[0].close[-1])) == Decimal("38750.0")
