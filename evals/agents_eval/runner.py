"""Run an evaluation with `langsmith.evaluate`: offline by default, uploaded with a key.

Offline (no LangSmith key): `langsmith.evaluate` runs the target and evaluators here with
`upload_runs=False` and a client that never connects (its server info is given, so it does not
even ask `/info`); nothing leaves the machine. With a key (`Upload`): the dataset is created
on LangSmith under ``<name>@<version>`` if missing, and the experiment, its runs and scores
are uploaded, the calibration summary included.

LLM answers go through the backtester's prompt-hash cache (the caller wraps the model with
`agents.llm_cache.cached`), so rerunning an unchanged prompt costs nothing.
"""

from __future__ import annotations

import uuid
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from langchain_core.language_models import BaseChatModel
from pydantic import SecretStr

from agents import fundamental, market_analyst
from agents.llm import model_name_of
from agents.risk.limits import RiskLimits
from agents.schemas import COMBINE_RULES_VERSION
from evals.agents_eval.calibration import calibration_scores, calls, summary_evaluator
from evals.agents_eval.evaluators import EvalThresholds, evaluators
from evals.agents_eval.records import DecisionRecord
from evals.agents_eval.run_model import (
    EvalRun,
    EvalSettings,
    ExampleScores,
    Memorised,
    ScoreSummary,
)
from evals.agents_eval.scenarios import Dataset
from evals.agents_eval.target import make_target
from tools.krx.costs import CostModel

LOCAL_ENDPOINT = "http://127.0.0.1:9"
"""Where the offline client points; it is never contacted (uploads off, server info given)."""


@dataclass(frozen=True)
class Upload:
    """Where to upload experiments (the shell builds it from `LANGSMITH_*`)."""

    api_key: SecretStr
    endpoint: str | None = None


@dataclass(frozen=True)
class EvalRequest:
    """What to evaluate and how."""

    dataset: Dataset
    llm: BaseChatModel | None = None
    limits: RiskLimits = field(default_factory=RiskLimits)
    cost_model: CostModel = field(default_factory=CostModel)
    thresholds: EvalThresholds = field(default_factory=EvalThresholds)
    training_cutoff: date | None = None
    """The model's training cutoff (None: unknown); scenarios before it are flagged."""
    upload: Upload | None = None
    progress: Callable[[int, int], None] | None = None


def _client(upload: Upload | None) -> Any:
    from langsmith import Client

    if upload is None:
        return Client(api_url=LOCAL_ENDPOINT, api_key="offline", info={}, auto_batch_tracing=False)
    return Client(api_url=upload.endpoint, api_key=upload.api_key.get_secret_value())


def settings_of(request: EvalRequest) -> EvalSettings:
    """The settings the run records."""
    llm = request.llm
    return EvalSettings(
        mode="llm" if llm is not None else "rules",
        model=model_name_of(llm) if llm is not None else None,
        prompt_versions={
            market_analyst.AGENT: market_analyst.PROMPT_VERSION_LLM
            if llm
            else market_analyst.PROMPT_VERSION_RULES,
            fundamental.AGENT: fundamental.PROMPT_VERSION_LLM
            if llm
            else fundamental.PROMPT_VERSION_RULES,
        },
        rules_versions={
            market_analyst.AGENT: market_analyst.RULES_VERSION,
            fundamental.AGENT: fundamental.RULES_VERSION,
            "combined": COMBINE_RULES_VERSION,
        },
        dataset=request.dataset.name,
        dataset_version=request.dataset.version,
        thresholds=request.thresholds.model_dump(mode="json"),
        limits=request.limits.model_dump(mode="json"),
        training_cutoff=request.training_cutoff,
        uploaded=request.upload is not None,
    )


def memorised(request: EvalRequest) -> Memorised | None:
    """Flag the real-history scenarios the model may remember (LLM mode only)."""
    if request.llm is None:
        return None
    history = [s for s in request.dataset.scenarios if s.kind == "history"]
    cutoff = request.training_cutoff
    if cutoff is None:
        note = "training cutoff unknown for this model (set LLM_TRAINING_CUTOFF)"
        return Memorised(cutoff=None, scenarios=0, note=note if history else "")
    before = [s for s in history if s.as_of < cutoff]
    note = (
        f"{len(before)} of {len(history)} real-history scenarios are dated before the model's "
        f"training cutoff {cutoff}: it may remember what happened next"
        if before
        else ""
    )
    return Memorised(cutoff=cutoff, scenarios=len(before), note=note)


def _examples(dataset: Dataset, upload: Upload | None, client: Any) -> Any:
    from langsmith.schemas import Example

    if upload is None:
        dataset_id = uuid.uuid5(uuid.NAMESPACE_URL, f"evals:{dataset.name}@{dataset.version}")
        return [
            Example(
                id=uuid.uuid5(dataset_id, s.id),
                dataset_id=dataset_id,
                inputs=s.inputs(),
                outputs=s.reference(),
            )
            for s in dataset.scenarios
        ]
    name = f"{dataset.name}@{dataset.version}"
    if not client.has_dataset(dataset_name=name):
        created = client.create_dataset(name, description=dataset.description)
        client.create_examples(
            dataset_id=created.id,
            examples=[{"inputs": s.inputs(), "outputs": s.reference()} for s in dataset.scenarios],
        )
    return name


def run_evaluation(request: EvalRequest) -> EvalRun:
    """Evaluate the agents on the dataset; return the run (the caller stores it)."""
    import langsmith
    from langsmith.run_helpers import tracing_context

    settings = settings_of(request)
    client = _client(request.upload)
    target = make_target(
        request.dataset, llm=request.llm, limits=request.limits, cost_model=request.cost_model
    )
    done = 0

    def counted(inputs: dict[str, Any]) -> dict[str, Any]:
        nonlocal done
        if request.upload is None:
            # Offline, LangChain's tracer inside the graph run would still post to the client.
            with tracing_context(enabled=False):
                out = target(inputs)
        else:
            out = target(inputs)
        done += 1
        if request.progress is not None:
            request.progress(done, len(request.dataset.scenarios))
        return out

    scorers = evaluators(request.limits, request.cost_model.commission_rate, request.thresholds)
    prefix = f"{request.dataset.name}-{settings.mode}"
    with warnings.catch_warnings():
        # `upload_runs` is marked beta; it is exactly the offline switch this runner needs.
        warnings.filterwarnings("ignore", message=".*upload_runs.* is in beta")
        results = langsmith.evaluate(
            counted,
            data=_examples(request.dataset, request.upload, client),
            evaluators=scorers,
            summary_evaluators=[summary_evaluator(request.thresholds)] if request.upload else None,
            metadata=settings.model_dump(mode="json"),
            experiment_prefix=prefix,
            max_concurrency=0,
            client=client,
            upload_runs=request.upload is not None,
        )
    return _collect(request, settings, results)


def _collect(request: EvalRequest, settings: EvalSettings, results: Any) -> EvalRun:
    examples: list[ExampleScores] = []
    outputs: list[dict[str, Any]] = []
    references: list[dict[str, Any]] = []
    for row in results:
        run, example = row["run"], row["example"]
        scenario = str(example.inputs.get("scenario"))
        scores: dict[str, float | None] = {}
        comments: dict[str, str] = {}
        for result in row["evaluation_results"]["results"]:
            value = result.score
            scores[result.key] = None if value is None else float(value)
            if result.comment:
                comments[result.key] = str(result.comment)
        if run.outputs and not run.error:
            outputs.append(run.outputs)
            references.append(dict(example.outputs or {}))
        examples.append(
            ExampleScores(scenario=scenario, scores=scores, comments=comments, error=run.error)
        )
    order = [e.scenario for e in examples]
    examples.sort(key=lambda e: order.index(e.scenario))
    keys: list[str] = []
    for e in examples:
        keys += [k for k in e.scores if k not in keys]
    table = {k: _summary([e.scores.get(k) for e in examples]) for k in keys}
    pairs = calls(outputs, references, request.thresholds)
    for key, value in calibration_scores(pairs).items():
        table[key] = ScoreSummary(mean=value, n=len(pairs) if value is not None else 0)
    created = datetime.now(UTC)
    return EvalRun(
        run_id=f"{created:%Y%m%d-%H%M%S}{created.microsecond // 1000:03d}-{settings.mode}-"
        f"{request.dataset.name}-{uuid.uuid4().hex[:4]}",
        created_at=created,
        settings=settings,
        scores=table,
        metrics=_metrics(outputs),
        examples=examples,
        memorised=memorised(request),
        experiment=getattr(results, "experiment_name", None),
    )


def _summary(values: list[float | None]) -> ScoreSummary:
    known = [v for v in values if v is not None]
    return ScoreSummary(mean=sum(known) / len(known) if known else None, n=len(known))


def _metrics(outputs: list[dict[str, Any]]) -> dict[str, float]:
    records = [DecisionRecord.model_validate(o) for o in outputs]
    decisions = sum(r.decisions for r in records) or 1
    tokens = sum(r.input_tokens + r.output_tokens for r in records)
    usd = sum((r.cost_usd for r in records), start=Decimal(0))
    return {
        "scenarios": float(len(records)),
        "decisions": float(decisions),
        "llm_calls": float(sum(r.llm_calls for r in records)),
        "tokens_per_decision": tokens / decisions,
        "usd_per_decision": float(usd) / decisions,
        "latency_s_per_decision": sum(r.latency_s for r in records) / decisions,
    }
