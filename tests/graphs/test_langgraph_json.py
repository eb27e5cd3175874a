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
    assert callable(_load(config["checkpointer"]["path"]))


def test_placeholder_graph_resolves_the_session_context() -> None:
    graph = _load(
        json.loads((REPO_ROOT / "langgraph.json").read_text())["graphs"]["trading_session"]
    )
    out = graph.invoke({"session_date": "2024-12-31"})  # type: ignore[attr-defined]
    assert out == {
        "session_date": "2024-12-31",
        "is_trading_day": False,
        "status": "KRX is closed on this date",
    }
    out = graph.invoke({"session_date": "2024-12-30"})  # type: ignore[attr-defined]
    assert out["is_trading_day"] is True
