import importlib.util
import json
from pathlib import Path

from langgraph.pregel import Pregel

REPO_ROOT = Path(__file__).resolve().parents[2]


def _load(ref: str) -> object:
    path, attr = ref.split(":")
    spec = importlib.util.spec_from_file_location("lg_target", REPO_ROOT / path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, attr)


def test_langgraph_json_names_loadable_targets() -> None:
    config = json.loads((REPO_ROOT / "langgraph.json").read_text())
    graph = _load(config["graphs"]["trading_session"])
    assert isinstance(graph, Pregel)
    assert graph.checkpointer is None, "the Studio graph must not bring its own checkpointer"
    # Studio sends JSON as the run's context: the served graph brings its own SessionContext.
    assert graph.context_schema is None
    assert {"load_context", "approval", "executor", "report"} <= set(graph.nodes)
    assert callable(_load(config["checkpointer"]["path"]))
