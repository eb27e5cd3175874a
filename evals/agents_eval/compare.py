"""Two runs side by side: per evaluator, the difference, and whether it is a regression.

Scores are better when higher, so a drop of more than `threshold` is a regression. A score
one run has and the other lacks (citation in rules mode) is shown, never flagged. The
settings that differ (rules or prompt versions, model, dataset version) are listed, since
they are what a regression is traced to.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from evals.agents_eval.run_model import EvalRun

DEFAULT_THRESHOLD = 0.05


class ScoreDiff(BaseModel):
    """One evaluator in both runs."""

    model_config = ConfigDict(frozen=True)

    key: str
    a: float | None
    b: float | None
    diff: float | None
    regression: bool


class Comparison(BaseModel):
    """Run B against run A."""

    model_config = ConfigDict(frozen=True)

    a: str
    b: str
    threshold: float
    rows: list[ScoreDiff]
    changed_settings: dict[str, tuple[str, str]]

    @property
    def regressions(self) -> list[ScoreDiff]:
        """The evaluators that dropped by more than the threshold."""
        return [r for r in self.rows if r.regression]


def compare_runs(a: EvalRun, b: EvalRun, threshold: float = DEFAULT_THRESHOLD) -> Comparison:
    """Compare run `b` with run `a` (the baseline)."""
    keys = list(a.scores) + [k for k in b.scores if k not in a.scores]
    rows = []
    for key in keys:
        sa, sb = a.scores.get(key), b.scores.get(key)
        va = sa.mean if sa else None
        vb = sb.mean if sb else None
        diff = vb - va if va is not None and vb is not None else None
        rows.append(
            ScoreDiff(
                key=key, a=va, b=vb, diff=diff, regression=diff is not None and diff < -threshold
            )
        )
    settings_a = a.settings.model_dump(mode="json")
    settings_b = b.settings.model_dump(mode="json")
    changed = {
        name: (str(settings_a.get(name)), str(settings_b.get(name)))
        for name in settings_a
        if settings_a.get(name) != settings_b.get(name)
    }
    return Comparison(
        a=a.run_id, b=b.run_id, threshold=threshold, rows=rows, changed_settings=changed
    )
