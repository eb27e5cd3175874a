"""The datasets by name: `edge` (synthetic), `history` (real prices), `all` (both)."""

from __future__ import annotations

from pathlib import Path

from evals.agents_eval.history import history_dataset
from evals.agents_eval.scenarios import Dataset
from evals.agents_eval.synthetic import edge_dataset
from evals.backtest.data import DailyBarSource

DATASETS = ("all", "history", "edge")


def load_dataset(name: str, market_data: Path | DailyBarSource) -> Dataset:
    """Build the dataset `name`; `market_data` is the folder of real daily bars (or a source).

    Raises:
        ValueError: an unknown name.
        BarDataError: the history dataset's folder or files are missing.
    """
    if name == "edge":
        return edge_dataset()
    if name == "history":
        return history_dataset(market_data)
    if name == "all":
        history, edge = history_dataset(market_data), edge_dataset()
        return Dataset(
            name="all",
            version=f"{history.version}+{edge.version}",
            description=f"{history.description}; {edge.description}",
            scenarios=history.scenarios + edge.scenarios,
        )
    raise ValueError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)}")
