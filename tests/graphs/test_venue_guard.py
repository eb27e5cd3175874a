"""The graph itself refuses to continue a thread on another server (Studio, the SDK, the runner).

Two demo markets in two data folders are two brokers: a thread proposed on one and resumed with
the other's context is refused before the approval is applied, whichever way it is resumed.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from langgraph.types import Command

from core.errors import ConfigurationError
from db.models import Run, RunStatus
from graphs.nodes.approval import ApprovalResponse
from graphs.runner import SessionRunner
from tests.graphs.session_harness import open_harness
from trader.wiring.context import open_session_context

pytestmark = pytest.mark.anyio


async def test_a_thread_resumed_on_another_server_is_refused(db_url: str, tmp_path: Path) -> None:
    async with open_harness(db_url, tmp_path / "a") as h:
        out = await h.trigger()
        assert out["status"] == "awaiting_approval"
        (run,) = await h.rows(Run)
        assert run.venue == "demo"
        assert run.venue_server == f"in-process:{(tmp_path / 'a' / 'demo-kis-sim.db').resolve()}"
        assert run.account_fingerprint and len(run.account_fingerprint) == 16

        elsewhere = h.settings.model_copy(update={"data_dir": tmp_path / "b"})
        async with open_session_context(elsewhere, demo=True, clock=h.clock) as other:
            # The runner checks before it streams anything: the run is not marked failed.
            runner = SessionRunner(h.graph, other)  # type: ignore[arg-type]
            with pytest.raises(ConfigurationError, match=r"server .*differ"):
                await runner.resume(h.thread_id, ApprovalResponse(approve_all=True))
            (run,) = await h.rows(Run)
            assert run.status is RunStatus.AWAITING_APPROVAL
            # Studio and the SDK resume the graph directly: the nodes refuse too.
            with pytest.raises(ConfigurationError, match=r"server .*differ"):
                await h.graph.ainvoke(
                    Command(resume={"approve_all": True}), h.config, context=other
                )
            assert await other.broker.executions(h.clock.now().date()) == []

        state = await h.graph.aget_state(h.config)
        assert state.next == ("approval",)
        assert await h.ctx.broker.executions(h.clock.now().date()) == []
