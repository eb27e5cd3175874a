"""The session status: an enum to branch on, a plain string in state and checkpoints."""

from __future__ import annotations

from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer

from agents.state import SessionState, SessionStatus, read_status


def test_a_status_from_an_old_checkpoint_reads_as_the_enum() -> None:
    state: SessionState = {"status": "awaiting_approval"}
    assert read_status(state) is SessionStatus.AWAITING_APPROVAL
    assert read_status({}) is None


def test_the_value_written_to_state_round_trips_a_checkpoint_as_a_plain_string() -> None:
    serde = JsonPlusSerializer()
    for status in SessionStatus:
        loaded = serde.loads_typed(serde.dumps_typed({"status": status.value}))
        assert type(loaded["status"]) is str and loaded["status"] == status
        assert read_status(loaded) is status
