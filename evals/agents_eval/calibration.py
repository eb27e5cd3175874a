"""Calibration over a whole run: does higher conviction go with being right more often?

`calibration` is the probability that a right call carries a higher conviction than a wrong
one (the area under the ROC curve of conviction as a predictor of being right; ties count
half): 1 means conviction ranks every right call above every wrong one, 0.5 means it says
nothing, below 0.5 that confidence goes with mistakes. `brier` is 1 - the mean squared gap
between conviction and the outcome (1 right, 0 wrong). Both are None without both a right and
a wrong call (calibration) or without any call (brier).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from evals.agents_eval.evaluators import EvalThresholds, is_correct
from evals.agents_eval.records import DecisionRecord


def calls(
    outputs: Sequence[dict[str, Any]],
    references: Sequence[dict[str, Any]],
    thresholds: EvalThresholds,
) -> list[tuple[float, bool]]:
    """(conviction, right) of every ok signal with a known outcome."""
    out = []
    for output, reference in zip(outputs, references, strict=True):
        record = DecisionRecord.model_validate(output)
        returns = reference.get("returns", {})
        for s in record.signals:
            ret = returns.get(s.ticker)
            if s.status == "ok" and s.stance and s.conviction is not None and ret is not None:
                out.append((s.conviction, is_correct(s.stance, ret, thresholds.hold_band)))
    return out


def calibration_scores(pairs: Sequence[tuple[float, bool]]) -> dict[str, float | None]:
    """The run's `calibration` (AUC) and `brier` scores from (conviction, right) pairs."""
    right = [c for c, ok in pairs if ok]
    wrong = [c for c, ok in pairs if not ok]
    auc = None
    if right and wrong:
        wins = sum(1.0 if r > w else 0.5 if r == w else 0.0 for r in right for w in wrong)
        auc = wins / (len(right) * len(wrong))
    brier = 1 - sum((c - float(ok)) ** 2 for c, ok in pairs) / len(pairs) if pairs else None
    return {"calibration": auc, "brier": brier}


def summary_evaluator(thresholds: EvalThresholds) -> Any:
    """The calibration scores as a LangSmith summary evaluator (for uploaded experiments)."""

    def calibration(outputs: list[dict[str, Any]], reference_outputs: list[dict[str, Any]]) -> Any:
        scores = calibration_scores(calls(outputs, reference_outputs, thresholds))
        return {"results": [{"key": k, "score": v} for k, v in scores.items()]}

    return calibration
