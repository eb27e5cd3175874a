"""`trader evals`: evaluate the agents' decisions, cost and behaviour, and compare two runs.

`run` builds the dataset, evaluates the agents (rules by default, the configured chat model
with `--mode llm`, or the offline scripted model with `--scripted-llm`), prints the score
table and stores the run under `<DATA_DIR>/evals/`. Offline unless `LANGSMITH_API_KEY` is
set (then the experiment is uploaded; `--offline` keeps it local anyway). `compare` prints
two runs' scores side by side and exits 1 when a score dropped by more than the threshold.
"""

from __future__ import annotations

from contextlib import ExitStack
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from core.errors import ConfigurationError
from evals.agents_eval.compare import Comparison, compare_runs
from evals.agents_eval.datasets import DATASETS, load_dataset
from evals.agents_eval.run_model import EvalRun
from evals.agents_eval.store import RUNS_FOLDER, EvalStore
from evals.backtest.files import BarDataError
from trader.cli.console import cli_errors, console

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from evals.agents_eval.runner import Upload
    from evals.backtest.data import DailyBarSource
    from trader.settings import Settings

app = typer.Typer(help="Evaluate the agents offline (and on LangSmith with a key).")


class Mode(StrEnum):
    """Who judges: the rules reasoners or the LLM."""

    RULES = "rules"
    LLM = "llm"


@app.command("run")
def run(
    mode: Annotated[Mode, typer.Option(help="rules, or llm (the configured chat model).")] = (
        Mode.RULES
    ),
    dataset: Annotated[str, typer.Option(help=f"One of {', '.join(DATASETS)}.")] = "all",
    scripted_llm: Annotated[
        bool,
        typer.Option(
            "--scripted-llm",
            help="LLM mode with the scripted offline chat model (agents/fake_llm.py): no key.",
        ),
    ] = False,
    market_data: Annotated[
        Path | None,
        typer.Option(help="Folder of real daily bars (default: EVALS_MARKET_DATA)."),
    ] = None,
    from_db: Annotated[
        bool,
        typer.Option(
            "--from-db",
            help="Build the history scenarios from the database's bars (trader data collect).",
        ),
    ] = False,
    offline: Annotated[
        bool, typer.Option("--offline", help="Do not upload even when LANGSMITH_API_KEY is set.")
    ] = False,
) -> None:
    """Evaluate the agents on a dataset, print the score table and store the run."""
    from agents.llm import training_cutoff
    from agents.llm_cache import CACHE_FILE, LLMAnswerCache, cached
    from evals.agents_eval.runner import EvalRequest, run_evaluation
    from trader.settings import load_settings

    with cli_errors():
        settings = load_settings()
        try:
            data = load_dataset(dataset, _bars(settings, market_data, from_db))
        except (BarDataError, ValueError) as exc:
            raise ConfigurationError(
                f"{exc} (use --dataset edge, which needs no market data, or --market-data)"
            ) from exc
        with ExitStack() as stack:
            llm: BaseChatModel | None = None
            cutoff = None
            if mode is Mode.LLM or scripted_llm:
                llm = _scripted() if scripted_llm else _configured(settings)
                if not scripted_llm:
                    cache = LLMAnswerCache(settings.data_dir / CACHE_FILE)
                    stack.callback(cache.close)
                    console.print(f"LLM answers cached in {cache.path} ({len(cache)} stored)")
                    llm = cached(llm, cache)
                    cutoff = training_cutoff(settings.llm_model, settings.llm_training_cutoff)
            upload = None if offline else _upload(settings)
            console.print(
                f"evaluating {data.name}@{data.version} ({len(data.scenarios)} scenarios), "
                f"{'llm' if llm else 'rules'} mode, "
                f"{'uploading to LangSmith' if upload else 'offline (nothing uploaded)'}"
            )
            result = run_evaluation(
                EvalRequest(
                    dataset=data,
                    llm=llm,
                    limits=settings.risk_limits,
                    training_cutoff=cutoff,
                    upload=upload,
                )
            )
        path = EvalStore(settings.data_dir / RUNS_FOLDER).save(result)
        print_run(result)
        console.print(f"run {result.run_id} stored in {path}")


def _bars(settings: Settings, folder: Path | None, from_db: bool) -> Path | DailyBarSource:
    """Where the history scenarios' bars come from: the folder, or the database's bars."""
    if not from_db:
        return folder or settings.evals_market_data
    if folder is not None:
        raise ConfigurationError("give --market-data or --from-db, not both")
    from db import migrate
    from db.engine import create_db_engine, session_factory
    from evals.backtest.data import DatabaseBarSource

    url = settings.resolved_database_url
    migrate.upgrade(url)
    return DatabaseBarSource(session_factory(create_db_engine(url)))


def _scripted() -> BaseChatModel:
    from agents.fake_llm import ScriptedChatModel

    return ScriptedChatModel(tool_first=True)


def _configured(settings: Settings) -> BaseChatModel:
    from agents.llm import build_chat_model
    from trader.wiring.configs import llm_config

    model = build_chat_model(llm_config(settings))
    if model is None:
        raise ConfigurationError(
            "--mode llm needs LLM_PROVIDER (openai or openai-compatible), or --scripted-llm"
        )
    return model


def _upload(settings: Settings) -> Upload | None:
    from evals.agents_eval.runner import Upload

    if settings.langsmith_api_key is None:
        return None
    return Upload(api_key=settings.langsmith_api_key, endpoint=settings.langsmith_endpoint)


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def print_run(result: EvalRun) -> None:
    """Print a run's settings, score table and figures."""
    s = result.settings
    versions = ", ".join(f"{k} {v}" for k, v in s.prompt_versions.items())
    rules = ", ".join(f"{k} {v}" for k, v in s.rules_versions.items())
    console.print(
        f"dataset {s.dataset}@{s.dataset_version} · mode {s.mode}"
        + (f" · model {s.model}" if s.model else "")
        + f"\nprompts: {versions}\nrules: {rules}",
        highlight=False,
    )
    table = Table(title="scores (higher is better)")
    table.add_column("evaluator")
    table.add_column("score", justify="right")
    table.add_column("scored", justify="right")
    for key, summary in result.scores.items():
        table.add_row(key, _fmt(summary.mean), str(summary.n))
    console.print(table)
    m = result.metrics
    console.print(
        f"{int(m['decisions'])} decisions, {int(m['llm_calls'])} LLM calls; per decision: "
        f"{m['tokens_per_decision']:,.0f} tokens, {m['usd_per_decision']:.6f} USD, "
        f"{m['latency_s_per_decision']:.3f} s",
        highlight=False,
    )
    failed = [e for e in result.examples if e.error]
    for example in failed:
        console.print(f"{example.scenario} failed: {example.error}", style="red")
    if result.memorised is not None and result.memorised.note:
        console.print(f"memorised history: {result.memorised.note}", style="yellow")


@app.command("compare")
def compare(
    run_a: Annotated[str, typer.Argument(help="The baseline run id (or its .json file).")],
    run_b: Annotated[str, typer.Argument(help="The run to judge against it.")],
    threshold: Annotated[
        float | None,
        typer.Option(help="Flag a drop larger than this (default: EVALS_REGRESSION_THRESHOLD)."),
    ] = None,
) -> None:
    """Print both runs' scores with the difference; exit 1 when a score regressed."""
    from trader.settings import load_settings

    with cli_errors():
        settings = load_settings()
        store = EvalStore(settings.data_dir / RUNS_FOLDER)
        result = compare_runs(
            store.load(run_a),
            store.load(run_b),
            threshold if threshold is not None else settings.evals_regression_threshold,
        )
    print_comparison(result)
    if result.regressions:
        raise typer.Exit(1)


def print_comparison(result: Comparison) -> None:
    """Print the per-evaluator table of a comparison and what changed between the runs."""
    table = Table(title=f"{result.b} against {result.a}")
    table.add_column("evaluator")
    table.add_column("A", justify="right")
    table.add_column("B", justify="right")
    table.add_column("B - A", justify="right")
    table.add_column("")
    for row in result.rows:
        diff = "—" if row.diff is None else f"{row.diff:+.3f}"
        flag = "[bold red]REGRESSION[/]" if row.regression else ""
        table.add_row(row.key, _fmt(row.a), _fmt(row.b), diff, flag)
    console.print(table)
    for name, (a, b) in result.changed_settings.items():
        console.print(f"changed {name}: {a} -> {b}", highlight=False)
    if result.regressions:
        names = ", ".join(r.key for r in result.regressions)
        console.print(
            f"[bold red]{len(result.regressions)} regression(s)[/] beyond {result.threshold}: "
            f"{names}"
        )
    else:
        console.print(f"no score dropped by more than {result.threshold}")


@app.command("list")
def list_runs() -> None:
    """List the stored runs, oldest first."""
    from trader.settings import load_settings

    with cli_errors():
        store = EvalStore(load_settings().data_dir / RUNS_FOLDER)
        for run_id in store.run_ids():
            console.print(run_id, highlight=False)
