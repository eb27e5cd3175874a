"""Errors as HTTP statuses: each `core.errors` group says what to do; a bug shows no trace."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from agents.venue import VenueMismatchError
from core.clock import Clock
from core.errors import (
    BusyError,
    ConfigurationError,
    DatabaseUnavailableError,
    ExecutorBusyError,
    OperationalError,
    RejectedError,
    TemporaryError,
    TraderError,
)
from tests.trader.service.conftest import AUTH, service_settings
from trader.service.app import create_app
from trader.service.errors import NotFoundError, NotWaitingError, status_of


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (NotFoundError("no session"), 404),
        (NotWaitingError("finished"), 409),
        (ExecutorBusyError("t", "host:1:ab", "2026-11-26T01:01:00"), 409),
        (BusyError("busy"), 409),
        (VenueMismatchError("another venue"), 409),
        (ConfigurationError("bad answer"), 400),
        (RejectedError("refused"), 422),
        (TemporaryError("again"), 503),
        (DatabaseUnavailableError("127.0.0.1:5432/trader", "refused"), 503),
        (OperationalError("broker disagrees"), 502),
        (TraderError("other"), 500),
    ],
)
def test_each_group_has_its_status(error: TraderError, status: int) -> None:
    assert status_of(error) == status


def test_a_bug_answers_without_its_trace_or_message(
    tmp_path: Path, clock: Callable[[], Clock]
) -> None:
    app = create_app(service_settings(tmp_path, f"sqlite:///{tmp_path / 't.db'}"), clock=clock)

    @app.get("/api/boom")
    def boom() -> None:
        raise RuntimeError("password=hunter2 in a driver message")

    @app.get("/api/busy")
    def busy() -> None:
        raise ExecutorBusyError("default:2026-11-26:demo", "host:1:ab", "2026-11-26T01:01:00")

    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/api/boom", headers=AUTH)
        assert response.status_code == 500
        assert "hunter2" not in response.text and "Traceback" not in response.text
        assert response.json()["error"] == "InternalError"
        conflict = client.get("/api/busy", headers=AUTH)
        assert conflict.status_code == 409
        assert "lease held by host:1:ab" in conflict.json()["detail"]
