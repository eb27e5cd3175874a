"""A stored evaluation run: the settings it ran with, and its scores per evaluator and scenario."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class EvalSettings(_Frozen):
    """Everything a run's scores depend on, recorded so two runs can be told apart."""

    mode: str
    """`rules` or `llm`."""
    model: str | None
    prompt_versions: dict[str, str]
    rules_versions: dict[str, str]
    dataset: str
    dataset_version: str
    thresholds: dict[str, Any]
    limits: dict[str, Any]
    training_cutoff: date | None = None
    uploaded: bool = False


class Memorised(_Frozen):
    """Whether the model may remember what followed some scenarios' dates."""

    cutoff: date | None
    scenarios: int
    """Real-history scenarios dated before the cutoff."""
    note: str


class ScoreSummary(_Frozen):
    """One evaluator's mean over the scenarios it applied to."""

    mean: float | None
    n: int


class ExampleScores(_Frozen):
    """One scenario's scores and the evaluators' comments."""

    scenario: str
    scores: dict[str, float | None]
    comments: dict[str, str] = Field(default_factory=dict)
    error: str | None = None


class EvalRun(_Frozen):
    """One evaluation run."""

    run_id: str
    created_at: datetime
    settings: EvalSettings
    scores: dict[str, ScoreSummary]
    metrics: dict[str, float]
    """Raw figures (not scores): tokens, USD and seconds per decision, decisions, LLM calls."""
    examples: list[ExampleScores]
    memorised: Memorised | None = None
    experiment: str | None = None
    """The LangSmith experiment's name (uploaded or local)."""
