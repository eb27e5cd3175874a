"""Evaluation runs as JSON files, one per run, under `<DATA_DIR>/evals/`.

Files rather than a table: a run is written once and read whole, two runs are compared side by
side, and a file can be committed or attached to a pull request as the evidence of a change.
"""

from __future__ import annotations

from pathlib import Path

from core.errors import ConfigurationError
from evals.agents_eval.run_model import EvalRun

RUNS_FOLDER = "evals"


class EvalStore:
    """Saves and loads runs in one folder."""

    def __init__(self, folder: Path) -> None:
        """Use `folder` (created on the first save)."""
        self.folder = folder

    def path_of(self, run_id: str) -> Path:
        """The file of a run."""
        return self.folder / f"{run_id}.json"

    def save(self, run: EvalRun) -> Path:
        """Write the run; return its file."""
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.path_of(run.run_id)
        path.write_text(run.model_dump_json(indent=2), encoding="utf-8")
        return path

    def load(self, run_id: str) -> EvalRun:
        """Read a run by id (or by the path of its file).

        Raises:
            ConfigurationError: no such run.
        """
        path = Path(run_id) if run_id.endswith(".json") else self.path_of(run_id)
        if not path.is_file():
            known = ", ".join(self.run_ids()[-5:]) or "none"
            raise ConfigurationError(f"no eval run {run_id!r} in {self.folder} (latest: {known})")
        return EvalRun.model_validate_json(path.read_text(encoding="utf-8"))

    def run_ids(self) -> list[str]:
        """Every stored run id, oldest first (ids start with their time)."""
        if not self.folder.is_dir():
            return []
        return sorted(p.stem for p in self.folder.glob("*.json"))
